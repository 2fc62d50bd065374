package sandbox

import (
	"fmt"
	"time"
)

// authCode is an authorization code waiting to be exchanged. Codes are keyed
// by their string in Sandbox.codes and deleted when used or found expired.
type authCode struct {
	acct        *account
	clientID    string
	redirectURI string
	scopes      []string
	expiresAt   time.Time
}

// CodeRequest asks IssueCode for a code as if the account had clicked Allow,
// for tests that drive the callback without a browser.
type CodeRequest struct {
	// Account is a user ID, app-scoped ID or username; empty means the first
	// account.
	Account string `json:"account,omitempty"`
	// ClientID is the app; empty means the first app.
	ClientID string `json:"client_id,omitempty"`
	// RedirectURI must be presented again, identical, at the code exchange.
	RedirectURI string `json:"redirect_uri"`
	// Scopes are the requested scopes (granted: those the account allows);
	// empty means all the account's scopes.
	Scopes []string `json:"scopes,omitempty"`
}

// IssueCode mints an authorization code without the consent page.
func (s *Sandbox) IssueCode(req CodeRequest) (string, error) {
	if req.RedirectURI == "" {
		return "", fmt.Errorf("redirect_uri is required")
	}
	for _, sc := range req.Scopes {
		if !isKnownScope(sc) {
			return "", fmt.Errorf("unknown scope %q", sc)
		}
	}
	code := newCode()
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, err := s.accountOrFirstLocked(req.Account)
	if err != nil {
		return "", err
	}
	clientID := req.ClientID
	if clientID == "" {
		clientID = s.apps[0].ClientID
	} else if s.appsByID[clientID] == nil {
		return "", notFoundError{fmt.Sprintf("unknown client_id %q", clientID)}
	}
	requested := req.Scopes
	if len(requested) == 0 {
		requested = acct.Scopes
	}
	s.storeCodeLocked(code, acct, clientID, req.RedirectURI, intersectScopes(requested, acct.allowed))
	return code, nil
}

// storeCodeLocked records a code that expires CodeTTL from now.
func (s *Sandbox) storeCodeLocked(code string, acct *account, clientID, redirectURI string, scopes []string) {
	s.codes[code] = &authCode{
		acct:        acct,
		clientID:    clientID,
		redirectURI: redirectURI,
		scopes:      scopes,
		expiresAt:   s.nowLocked().Add(s.opts.CodeTTL),
	}
	s.issuedCodes = append(s.issuedCodes, code)
}
