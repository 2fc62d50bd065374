package sandbox

import (
	"net/http"
	"sort"
)

// IssuedSecrets is every secret value the sandbox has handed out or accepts: the access
// tokens it minted (short-lived, long-lived, refreshed; revoked and expired ones too), the
// authorization codes it issued (exchanged ones too) and the app secrets it knows. A leak
// scan looks for each of them in what the code under test printed, stored or reported
// (devenv.ScanForLeaks), which is why nothing is left out once used up.
type IssuedSecrets struct {
	// Tokens are the access tokens, in no particular order.
	Tokens []string `json:"tokens"`
	// Codes are the authorization codes, in the order they were issued.
	Codes []string `json:"codes"`
	// AppSecrets are the registered apps' client secrets.
	AppSecrets []string `json:"app_secrets"`
}

// All returns every value of s in one list.
func (s IssuedSecrets) All() []string {
	out := make([]string, 0, len(s.Tokens)+len(s.Codes)+len(s.AppSecrets))
	out = append(out, s.Tokens...)
	out = append(out, s.Codes...)
	return append(out, s.AppSecrets...)
}

// IssuedSecrets returns every token, code and app secret the sandbox has issued or knows,
// for leak scans (GET /sandbox/issued on the control API). Tokens are sorted so that the
// answer is stable.
func (s *Sandbox) IssuedSecrets() IssuedSecrets {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := IssuedSecrets{
		Tokens:     make([]string, 0, len(s.tokens)),
		Codes:      append([]string{}, s.issuedCodes...),
		AppSecrets: make([]string, 0, len(s.apps)),
	}
	for v := range s.tokens {
		out.Tokens = append(out.Tokens, v)
	}
	sort.Strings(out.Tokens)
	for _, a := range s.apps {
		out.AppSecrets = append(out.AppSecrets, a.ClientSecret)
	}
	return out
}

// controlIssued serves GET /sandbox/issued.
func (s *Sandbox) controlIssued(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.IssuedSecrets())
}
