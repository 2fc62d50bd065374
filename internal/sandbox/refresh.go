package sandbox

import "net/http"

// handleRefresh serves GET /refresh_access_token (also with a /vNN.N
// prefix): grant_type=ig_refresh_token and a long-lived access_token give a
// NEW long-lived token valid LongLivedTTL from now. GET only, as on
// Instagram; no client secret.
//
// Checks, in order (Graph envelope, HTTP 400): method (100, "Unsupported
// request - method type: post"); grant_type and access_token present (100);
// an unknown token (190/467); a revoked, invalidated or expired token (190
// and its subcodes, 463 for expired — an expired token is never
// refreshable); a short-lived token (100, MsgNeedLongLived); a token younger
// than MinRefreshAge (100, MsgTooYoung).
//
// Sandbox choices where Instagram is silent: the refreshed token is a new
// string whose age starts at zero (so the 24-hour rule applies to it afresh),
// and the old string stays valid until its own expiry.
func (s *Sandbox) handleRefresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeUnsupportedMethod(w, r)
		return
	}
	params := r.URL.Query()
	value := accessTokenFrom(r, params)
	switch {
	case params.Get("grant_type") != "ig_refresh_token":
		writeMissingParam(w, "(#100) Param grant_type must be ig_refresh_token")
		return
	case value == "":
		writeMissingParam(w, "(#100) Missing parameter access_token")
		return
	}

	fresh := newAccessToken()
	s.mu.Lock()
	now := s.nowLocked()
	t := s.tokens[value]
	var gerr *graphError
	switch st := s.stateLocked(t, now); {
	case st != tokenValid:
		e := tokenError(t, st, now)
		gerr = &e
	case t.kind != LongLived:
		gerr = &graphError{Code: 100, Message: MsgNeedLongLived}
	case now.Sub(t.issuedAt) < s.opts.MinRefreshAge:
		gerr = &graphError{Code: 100, Message: MsgTooYoung}
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
