package sandbox

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

// t0 is the fake clock's start: Tuesday, 1 September 2026, 12:00 UTC.
var t0 = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

// The default account's IDs, as generated.
const (
	defaultUserID   = "17841400000000001"
	defaultScopedID = "27640875392278831"
	testRedirect    = "https://app.example/cb"
)

// env is a sandbox on a fake clock behind a real HTTP server.
type env struct {
	t     *testing.T
	sb    *Sandbox
	clock *testingclock.FakeClock
	srv   *httptest.Server
	// client never follows redirects, so tests see the 302s.
	client *http.Client
}

// newEnv starts a sandbox with opts on a fake clock at t0.
func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	return newEnvWith(t, opts, func(sb *Sandbox) http.Handler { return sb })
}

// newEnvWith is newEnv with a setup step that runs before the server starts
// (so it may set test hooks without racing) and returns the handler to serve.
func newEnvWith(t *testing.T, opts Options, setup func(*Sandbox) http.Handler) *env {
	t.Helper()
	fc := testingclock.NewFakeClock(t0)
	opts.Clock = fc
	sb := New(opts)
	srv := httptest.NewServer(setup(sb))
	t.Cleanup(srv.Close)
	return &env{t: t, sb: sb, clock: fc, srv: srv, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends req and reads the whole answer.
func (e *env) do(req *http.Request) response {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// get sends GET path (with query).
func (e *env) get(pathAndQuery string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+pathAndQuery, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

// send sends a request with a body and content type.
func (e *env) send(method, path, contentType, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return e.do(req)
}

// postForm sends a form-urlencoded POST.
func (e *env) postForm(path string, v url.Values) response {
	e.t.Helper()
	return e.send(http.MethodPost, path, "application/x-www-form-urlencoded", v.Encode())
}

// postMultipart sends a multipart POST, as `curl -F` does.
func (e *env) postMultipart(path string, v url.Values) response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range v {
		for _, x := range vs {
			if err := mw.WriteField(k, x); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	if err := mw.Close(); err != nil {
		e.t.Fatal(err)
	}
	return e.send(http.MethodPost, path, mw.FormDataContentType(), buf.String())
}

// authorizeValues are valid consent-form fields.
func authorizeValues(scope, state string) url.Values {
	return url.Values{
		"client_id":     {DefaultClientID},
		"redirect_uri":  {testRedirect},
		"response_type": {"code"},
		"scope":         {scope},
		"state":         {state},
	}
}

// codeRe extracts the code from an Allow redirect.
var codeRe = regexp.MustCompile(`[?&]code=([A-Za-z0-9_-]+)`)

// login posts Allow for account (empty: the preselected one) and returns the
// code from the redirect.
func (e *env) login(account, scope string) string {
	e.t.Helper()
	v := authorizeValues(scope, "st")
	v.Set("decision", "allow")
	if account != "" {
		v.Set("account", account)
	}
	r := e.postForm("/oauth/authorize", v)
	if r.status != http.StatusFound {
		e.t.Fatalf("allow: status %d, body %s", r.status, r.body)
	}
	m := codeRe.FindStringSubmatch(r.header.Get("Location"))
	if m == nil {
		e.t.Fatalf("allow: no code in %q", r.header.Get("Location"))
	}
	return m[1]
}

// exchangeValues are a valid code-exchange form for code.
func exchangeValues(code string) url.Values {
	return url.Values{
		"client_id":     {DefaultClientID},
		"client_secret": {DefaultClientSecret},
		"grant_type":    {"authorization_code"},
		"redirect_uri":  {testRedirect},
		"code":          {code},
	}
}

// tokenRe extracts an access token from a body.
var tokenRe = regexp.MustCompile(`"access_token":"(IGAA[A-Za-z0-9_-]{32,})"`)

// accessToken returns the access token in body or fails.
func (e *env) accessToken(body string) string {
	e.t.Helper()
	m := tokenRe.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no access token in %s", body)
	}
	return m[1]
}

// shortToken runs a login and a code exchange and returns the token.
func (e *env) shortToken() string {
	e.t.Helper()
	r := e.postForm("/oauth/access_token", exchangeValues(e.login("", ScopeBasic)))
	if r.status != http.StatusOK {
		e.t.Fatalf("code exchange: %d %s", r.status, r.body)
	}
	return e.accessToken(r.body)
}

// issue issues a token directly or fails.
func (e *env) issue(req TokenRequest) string {
	e.t.Helper()
	tok, err := e.sb.IssueToken(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

// traceRe finds fbtrace_id values, which are random.
var traceRe = regexp.MustCompile(`"fbtrace_id":"[A-Za-z0-9_-]+"`)

// normTrace replaces the random fbtrace_id so bodies compare byte for byte.
func normTrace(body string) string {
	return traceRe.ReplaceAllString(body, `"fbtrace_id":"TRACE"`)
}

// expectBody fails unless r has the status and exactly the body.
func expectBody(t *testing.T, r response, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}

// expectGraphError fails unless r is HTTP 400 with exactly this Graph body
// (fbtrace_id normalised to TRACE).
func expectGraphError(t *testing.T, r response, body string) {
	t.Helper()
	if !traceRe.MatchString(r.body) {
		t.Fatalf("no fbtrace_id in %s", r.body)
	}
	expectBody(t, response{r.status, r.header, normTrace(r.body)}, http.StatusBadRequest, body)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		t.Fatalf("content type %q", ct)
	}
}

// q builds a query string.
func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

// readAll reads a response body.
func readAll(resp *http.Response) ([]byte, error) { return io.ReadAll(resp.Body) }

// containsAll reports whether s contains every part.
func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
