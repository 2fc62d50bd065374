package sandbox

import (
	"net/http"
	"net/url"
)

// handleTokenExchange serves GET /access_token (also with a /vNN.N prefix):
// grant_type=ig_exchange_token, client_secret and a short-lived access_token
// give a long-lived token. Extra parameters such as client_id are ignored, as
// Instagram ignores them. POST with the same parameters in the body is
// accepted too, as Graph generally allows.
//
// Checks, in order (Graph envelope, HTTP 400): grant_type, client_secret and
// access_token present (code 100); client_secret matching no app (101); an
// unknown token (190/467); a secret that is not the token's app's (101); a
// revoked, invalidated or expired token (190 and its subcodes); a token that
// is already long-lived (100, MsgNeedShortLived — the real answer is
// unconfirmed). The short-lived token stays valid until its own expiry and may
// be exchanged again (unconfirmed; the sandbox's choice).
func (s *Sandbox) handleTokenExchange(w http.ResponseWriter, r *http.Request) {
	var params url.Values
	switch r.Method {
	case http.MethodGet:
		params = r.URL.Query()
	case http.MethodPost:
		form, err := parseBodyForm(w, r)
		if err != nil {
			writeMissingParam(w, "(#100) The request body could not be read")
			return
		}
		params = r.URL.Query()
		for k, v := range form {
			params[k] = v
		}
	default:
		writeUnsupportedMethod(w, r)
		return
	}
	secret, value := params.Get("client_secret"), accessTokenFrom(r, params)
	switch {
	case params.Get("grant_type") != "ig_exchange_token":
		writeMissingParam(w, "(#100) Param grant_type must be ig_exchange_token")
		return
	case secret == "":
		writeMissingParam(w, "(#100) Missing parameter client_secret")
		return
	case value == "":
		writeMissingParam(w, "(#100) Missing parameter access_token")
		return
	}

	fresh := newAccessToken()
	s.mu.Lock()
	now := s.nowLocked()
	t := s.tokens[value]
	var tokenApp *App
	if t != nil {
		tokenApp = s.appsByID[t.clientID]
	}
	var gerr *graphError
	switch st := s.stateLocked(t, now); {
	case !s.knownSecret(secret):
		gerr = &graphError{Code: 101, Message: MsgClientSecret}
	case t == nil:
		e := tokenError(t, tokenUnknown, now)
		gerr = &e
	case tokenApp == nil || tokenApp.ClientSecret != secret:
		gerr = &graphError{Code: 101, Message: MsgClientSecret}
	case st != tokenValid:
		e := tokenError(t, st, now)
		gerr = &e
	case t.kind != ShortLived:
		gerr = &graphError{Code: 100, Message: MsgNeedShortLived}
	default:
		s.mintLocked(fresh, t.acct, t.clientID, LongLived, t.scopes, now)
	}
	s.mu.Unlock()
	if gerr != nil {
		writeGraphError(w, http.StatusBadRequest, *gerr)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: fresh,
		TokenType:   "bearer",
		ExpiresIn:   int64(s.opts.LongLivedTTL.Seconds()),
	})
}

// knownSecret reports whether any registered app has this secret. Apps never
// change after New, so no lock is needed.
func (s *Sandbox) knownSecret(secret string) bool {
	for _, a := range s.apps {
		if a.ClientSecret == secret {
			return true
		}
	}
	return false
}
