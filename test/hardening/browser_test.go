package hardening

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/igconnect/igconnect/internal/devenv"
)

// publicHost is every manager's --public-url host: replicas share one public URL behind a
// load balancer, which the browser plays by sending each request to the replica it picks.
const publicHost = "ig.hardening.test"

// browser keeps cookies and never follows redirects, so every hop is seen.
type browser struct {
	hc *http.Client
}

// newBrowser returns a browser with an empty cookie jar.
func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{hc: &http.Client{
		Jar:           jar,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}}
}

// answer is a finished request.
type answer struct {
	status int
	header http.Header
	body   string
}

// do sends req and reads at most 1 MiB of the answer.
func (b *browser) do(req *http.Request) (answer, error) {
	resp, err := b.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return answer{resp.StatusCode, resp.Header, string(body)}, err
}

// get sends GET rawURL.
func (b *browser) get(ctx context.Context, rawURL string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return answer{}, err
	}
	return b.do(req)
}

// postForm sends a form-urlencoded POST.
func (b *browser) postForm(ctx context.Context, rawURL string, v url.Values) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(v.Encode()))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// via rewrites a public URL (http://ig.hardening.test/...) to reach replica m, as a load
// balancer would.
func via(m *devenv.Manager, publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil {
		return "", err
	}
	if u.Host != publicHost {
		return "", fmt.Errorf("%q is not on the public host %s", publicURL, publicHost)
	}
	local, _ := url.Parse(m.CallbackURL)
	u.Scheme, u.Host = local.Scheme, local.Host
	return u.String(), nil
}

// loginResult is what a login's last hop answered.
type loginResult struct {
	// callbackURL is the URL the browser was sent back to (without the fragment), so a
	// test can replay it.
	callbackURL string
	answer
}

// login logs in as a person does: startURL (a status.authorizationURL, or the public start
// path) through replica start, Allow on the sandbox's consent page as account, and the
// redirect back through replica finish. It fails t only when the flow cannot be followed;
// the callback's answer is returned for the caller to judge.
func (s *stack) login(ctx context.Context, t *testing.T, b *browser, start, finish *devenv.Manager,
	startURL, account string) loginResult {
	t.Helper()
	u, err := via(start, startURL)
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.get(ctx, u)
	if err != nil || a.status != http.StatusFound {
		t.Fatalf("GET start: %v, status %d: %s", err, a.status, a.body)
	}
	authorize, err := url.Parse(a.header.Get("Location"))
	if err != nil || !strings.HasPrefix(authorize.String(), s.sb.URL+"/oauth/authorize?") {
		t.Fatalf("start redirected to %q, not to the sandbox's authorize page", a.header.Get("Location"))
	}
	form := authorize.Query()
	form.Set("decision", "allow")
	form.Set("account", account)
	a, err = b.postForm(ctx, s.sb.URL+"/oauth/authorize", form)
	if err != nil || a.status != http.StatusFound {
		t.Fatalf("Allow on the consent page: %v, status %d: %s", err, a.status, a.body)
	}
	back, _, _ := strings.Cut(a.header.Get("Location"), "#") // a browser keeps the fragment to itself
	cb, err := via(finish, back)
	if err != nil {
		t.Fatal(err)
	}
	a, err = b.get(ctx, cb)
	if err != nil {
		t.Fatalf("GET callback: %v", err)
	}
	return loginResult{callbackURL: cb, answer: a}
}
