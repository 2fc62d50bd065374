package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestConcurrentLoginsAndRefreshes runs 200 complete logins over HTTP and
// 2000 refreshes in-process at once, with control calls in between, to be run
// under -race. Every token must come out distinct and valid.
func TestConcurrentLoginsAndRefreshes(t *testing.T) {
	const logins, refreshes = 200, 2000
	e := newEnv(t, Options{Accounts: []Account{{}, {}, {}, {}}})
	e.client.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	long := make([]string, refreshes)
	for i := range long {
		long[i] = e.issue(TokenRequest{Account: e.sb.Accounts()[i%4].UserID, IssuedAt: t0.Add(-2 * day)})
	}

	var wg sync.WaitGroup
	errs := make(chan error, logins+refreshes+1)
	tokens := make(chan string, logins+refreshes)
	for i := 0; i < logins; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tok, err := e.fullLogin(e.sb.Accounts()[i%4].UserID)
			if err != nil {
				errs <- fmt.Errorf("login %d: %w", i, err)
				return
			}
			tokens <- tok
		}(i)
	}
	for i := 0; i < refreshes; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rec := httptest.NewRecorder()
			e.sb.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, refreshPath(long[i]), nil))
			if rec.Code != http.StatusOK {
				errs <- fmt.Errorf("refresh %d: %d %s", i, rec.Code, rec.Body)
				return
			}
			m := tokenRe.FindStringSubmatch(rec.Body.String())
			if m == nil {
				errs <- fmt.Errorf("refresh %d: no token in %s", i, rec.Body)
				return
			}
			tokens <- m[1]
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			_ = e.sb.Calls()
			e.sb.SetUsage(&Usage{CallCount: i})
			_, _ = e.sb.AdvanceClock(time.Millisecond)
			_ = e.sb.Faults()
		}
	}()
	wg.Wait()
	close(errs)
	close(tokens)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for tok := range tokens {
		if seen[tok] {
			t.Fatal("a token string was issued twice")
		}
		seen[tok] = true
		if info, ok := e.sb.TokenInfo(tok); !ok || !info.Valid || info.Kind != LongLived {
			t.Fatalf("token state %+v", info)
		}
	}
	if len(seen) != logins+refreshes {
		t.Fatalf("%d tokens, want %d", len(seen), logins+refreshes)
	}
	calls := e.sb.Calls()
	if calls[EndpointAuthorize] != logins || calls[EndpointCodeExchange] != logins || calls[EndpointTokenExchange] != logins ||
		calls[EndpointProfile] != logins || calls[EndpointRefresh] != refreshes {
		t.Fatalf("calls %v", calls)
	}
}

// fullLogin runs Allow, code exchange, long-lived exchange and /me for an
// account and returns the long-lived token.
func (e *env) fullLogin(account string) (string, error) {
	v := authorizeValues(ScopeBasic, "s")
	v.Set("decision", "allow")
	v.Set("account", account)
	resp, err := e.client.PostForm(e.srv.URL+"/oauth/authorize", v)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	m := codeRe.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		return "", fmt.Errorf("no code in %q", resp.Header.Get("Location"))
	}
	body, err := e.fetch(http.MethodPost, "/oauth/access_token", exchangeValues(m[1]))
	if err != nil {
		return "", err
	}
	short := tokenRe.FindStringSubmatch(body)
	if short == nil {
		return "", fmt.Errorf("code exchange: %s", body)
	}
	body, err = e.fetch(http.MethodGet, exchangePath("", short[1]), nil)
	if err != nil {
		return "", err
	}
	long := tokenRe.FindStringSubmatch(body)
	if long == nil {
		return "", fmt.Errorf("long-lived exchange: %s", body)
	}
	body, err = e.fetch(http.MethodGet, "/v25.0/me"+q("fields", "user_id", "access_token", long[1]), nil)
	if err != nil {
		return "", err
	}
	if want := `"user_id":"` + account + `"`; !containsAll(body, want) {
		return "", fmt.Errorf("/me: %s, want %s", body, want)
	}
	return long[1], nil
}

// fetch is a goroutine-safe request helper that reports errors instead of
// failing the test (t.Fatal must not run outside the test goroutine).
func (e *env) fetch(method, path string, form url.Values) (string, error) {
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = e.client.PostForm(e.srv.URL+path, form)
	} else {
		resp, err = e.client.Get(e.srv.URL + path)
	}
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b []byte
	b, err = readAll(resp)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %d %s", method, path[:min(len(path), 25)], resp.StatusCode, b)
	}
	return string(b), err
}
