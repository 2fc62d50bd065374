package sandbox

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxFormBytes bounds request bodies; real forms here are a few hundred bytes.
const maxFormBytes = 1 << 20

// codeExchangeFlat is the real code-exchange body: flat, user_id a JSON
// number (above 2^53), permissions an array.
type codeExchangeFlat struct {
	AccessToken string      `json:"access_token"`
	UserID      json.Number `json:"user_id"`
	Permissions []string    `json:"permissions"`
}

// codeExchangeItem is one element of the documented (probably wrong) data[]
// shape: user_id a string, permissions a comma-separated string.
type codeExchangeItem struct {
	AccessToken string `json:"access_token"`
	UserID      string `json:"user_id"`
	Permissions string `json:"permissions"`
}

// handleCodeExchange serves POST /oauth/access_token (api.instagram.com):
// an authorization code for a short-lived token. Every error uses the legacy
// flat envelope with HTTP 400.
//
// Sandbox choices where Instagram's behaviour is unconfirmed: only the POST
// body is read (form-urlencoded or multipart; a JSON body reads as empty and
// fails with "You must provide a client_id"); a code is consumed only by a
// successful exchange, so a redirect_uri mismatch leaves it usable, while an
// expired code is deleted; a code presented with "#_" still attached is not
// found, because Instagram does not strip it either; another method than POST
// gets the flat envelope with "Unsupported method: use POST".
func (s *Sandbox) handleCodeExchange(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeLegacyError(w, "Unsupported method: use POST")
		return
	}
	form, err := parseBodyForm(w, r)
	if err != nil {
		writeLegacyError(w, "Invalid request body")
		return
	}
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	redirectURI, code := form.Get("redirect_uri"), form.Get("code")
	switch {
	case clientID == "":
		writeLegacyError(w, "You must provide a client_id")
		return
	case secret == "":
		writeLegacyError(w, "You must provide a client_secret")
		return
	}
	s.mu.Lock()
	app := s.appsByID[clientID]
	s.mu.Unlock()
	switch {
	case app == nil || app.ClientSecret != secret:
		writeLegacyError(w, MsgInvalidPlatformApp)
		return
	case form.Get("grant_type") != "authorization_code":
		writeLegacyError(w, "Invalid grant_type")
		return
	case redirectURI == "":
		writeLegacyError(w, "You must provide a redirect_uri")
		return
	case code == "":
		writeLegacyError(w, "You must provide a code")
		return
	}

	value := newAccessToken()
	s.mu.Lock()
	now := s.nowLocked()
	c := s.codes[code]
	switch {
	case c == nil || c.clientID != clientID:
		s.mu.Unlock()
		writeLegacyError(w, MsgCodeNotFound)
		return
	case !now.Before(c.expiresAt):
		delete(s.codes, code)
		s.mu.Unlock()
		writeLegacyError(w, MsgVerificationCode)
		return
	case c.redirectURI != redirectURI:
		s.mu.Unlock()
		writeLegacyError(w, MsgVerificationCode)
		return
	}
	delete(s.codes, code)
	s.mintLocked(value, c.acct, clientID, ShortLived, c.scopes, now)
	scopedID := c.acct.AppScopedID
	dataShape := s.shapes.CodeExchange == ShapeData
	s.mu.Unlock()

	perms := append([]string{}, c.scopes...)
	if dataShape {
		writeJSON(w, http.StatusOK, struct {
			Data []codeExchangeItem `json:"data"`
		}{[]codeExchangeItem{{AccessToken: value, UserID: scopedID, Permissions: strings.Join(perms, ",")}}})
		return
	}
	writeJSON(w, http.StatusOK, codeExchangeFlat{AccessToken: value, UserID: json.Number(scopedID), Permissions: perms})
}

// parseBodyForm reads a form-urlencoded or multipart body, bounded in size,
// and returns only the body's fields (not the query string's).
func parseBodyForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		if err := r.ParseMultipartForm(maxFormBytes); err != nil {
			return nil, err
		}
		return r.PostForm, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}
