package callback

import (
	"context"
	"net/http"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/metrics"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// loginResult is what a completed login stored.
type loginResult struct {
	conn    *igv1.InstagramConnection
	account login.Identity
	record  tokensecret.Record
}

// completeLogin finishes a login from the code and state Instagram sent back, for the
// callback page (flow redirect) and the exchange (flow json): it verifies the state against
// the browser's cookie, refuses a replay, trades the code for a long-lived token, asks /me
// whose it is, and stores it in the connection's Secret. Every refusal happens before
// anything is written.
func (s *server) completeLogin(r *http.Request, rawCode, state, flow string) (*loginResult, *failure) {
	code, f := cleanCode(rawCode)
	if f != nil {
		return nil, f
	}
	if f := checkState(state); f != nil {
		return nil, f
	}
	claims, err := s.cfg.Signer.VerifyState(state, browserCookie(r))
	if err != nil {
		return nil, stateFailure(err)
	}
	if claims.Flow != flow {
		return nil, errWrongFlow(flow)
	}
	if err := s.cfg.Replay.Use(claims.Nonce, claims.ExpiresAt); err != nil {
		return nil, stateFailure(err)
	}

	// From here on Instagram is called and the code spent: a browser that gives up must not
	// keep the token from being stored.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), loginTimeout)
	defer cancel()

	var target *igv1.InstagramConnection
	if claims.Ticket != "" {
		if target, f = s.ticketConnection(ctx, claims.Ticket); f != nil {
			return nil, f
		}
	}
	app, f := s.appFor(ctx, target)
	if f != nil {
		return nil, f
	}

	grants, err := s.cfg.Login.Complete(ctx, app, s.cfg.RedirectURL, code, s.cfg.Clock.Now())
	if err != nil {
		return nil, s.loginFailure(err)
	}
	// Instagram Login grants one account. A login that grants several (Facebook Login) needs
	// the chooser of CONTRACT §6 before it stores anything; until then the first is stored.
	if len(grants) == 0 {
		return nil, errUnusableProfile()
	}
	grant := grants[0]
	if !validUserID(grant.UserID) {
		return nil, errUnusableProfile()
	}

	rec := grant.Record()
	conn, f := s.persist(ctx, target, rec)
	if f != nil {
		return nil, f
	}
	metrics.Logins.WithLabelValues("success").Inc()
	s.cfg.Log.Info("Login completed", "connection", conn.Namespace+"/"+conn.Name, "userID", grant.UserID,
		"flow", flow, "ticket", claims.Ticket != "")
	return &loginResult{conn: conn, account: grant.Identity, record: rec}, nil
}

// errUnusableProfile refuses a login whose account has no usable professional account id.
func errUnusableProfile() *failure {
	return fail(http.StatusBadGateway, codeUnusableProfile, "Instagram returned an unusable account",
		"Instagram's answer for this account has no professional account id. Nothing was stored.",
		"Make sure the account is an Instagram professional (business or creator) account, then start again.")
}

// validUserID reports whether id can be a connection's spec.instagramUserID and name part:
// digits only, at most 32 of them (the API's own limit).
func validUserID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
