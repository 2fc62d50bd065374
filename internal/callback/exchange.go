package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/igconnect/igconnect/internal/oauthstate"
)

// exchangeRequest is the body of POST /auth/instagram/exchange.
type exchangeRequest struct {
	Code  string `json:"code"`
	State string `json:"state"`
}

// exchangeResponse is its answer on success.
type exchangeResponse struct {
	Connection    connectionRef `json:"connection"`
	Account       accountRef    `json:"account"`
	ExpiresAt     time.Time     `json:"expiresAt"`
	GrantedScopes []string      `json:"grantedScopes"`
}

// connectionRef names a connection in a JSON answer.
type connectionRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// accountRef names an Instagram account in a JSON answer.
type accountRef struct {
	UserID   string `json:"userID"`
	Username string `json:"username"`
}

// exchange serves POST /auth/instagram/exchange: the JSON form of the callback, for a
// single-page front end registered as the redirect URI. It takes {"code","state"} with a
// state minted by the start endpoint with flow=json, and answers which connection and
// account the login stored. It requires Content-Type application/json, which a cross-site
// form cannot send without a CORS preflight (that this server does not answer).
func (s *server) exchange(w http.ResponseWriter, r *http.Request) *failure {
	if f := requireContentType(r, "application/json"); f != nil {
		return f
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return bodyFailure(err)
	}
	req, f := decodeExchange(body)
	if f != nil {
		return f
	}
	res, f := s.completeLogin(r, req.Code, req.State, oauthstate.FlowJSON)
	if f != nil {
		return f
	}
	scopes := res.record.GrantedScopes
	if scopes == nil {
		scopes = []string{}
	}
	writeJSON(w, http.StatusOK, exchangeResponse{
		Connection:    connectionRef{Namespace: res.conn.Namespace, Name: res.conn.Name},
		Account:       accountRef{UserID: res.account.UserID, Username: res.account.Username},
		ExpiresAt:     res.record.ExpiresAt.UTC(),
		GrantedScopes: scopes,
	})
	return nil
}

// decodeExchange decodes exactly one JSON object with string fields. The decoder's error
// text is not shown: it can quote the body.
func decodeExchange(body []byte) (exchangeRequest, *failure) {
	invalid := fail(http.StatusBadRequest, codeInvalidJSON, "Malformed request",
		`The body must be one JSON object of the form {"code": "...", "state": "..."}. Nothing was changed.`,
		"Post the code and state from the redirect's query as JSON strings.")
	var req exchangeRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return req, invalid
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, invalid
	}
	if req.Code == "" {
		return req, errMissingParameter("code")
	}
	return req, nil
}
