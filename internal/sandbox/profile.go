package sandbox

import (
	"net/http"
	"strings"
)

// profileFields are the /me fields Instagram documents. The sandbox models
// the first five; the rest are accepted and left out of the body, as Graph
// leaves out fields that have no value.
var profileFields = map[string]bool{
	"id": true, "user_id": true, "username": true, "name": true, "account_type": true,
	"profile_picture_url": true, "followers_count": true, "follows_count": true,
	"media_count": true, "biography": true, "website": true,
}

// profile is the /me body in the order Instagram sends it. id is always
// present; the others only when requested. IDs are strings, as in the docs.
type profile struct {
	ID          string `json:"id"`
	UserID      string `json:"user_id,omitempty"`
	Username    string `json:"username,omitempty"`
	Name        string `json:"name,omitempty"`
	AccountType string `json:"account_type,omitempty"`
}

// handleProfile serves GET /{version}/me and /me: the token owner's profile,
// with id the app-scoped ID and user_id the professional account ID, only the
// requested fields (id always).
//
// Errors (Graph envelope, HTTP 400): another method (100); no token (2500,
// Graph's "An active access token must be used…"); an unknown, revoked,
// invalidated or expired token (190 and subcodes); a token without
// instagram_business_basic (10, MsgNoPermission); an unknown field (100,
// "Tried accessing nonexisting field (…) on node type (User)").
func (s *Sandbox) handleProfile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeUnsupportedMethod(w, r)
		return
	}
	params := r.URL.Query()
	value := accessTokenFrom(r, params)
	if value == "" {
		writeGraphError(w, http.StatusBadRequest, graphError{
			Code:    2500,
			Message: "An active access token must be used to query information about the current user.",
		})
		return
	}

	s.mu.Lock()
	now := s.nowLocked()
	t := s.tokens[value]
	st := s.stateLocked(t, now)
	var gerr *graphError
	var acct Account
	switch {
	case st != tokenValid:
		e := tokenError(t, st, now)
		gerr = &e
	case !hasScope(t.scopes, ScopeBasic):
		gerr = &graphError{Code: 10, Message: MsgNoPermission}
	default:
		acct = t.acct.Account // strings only are read below; no copy of Scopes needed
	}
	dataShape := s.shapes.Profile == ShapeData
	s.mu.Unlock()
	if gerr != nil {
		writeGraphError(w, http.StatusBadRequest, *gerr)
		return
	}

	p := profile{ID: acct.AppScopedID}
	for _, f := range strings.Split(params.Get("fields"), ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
		case !profileFields[f]:
			writeGraphError(w, http.StatusBadRequest, graphError{
				Code:    100,
				Message: "(#100) Tried accessing nonexisting field (" + f + ") on node type (User)",
			})
			return
		case f == "user_id":
			p.UserID = acct.UserID
		case f == "username":
			p.Username = acct.Username
		case f == "name":
			p.Name = acct.Name
		case f == "account_type":
			p.AccountType = acct.AccountType
		}
	}
	if dataShape {
		writeJSON(w, http.StatusOK, struct {
			Data []profile `json:"data"`
		}{[]profile{p}})
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// hasScope reports whether scopes contains want.
func hasScope(scopes []string, want string) bool {
	for _, s := range scopes {
		if s == want {
			return true
		}
	}
	return false
}
