package controller

import (
	"fmt"
	"time"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// action is one step of a reconcile. The reconcile asks decide for the next step, performs
// it (act.go) and asks again, until a step that ends the reconcile: the one whose outcome
// the status reports. docs/architecture.md draws the states and transitions.
type action int

const (
	// actConflict ends the reconcile: the Secret name is taken by something else.
	actConflict action = iota + 1
	// actAwaitLogin ends the reconcile: a person must log in (reason says why).
	actAwaitLogin
	// actIdentify validates an imported token with the login (Instagram: /me).
	actIdentify
	// actUpgrade trades an imported token of unknown expiry for a long-lived one.
	actUpgrade
	// actAdopt stores an identified import in the Secret, as igconnect's.
	actAdopt
	// actStore writes the Secret to hold the record: a hand-edited key repaired, a changed
	// secretTemplate applied, a pin mismatch recorded.
	actStore
	// actReject records on the Secret that the provider rejected the token.
	actReject
	// actEstimate records an expiry bounded by the provider's "too early" refusal.
	actEstimate
	// actRenew renews a stored token (Instagram: a refresh) and stores the result.
	actRenew
	// actRetry ends the reconcile: a call failed for a reason worth retrying; back off.
	actRetry
	// actWait ends the reconcile: the token is usable; wait until its renewal or its
	// validation is due.
	actWait
	// actValidate proves a stored token still works with one cheap call (Instagram: /me),
	// on the validation schedule or an app's rejection report (validate.go).
	actValidate
)

var actionNames = map[action]string{
	actConflict: "Conflict", actAwaitLogin: "AwaitLogin", actIdentify: "Identify", actUpgrade: "Upgrade",
	actAdopt: "Adopt", actStore: "Store", actReject: "Reject", actEstimate: "Estimate", actRenew: "Renew",
	actRetry: "Retry", actWait: "Wait", actValidate: "Validate",
}

func (a action) String() string { return actionNames[a] }

// step is decide's answer: an action and what it needs.
type step struct {
	action action
	// reason and message are the Ready reason and message of actConflict, actAwaitLogin
	// and actReject.
	reason, message string
	// at is when the renewal is due (actWait).
	at time.Time
	// validateAt is when the next validation is due (actWait); zero when none is scheduled.
	validateAt time.Time
	// quiet is set on an actAwaitLogin that must not be announced by an event.
	quiet bool
}

// secretState is what spec.secretName names, seen from the connection.
type secretState int

const (
	// secretMissing: there is no Secret of that name.
	secretMissing secretState = iota
	// secretHeld: the connection's Secret, or one it may adopt because it holds a token.
	secretHeld
	// secretForeign: another object controls it, or another connection claims it.
	secretForeign
	// secretNotAToken: nothing owns it, and it holds no token: someone's Secret that merely
	// has the name.
	secretNotAToken
)

// callKind names the login call that failed.
type callKind int

const (
	callIdentify callKind = iota + 1
	callUpgrade
	callRenew
	callValidate
)

// callFailure is a failed call of this reconcile and what the login says it means.
type callFailure struct {
	call callKind
	login.Failure
	// text is the error's message, free of secrets, for conditions.
	text string
}

// tokenState is everything decide looks at: what the Secret holds, what this reconcile has
// done so far, and the connection's settings. The scope builds it (scope.state).
type tokenState struct {
	// Secret is what spec.secretName names; Rec is what it holds or is to hold.
	Secret secretState
	Rec    tokensecret.Record
	// Imported is true while Rec is a token a person put in the Secret that igconnect has
	// not adopted yet; Identified and UpgradeTried say how far its import got.
	Imported, Identified, UpgradeTried bool
	// InSync is true when the Secret holds exactly Rec, as igconnect writes it.
	InSync bool
	// Failure is the call of this reconcile that failed, if any.
	Failure *callFailure
	// Renewal is the login's schedule for Rec.
	Renewal login.RefreshDecision
	// Validation is the validation schedule for Rec (login.Policy.DecideValidation).
	Validation login.ValidationDecision
	// RenewalKept is true when an earlier attempt renewed Rec's token but could not store
	// the result (pendingRefreshes): the token is renewed, not expired.
	RenewalKept bool
	// RejectedMessage is the Ready message recorded with Rec's rejection (the provider's
	// words), if any.
	RejectedMessage string
	// Now is the reconcile's clock reading.
	Now time.Time
	// SecretName and Pin are spec.secretName and spec.instagramUserID.
	SecretName, Pin string
	// HadAccount is true when status names an account: the connection had a token.
	HadAccount bool
	// LoginCreated is true for a connection a login without a ticket created together
	// with its Secret, NeverReady while its status has no Ready condition yet.
	LoginCreated, NeverReady bool
}

// decide returns the next step for the token state in: a pure function, so every
// transition is table-tested without a cluster (decide_test.go).
func decide(in tokenState) step {
	switch in.Secret {
	case secretForeign:
		return step{action: actConflict, reason: igv1.ReasonSecretConflict, message: fmt.Sprintf(
			"Secret %s belongs to another object; igconnect leaves it untouched: choose another spec.secretName",
			in.SecretName)}
	case secretNotAToken:
		return step{action: actConflict, reason: igv1.ReasonSecretConflict, message: fmt.Sprintf(
			"Secret %s exists and holds no access_token; igconnect adopts an existing Secret only to import the "+
				"token in it: choose another spec.secretName", in.SecretName)}
	}
	if f := in.Failure; f != nil {
		return decideAfterFailure(in, f)
	}
	rec := in.Rec
	switch {
	case !rec.HasToken():
		return awaitFirstLogin(in)
	case in.Imported:
		return decideImport(in)
	case !in.InSync:
		return step{action: actStore}
	}
	return decideManaged(in)
}

// decideAfterFailure handles a failed call: a rejection is recorded and waits for a person;
// a renewal refused as too early bounds an unknown expiry; anything else is retried.
func decideAfterFailure(in tokenState, f *callFailure) step {
	switch {
	case f.Rejected != "" && f.call == callIdentify:
		return step{action: actReject, reason: f.Rejected, message: "Instagram rejected the imported token: " + f.text}
	case f.Rejected != "":
		return step{action: actReject, reason: f.Rejected, message: rejectionMessage(f.Rejected) + ": " + f.text}
	case f.call == callRenew && f.TooEarly && in.Rec.ExpiresAt.IsZero():
		return step{action: actEstimate}
	default:
		return step{action: actRetry}
	}
}

// awaitFirstLogin asks for the login that provides a token: the Secret has none.
func awaitFirstLogin(in tokenState) step {
	if in.Rec.Rejected == igv1.ReasonDeauthorized {
		return step{action: actAwaitLogin, reason: igv1.ReasonDeauthorized, message: "the Instagram user removed the " +
			"app and the token was removed from the Secret; log in again through status.authorizationURL to reconnect"}
	}
	if in.Secret == secretMissing && in.HadAccount {
		return step{action: actAwaitLogin, reason: igv1.ReasonAwaitingAuthorization, message: fmt.Sprintf(
			"the token Secret %s was deleted; open status.authorizationURL and log in again", in.SecretName)}
	}
	return step{action: actAwaitLogin, reason: igv1.ReasonAwaitingAuthorization,
		message: "no token yet: open status.authorizationURL and log in with the Instagram account",
		// A login without a ticket creates the connection and then its Secret: a reconcile
		// in between finds no Secret, but the token is on its way and no person is needed.
		quiet: in.LoginCreated && in.NeverReady && in.Secret == secretMissing}
}

// decideImport adopts a token a person put in the Secret: identify it, upgrade it if its
// expiry is unknown (only the upgrade tells a short-lived token), and store it.
func decideImport(in tokenState) step {
	switch {
	case !in.Identified:
		return step{action: actIdentify}
	case in.Rec.Rejected == "" && in.Rec.ExpiresAt.IsZero() && !in.UpgradeTried:
		return step{action: actUpgrade}
	default:
		return step{action: actAdopt}
	}
}

// decideManaged handles a token igconnect stored: report one that needs a person, renew it
// when due, validate it when that is due (a renewal proves the token works too, so it comes
// first), and otherwise wait.
func decideManaged(in tokenState) step {
	rec := in.Rec
	switch {
	case rec.Rejected == igv1.ReasonAccountMismatch:
		return step{action: actAwaitLogin, reason: igv1.ReasonAccountMismatch, message: fmt.Sprintf(
			"the token in Secret %s belongs to %s, but spec.instagramUserID is %s; log in with that account",
			in.SecretName, describeAccount(rec.Username, rec.UserID), in.Pin)}
	case rec.Rejected != "":
		message := in.RejectedMessage
		if message == "" {
			message = rejectionMessage(rec.Rejected)
		}
		return step{action: actAwaitLogin, reason: rec.Rejected, message: message}
	case !rec.ExpiresAt.IsZero() && !rec.ExpiryEstimated && !in.Now.Before(rec.ExpiresAt) && !in.RenewalKept:
		return step{action: actAwaitLogin, reason: igv1.ReasonTokenExpired, message: fmt.Sprintf(
			"the token expired at %s without a refresh; Instagram cannot revive it: log in again",
			formatTime(rec.ExpiresAt))}
	case in.Renewal.Due:
		return step{action: actRenew}
	case in.Validation.Due:
		return step{action: actValidate}
	default:
		return step{action: actWait, at: in.Renewal.At, validateAt: in.Validation.At}
	}
}
