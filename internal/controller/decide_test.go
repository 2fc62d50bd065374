package controller

import (
	"strings"
	"testing"
	"time"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// TestDecide covers every transition of the token state machine (docs/architecture.md):
// one case per arrow of the diagram, no cluster needed.
func TestDecide(t *testing.T) {
	token := tokensecret.Record{AccessToken: "IGAAtoken", UserID: "17841400000000001", Username: "acme",
		IssuedAt: t0.Add(-10 * day), ExpiresAt: t0.Add(50 * day)}
	with := func(change func(*tokensecret.Record)) tokensecret.Record {
		rec := token
		change(&rec)
		return rec
	}
	managed := func(change func(*tokenState)) tokenState {
		in := tokenState{Secret: secretHeld, Rec: token, InSync: true, Now: t0, SecretName: "acme-token",
			Renewal: login.RefreshDecision{At: t0.Add(30 * day)}}
		if change != nil {
			change(&in)
		}
		return in
	}
	imported := func(change func(*tokenState)) tokenState {
		return managed(func(in *tokenState) {
			in.Imported, in.InSync, in.Renewal = true, false, login.RefreshDecision{}
			in.Rec = with(func(r *tokensecret.Record) { r.ExpiresAt, r.IssuedAt = time.Time{}, time.Time{} })
			if change != nil {
				change(in)
			}
		})
	}
	noToken := func(change func(*tokenState)) tokenState {
		in := tokenState{Secret: secretMissing, Now: t0, SecretName: "acme-token", NeverReady: true}
		if change != nil {
			change(&in)
		}
		return in
	}
	failed := func(call callKind, f login.Failure) func(*tokenState) {
		return func(in *tokenState) { in.Failure = &callFailure{call: call, Failure: f, text: "(#190) logged out"} }
	}
	rejected := login.Failure{Rejected: igv1.ReasonReauthorizationRequired}
	throttled := login.Failure{Degraded: igv1.ReasonRateLimited, Transient: true}
	tooEarly := login.Failure{Degraded: igv1.ReasonInstagramUnavailable, Transient: true, TooEarly: true}

	cases := []struct {
		name string
		in   tokenState
		want step
		// message, when set, must be contained in the step's message.
		message string
	}{
		// The Secret's name is taken.
		{"a Secret another object owns: conflict", tokenState{Secret: secretForeign, SecretName: "x"},
			step{action: actConflict, reason: igv1.ReasonSecretConflict}, "belongs to another object"},
		{"an unowned Secret without a token: conflict", tokenState{Secret: secretNotAToken, SecretName: "x"},
			step{action: actConflict, reason: igv1.ReasonSecretConflict}, "holds no access_token"},

		// No token: a person must log in.
		{"no Secret yet: await the first login", noToken(nil),
			step{action: actAwaitLogin, reason: igv1.ReasonAwaitingAuthorization}, "no token yet"},
		{"the Secret was deleted: await a new login", noToken(func(in *tokenState) { in.HadAccount, in.NeverReady = true, false }),
			step{action: actAwaitLogin, reason: igv1.ReasonAwaitingAuthorization}, "was deleted"},
		{"an empty Secret of the connection: await the first login",
			noToken(func(in *tokenState) { in.Secret, in.HadAccount = secretHeld, true }),
			step{action: actAwaitLogin, reason: igv1.ReasonAwaitingAuthorization}, "no token yet"},
		{"deauthorized: await a new login",
			noToken(func(in *tokenState) { in.Secret, in.Rec.Rejected = secretHeld, igv1.ReasonDeauthorized }),
			step{action: actAwaitLogin, reason: igv1.ReasonDeauthorized}, "removed the app"},
		{"created by a login whose Secret is on its way: await quietly",
			noToken(func(in *tokenState) { in.LoginCreated = true }),
			step{action: actAwaitLogin, reason: igv1.ReasonAwaitingAuthorization, quiet: true}, ""},
		{"created by a login, but it was Ready before: not quiet",
			noToken(func(in *tokenState) { in.LoginCreated, in.NeverReady = true, false }),
			step{action: actAwaitLogin, reason: igv1.ReasonAwaitingAuthorization}, ""},

		// A token a person put in the Secret.
		{"an import: identify it", imported(nil), step{action: actIdentify}, ""},
		{"an identified import of unknown expiry: upgrade it",
			imported(func(in *tokenState) { in.Identified = true }), step{action: actUpgrade}, ""},
		{"an identified import whose upgrade was tried: adopt it",
			imported(func(in *tokenState) { in.Identified, in.UpgradeTried = true, true }), step{action: actAdopt}, ""},
		{"an identified import of known expiry: adopt it",
			imported(func(in *tokenState) { in.Identified, in.Rec.ExpiresAt = true, t0.Add(day) }), step{action: actAdopt}, ""},
		{"an identified import of another account: adopt it as rejected, no upgrade",
			imported(func(in *tokenState) { in.Identified, in.Rec.Rejected = true, igv1.ReasonAccountMismatch }),
			step{action: actAdopt}, ""},
		{"an import Instagram rejects: record the rejection",
			imported(failed(callIdentify, rejected)),
			step{action: actReject, reason: igv1.ReasonReauthorizationRequired}, "rejected the imported token: (#190)"},
		{"an import that could not be identified yet: retry",
			imported(failed(callIdentify, throttled)), step{action: actRetry}, ""},
		{"an import whose upgrade could not be tried yet: retry",
			imported(func(in *tokenState) {
				in.Identified = true
				failed(callUpgrade, throttled)(in)
			}), step{action: actRetry}, ""},

		// A token igconnect stored.
		{"a Secret that differs from its record: store the record",
			managed(func(in *tokenState) { in.InSync = false }), step{action: actStore}, ""},
		{"a token of another account than the pin: await a login with that account",
			managed(func(in *tokenState) { in.Rec.Rejected, in.Pin = igv1.ReasonAccountMismatch, "17841499999999999" }),
			step{action: actAwaitLogin, reason: igv1.ReasonAccountMismatch}, "spec.instagramUserID is 17841499999999999"},
		{"a rejected token: await a login, keeping Instagram's words",
			managed(func(in *tokenState) {
				in.Rec.Rejected, in.RejectedMessage = igv1.ReasonReauthorizationRequired, "Instagram rejected: (#190) logged out"
			}),
			step{action: actAwaitLogin, reason: igv1.ReasonReauthorizationRequired}, "(#190) logged out"},
		{"a rejected token without words: the reason's message",
			managed(func(in *tokenState) { in.Rec.Rejected = igv1.ReasonAccountActionRequired }),
			step{action: actAwaitLogin, reason: igv1.ReasonAccountActionRequired}, "resolve on Instagram"},
		{"an expired token: await a login",
			managed(func(in *tokenState) { in.Now = token.ExpiresAt }),
			step{action: actAwaitLogin, reason: igv1.ReasonTokenExpired}, "expired at"},
		{"an expired token whose refresh is kept: renew, storing the kept refresh",
			managed(func(in *tokenState) {
				in.Now, in.RenewalKept, in.Renewal = token.ExpiresAt, true, login.RefreshDecision{Due: true, At: t0}
			}),
			step{action: actRenew}, ""},
		{"an estimated expiry that passed: not known to be expired, renew",
			managed(func(in *tokenState) {
				in.Now, in.Rec.ExpiryEstimated, in.Renewal = token.ExpiresAt, true, login.RefreshDecision{Due: true, At: t0}
			}),
			step{action: actRenew}, ""},
		{"due: renew", managed(func(in *tokenState) { in.Renewal = login.RefreshDecision{Due: true, At: t0} }),
			step{action: actRenew}, ""},
		{"not due: wait until the renewal", managed(nil), step{action: actWait, at: t0.Add(30 * day)}, ""},
		{"a renewal Instagram rejects: record the rejection",
			managed(failed(callRenew, rejected)),
			step{action: actReject, reason: igv1.ReasonReauthorizationRequired}, "status.authorizationURL: (#190)"},
		{"a renewal refused as too early, expiry unknown: estimate it",
			managed(func(in *tokenState) {
				in.Rec.ExpiresAt = time.Time{}
				failed(callRenew, tooEarly)(in)
			}), step{action: actEstimate}, ""},
		{"a renewal refused as too early, expiry known: retry",
			managed(failed(callRenew, tooEarly)), step{action: actRetry}, ""},
		{"a renewal that failed for a reason worth retrying: retry",
			managed(failed(callRenew, throttled)), step{action: actRetry}, ""},

		// Validation (issue 16): a token that died before its refresh.
		{"validation due: validate",
			managed(func(in *tokenState) { in.Validation = login.ValidationDecision{Due: true, At: t0} }),
			step{action: actValidate}, ""},
		{"renewal and validation due: renew, which proves the token too",
			managed(func(in *tokenState) {
				in.Renewal, in.Validation = login.RefreshDecision{Due: true, At: t0}, login.ValidationDecision{Due: true, At: t0}
			}),
			step{action: actRenew}, ""},
		{"validation not due: wait, until the earlier of renewal and validation",
			managed(func(in *tokenState) { in.Validation = login.ValidationDecision{At: t0.Add(day)} }),
			step{action: actWait, at: t0.Add(30 * day), validateAt: t0.Add(day)}, ""},
		{"a rejected token is not validated",
			managed(func(in *tokenState) {
				in.Rec.Rejected, in.Validation = igv1.ReasonReauthorizationRequired, login.ValidationDecision{Due: true, At: t0}
			}),
			step{action: actAwaitLogin, reason: igv1.ReasonReauthorizationRequired}, "must log in again"},
		{"a validation Instagram rejects: record the rejection with its words",
			managed(failed(callValidate, rejected)),
			step{action: actReject, reason: igv1.ReasonReauthorizationRequired}, "status.authorizationURL: (#190) logged out"},
		{"a validation that failed for a reason worth retrying: retry",
			managed(failed(callValidate, throttled)), step{action: actRetry}, ""},
		{"a validation refused for any reason but a rejection: retry, never estimate",
			managed(func(in *tokenState) {
				in.Rec.ExpiresAt = time.Time{}
				failed(callValidate, tooEarly)(in)
			}), step{action: actRetry}, ""},
	}
	seen := map[action]bool{}
	for _, tc := range cases {
		seen[tc.want.action] = true
		t.Run(tc.name, func(t *testing.T) {
			got := decide(tc.in)
			message := got.message
			got.message = ""
			if got != tc.want {
				t.Errorf("decide = %+v (%s), want %+v (%s)", got, got.action, tc.want, tc.want.action)
			}
			if !strings.Contains(message, tc.message) {
				t.Errorf("message %q, want it to contain %q", message, tc.message)
			}
		})
	}
	for a, name := range actionNames {
		if !seen[a] {
			t.Errorf("no case reaches %s", name)
		}
	}
}
