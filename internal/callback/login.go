package callback

import (
	"context"
	"net/http"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/metrics"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// loginResult is what a completed login stored.
type loginResult struct {
	conn    *igv1.InstagramConnection
	profile instagram.Profile
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

	short, err := s.cfg.Instagram.ExchangeCode(ctx, app, s.cfg.RedirectURL, code)
	if err != nil {
		return nil, instagramFailure(err)
	}
	long, err := s.cfg.Instagram.ExchangeForLongLived(ctx, app, short.AccessToken)
	if err != nil {
		return nil, instagramFailure(err)
	}
	profile, err := s.cfg.Instagram.Profile(ctx, long.AccessToken)
	if err != nil {
		return nil, instagramFailure(err)
	}
	if !validUserID(profile.UserID) {
		return nil, fail(http.StatusBadGateway, codeUnusableProfile, "Instagram returned an unusable account",
			"Instagram's answer for this account has no professional account id. Nothing was stored.",
			"Make sure the account is an Instagram professional (business or creator) account, then start again.")
	}

	if len(long.Permissions) == 0 {
		long.Permissions = short.Permissions // the exchange may not repeat them
	}
	rec := tokensecret.NewRecord(s.cfg.Clock.Now(), long, profile, s.cfg.TokenLifetime)
	conn, f := s.persist(ctx, target, rec)
	if f != nil {
		return nil, f
	}
	metrics.Logins.WithLabelValues("success").Inc()
	s.cfg.Log.Info("Login completed", "connection", conn.Namespace+"/"+conn.Name, "userID", profile.UserID,
		"flow", flow, "ticket", claims.Ticket != "")
	return &loginResult{conn: conn, profile: profile, record: rec}, nil
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
