package sandbox

import (
	"net/http"
	"slices"
	"testing"
)

// TestIssuedSecrets: GET /sandbox/issued lists every token (refreshed, revoked and exchanged
// ones too), every code (spent ones too) and the app secret, so a leak scan misses none.
func TestIssuedSecrets(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.login("", ScopeBasic)
	short := e.accessToken(e.postForm("/oauth/access_token", exchangeValues(code)).body)
	old := decode[IssuedToken](t, e.control(http.MethodPost, "/sandbox/tokens", `{"age":"25h"}`))
	refreshed := e.accessToken(e.get(refreshPath(old.AccessToken)).body)
	expectBody(t, e.control(http.MethodPost, "/sandbox/tokens/revoke", `{"access_token":"`+old.AccessToken+`"}`),
		http.StatusNoContent, "")

	r := e.control(http.MethodGet, "/sandbox/issued", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /sandbox/issued: %d %s", r.status, r.body)
	}
	got := decode[IssuedSecrets](t, r)
	for _, tok := range []string{short, old.AccessToken, refreshed} {
		if !slices.Contains(got.Tokens, tok) {
			t.Errorf("token %.8s… missing from %d tokens", tok, len(got.Tokens))
		}
	}
	if len(got.Tokens) != 3 {
		t.Errorf("%d tokens, want 3", len(got.Tokens))
	}
	if !slices.Equal(got.Codes, []string{code}) {
		t.Errorf("codes %q, want the spent code", got.Codes)
	}
	if !slices.Equal(got.AppSecrets, []string{DefaultClientSecret}) {
		t.Errorf("app secrets %q", got.AppSecrets)
	}
	if all := got.All(); len(all) != 5 {
		t.Errorf("All() has %d values, want 5", len(all))
	}
	if got := New(Options{}).IssuedSecrets(); len(got.Tokens)+len(got.Codes) != 0 || got.Tokens == nil || got.Codes == nil {
		t.Errorf("a fresh sandbox: %+v, want empty (not null) lists", got)
	}
}
