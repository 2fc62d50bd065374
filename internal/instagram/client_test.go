package instagram_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/igconnect/igconnect/internal/instagram"
)

// Realistic-looking secrets. The client secret carries characters that
// change under URL escaping, so redaction of the escaped form is exercised.
const (
	clientID     = "990602627938098"
	clientSecret = "a1b2C3D4+s3cr/t=="
	authCode     = "AQBx-hBsH3zQkT9vWmN2pL8rY4uE6iO0aS"
	shortToken   = "IGAAshortLivedTokenZAZABZAxyz123"
	longToken    = "IGAAlongLivedTokenZAZABZAqrs456789"
	redirectURI  = "https://ig.example.com/auth/instagram/callback"
)

var app = instagram.App{ClientID: clientID, ClientSecret: clientSecret}

// recorded is what the fake server saw of one request.
type recorded struct {
	Method      string
	Path        string
	Query       url.Values
	Form        url.Values
	ContentType string
}

// fakeServer serves handler and records every request.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newFakeServer(t *testing.T, handler http.HandlerFunc) *fakeServer {
	t.Helper()
	f := &fakeServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), ContentType: r.Header.Get("Content-Type")}
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			rec.Form, _ = url.ParseQuery(string(b))
			r.Body = io.NopCloser(bytes.NewReader(b)) // for handlers that read it too
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, rec)
		f.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// observed collects CallInfo values.
type observed struct {
	mu    sync.Mutex
	calls []instagram.CallInfo
}

func (o *observed) observe(ci instagram.CallInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, ci)
}

func (o *observed) all() []instagram.CallInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]instagram.CallInfo(nil), o.calls...)
}

func newClient(srvURL string, obs *observed, mod func(*instagram.Config)) *instagram.Client {
	cfg := instagram.Config{APIURL: srvURL, GraphURL: srvURL}
	if obs != nil {
		cfg.Observer = obs.observe
	}
	if mod != nil {
		mod(&cfg)
	}
	return instagram.New(cfg)
}

func respond(status int, headers map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "responses", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExchangeCodeSendsExactForm(t *testing.T) {
	for _, code := range []string{authCode, authCode + "#_", " " + authCode + "#_\n"} {
		t.Run(code, func(t *testing.T) {
			srv := newFakeServer(t, respond(200, nil, fixture(t, "code_exchange_flat_numeric.json")))
			tok, err := newClient(srv.URL, nil, nil).ExchangeCode(context.Background(), app, redirectURI, code)
			if err != nil {
				t.Fatal(err)
			}
			want := instagram.ShortLivedToken{AccessToken: "IGAA2e0uoy3ZAZABZA...", UserID: "27640875392278831", Permissions: []string{"instagram_business_basic"}}
			if !reflect.DeepEqual(tok, want) {
				t.Fatalf("got %#v, want %#v", tok, want)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			got := reqs[0]
			wantForm := url.Values{
				"client_id":     {clientID},
				"client_secret": {clientSecret},
				"grant_type":    {"authorization_code"},
				"redirect_uri":  {redirectURI},
				"code":          {authCode},
			}
			if got.Method != http.MethodPost || got.Path != "/oauth/access_token" || len(got.Query) != 0 ||
				got.ContentType != "application/x-www-form-urlencoded" || !reflect.DeepEqual(got.Form, wantForm) {
				t.Fatalf("request %+v\nwant POST /oauth/access_token form %v", got, wantForm)
			}
		})
	}
}

func TestExchangeForLongLivedSendsExactQuery(t *testing.T) {
	srv := newFakeServer(t, respond(200, nil, fixture(t, "long_lived_sandbox.json")))
	tok, err := newClient(srv.URL, nil, nil).ExchangeForLongLived(context.Background(), app, shortToken)
	if err != nil {
		t.Fatal(err)
	}
	if want := (instagram.LongLivedToken{AccessToken: "IGAAsandboxlong", TokenType: "bearer", ExpiresIn: 60 * 24 * time.Hour}); !reflect.DeepEqual(tok, want) {
		t.Fatalf("got %#v, want %#v", tok, want)
	}
	got := srv.requests()[0]
	wantQuery := url.Values{"grant_type": {"ig_exchange_token"}, "client_secret": {clientSecret}, "access_token": {shortToken}}
	if got.Method != http.MethodGet || got.Path != "/access_token" || !reflect.DeepEqual(got.Query, wantQuery) {
		t.Fatalf("request %+v, want GET /access_token %v", got, wantQuery)
	}
}

func TestRefreshIsGETWithExactQuery(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet { // what Instagram enforces
			respond(400, nil, `{"error":{"message":"Unsupported request - method type: post"}}`)(w, r)
			return
		}
		respond(200, nil, fixture(t, "refresh_with_permissions.json"))(w, r)
	})
	tok, err := newClient(srv.URL, nil, nil).RefreshToken(context.Background(), longToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "IGAAsandboxnew" || tok.ExpiresIn != 5184000*time.Second || len(tok.Permissions) != 2 {
		t.Fatalf("got %#v", tok)
	}
	got := srv.requests()[0]
	wantQuery := url.Values{"grant_type": {"ig_refresh_token"}, "access_token": {longToken}}
	if got.Method != http.MethodGet || got.Path != "/refresh_access_token" || !reflect.DeepEqual(got.Query, wantQuery) || got.Form != nil {
		t.Fatalf("request %+v, want GET /refresh_access_token %v", got, wantQuery)
	}
}

func TestProfileSendsVersionedPathAndFields(t *testing.T) {
	for _, tc := range []struct{ version, wantPath string }{
		{"", "/v25.0/me"},
		{"v26.0", "/v26.0/me"},
		{"/v26.0/", "/v26.0/me"},
	} {
		t.Run(tc.wantPath, func(t *testing.T) {
			srv := newFakeServer(t, respond(200, nil, fixture(t, "me_numeric_ids.json")))
			p, err := newClient(srv.URL, nil, func(c *instagram.Config) { c.GraphVersion = tc.version }).Profile(context.Background(), longToken)
			if err != nil {
				t.Fatal(err)
			}
			want := instagram.Profile{ID: "27640875392278831", UserID: "17841405793187218", Username: "acme", Name: "Acme Inc.", AccountType: "Media_Creator"}
			if p != want {
				t.Fatalf("got %#v, want %#v", p, want)
			}
			got := srv.requests()[0]
			wantQuery := url.Values{"fields": {"user_id,username,name,account_type"}, "access_token": {longToken}}
			if got.Method != http.MethodGet || got.Path != tc.wantPath || !reflect.DeepEqual(got.Query, wantQuery) {
				t.Fatalf("request %+v, want GET %s %v", got, tc.wantPath, wantQuery)
			}
		})
	}
}

func TestBaseURLWithPathPrefix(t *testing.T) {
	srv := newFakeServer(t, respond(200, nil, fixture(t, "me_flat.json")))
	c := newClient(srv.URL+"/ig/", nil, nil)
	if _, err := c.Profile(context.Background(), longToken); err != nil {
		t.Fatal(err)
	}
	if p := srv.requests()[0].Path; p != "/ig/v25.0/me" {
		t.Fatalf("path %q", p)
	}
}

// call runs one endpoint against srvURL with fixed credentials.
func call(ctx context.Context, c *instagram.Client, ep instagram.Endpoint) error {
	var err error
	switch ep {
	case instagram.EndpointCodeExchange:
		_, err = c.ExchangeCode(ctx, app, redirectURI, authCode+"#_")
	case instagram.EndpointTokenExchange:
		_, err = c.ExchangeForLongLived(ctx, app, shortToken)
	case instagram.EndpointRefresh:
		_, err = c.RefreshToken(ctx, longToken)
	case instagram.EndpointProfile:
		_, err = c.Profile(ctx, longToken)
	}
	return err
}

var endpoints = []instagram.Endpoint{
	instagram.EndpointCodeExchange, instagram.EndpointTokenExchange, instagram.EndpointRefresh, instagram.EndpointProfile,
}

func TestErrorResponses(t *testing.T) {
	throttleHeaders := map[string]string{
		"X-App-Usage":               `{"call_count":100,"total_cputime":20,"total_time":35}`,
		"X-Business-Use-Case-Usage": `{"17841400000000001":[{"type":"instagram","call_count":100,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":9}]}`,
	}
	tests := []struct {
		name    string
		ep      instagram.Endpoint
		status  int
		headers map[string]string
		body    string // a file in testdata/responses, or literal text
		want    instagram.Error
	}{
		// §2 and §11: the code exchange, legacy envelope.
		{"code reused", instagram.EndpointCodeExchange, 400, nil, "err_legacy_code_used.json",
			instagram.Error{Class: instagram.ClassReauthorize, Code: 400, Type: "OAuthException", Message: "Matching code was not found or was already used."}},
		{"Meta app credentials", instagram.EndpointCodeExchange, 400, nil, "err_legacy_invalid_platform_app.json",
			instagram.Error{Class: instagram.ClassConfiguration, Code: 400, Type: "OAuthException", Message: "Invalid platform app"}},
		{"verification code", instagram.EndpointCodeExchange, 400, nil, "err_legacy_verification_code.json",
			instagram.Error{Class: instagram.ClassReauthorize, Code: 400, Type: "OAuthException",
				Message: "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"}},
		{"mismatched redirect", instagram.EndpointCodeExchange, 400, nil, "err_legacy_mismatched_redirect.json",
			instagram.Error{Class: instagram.ClassConfiguration, Code: 400, Type: "OAuthException", Message: "Mismatched redirect_uri"}},
		// §3, §4, §6 and §11: graph.instagram.com, Graph envelope.
		{"exchange of an expired short token", instagram.EndpointTokenExchange, 400, nil, "err_graph_190_463.json",
			instagram.Error{Class: instagram.ClassReauthorize, Code: 190, Subcode: 463, Type: "OAuthException", FBTraceID: "A1b2C3",
				Message: "Error validating access token: Session has expired on Friday, 11-Sep-20 06:41:31 PDT. The current time is Wednesday, 18-Nov-20 06:50:07 PST."}},
		{"bad client secret", instagram.EndpointTokenExchange, 400, nil, "err_graph_client_secret.json",
			instagram.Error{Class: instagram.ClassConfiguration, Code: 1, Type: "OAuthException", FBTraceID: "J0yZ5a", Message: "Error validating client secret."}},
		{"refresh: password changed", instagram.EndpointRefresh, 400, nil, "err_graph_190_460.json",
			instagram.Error{Class: instagram.ClassReauthorize, Code: 190, Subcode: 460, Type: "OAuthException", FBTraceID: "AxQ9rT1",
				Message: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."}},
		{"refresh: app removed", instagram.EndpointRefresh, 400, nil, "err_graph_190_458.json",
			instagram.Error{Class: instagram.ClassReauthorize, Code: 190, Subcode: 458, Type: "OAuthException", FBTraceID: "B7kLm2",
				Message: "Error validating access token: The user has not authorized application 990602627938098."}},
		{"profile: checkpointed", instagram.EndpointProfile, 400, nil, "err_graph_190_459.json",
			instagram.Error{Class: instagram.ClassAccount, Code: 190, Subcode: 459, Type: "OAuthException", FBTraceID: "C3pQ8s",
				Message: "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given."}},
		{"refresh: unconfirmed user", instagram.EndpointRefresh, 400, nil, "err_graph_190_464.json",
			instagram.Error{Class: instagram.ClassAccount, Code: 190, Subcode: 464, Type: "OAuthException", FBTraceID: "D4rS9t",
				Message: "Error validating access token: Sessions for the user are not allowed because the user is not a confirmed user."}},
		{"refresh: too young (sandbox)", instagram.EndpointRefresh, 400, nil, "err_graph_100_too_young.json",
			instagram.Error{Class: instagram.ClassRetryLater, Code: 100, Type: "OAuthException", FBTraceID: "H8wX3y",
				Message: "(#100) The access token is less than 24 hours old and cannot be refreshed yet"}},
		{"profile: permission removed", instagram.EndpointProfile, 400, nil, "err_graph_10_permission.json",
			instagram.Error{Class: instagram.ClassReauthorize, Code: 10, Type: "OAuthException", FBTraceID: "G7vW2x",
				Message: "(#10) Application does not have permission for this action"}},
		{"profile: invalid parameter", instagram.EndpointProfile, 400, nil, "err_graph_100_invalid_param.json",
			instagram.Error{Class: instagram.ClassConfiguration, Code: 100, Type: "OAuthException", FBTraceID: "I9xY4z", Message: "(#100) Invalid parameter"}},
		{"refresh: dead token, GET rejected", instagram.EndpointRefresh, 400, nil, "err_graph_unsupported_get.json",
			instagram.Error{Class: instagram.ClassReauthorize, Message: "Unsupported request - method type: get"}},
		{"throttled with usage headers", instagram.EndpointRefresh, 400, throttleHeaders, "err_graph_4_throttled.json",
			instagram.Error{Class: instagram.ClassRetryLater, Code: 4, Type: "OAuthException", FBTraceID: "E5tU0v", Transient: true,
				Message: "(#4) Application request limit reached", RetryAfter: 9 * time.Minute}},
		{"BUC throttle with Retry-After", instagram.EndpointProfile, 400, map[string]string{"Retry-After": "3600"}, "err_graph_80002_buc.json",
			instagram.Error{Class: instagram.ClassRetryLater, Code: 80002, Type: "OAuthException", FBTraceID: "F6uV1w", Transient: true,
				Message: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.", RetryAfter: time.Hour}},
		{"service error 2 under 500", instagram.EndpointProfile, 500, nil, "err_graph_2_service.json",
			instagram.Error{Class: instagram.ClassRetryLater, Code: 2, Type: "OAuthException", FBTraceID: "K1zA6b", Transient: true,
				Message: "An unexpected error has occurred. Please retry your request later."}},
		{"error envelope under HTTP 200", instagram.EndpointProfile, 200, nil, "err_graph_190_463.json",
			instagram.Error{Class: instagram.ClassReauthorize, Code: 190, Subcode: 463, Type: "OAuthException", FBTraceID: "A1b2C3",
				Message: "Error validating access token: Session has expired on Friday, 11-Sep-20 06:41:31 PDT. The current time is Wednesday, 18-Nov-20 06:50:07 PST."}},
		// Bodies that say nothing: RetryLater.
		{"502 with HTML", instagram.EndpointRefresh, 502, nil, "err_5xx_html.html",
			instagram.Error{Class: instagram.ClassRetryLater, Transient: true, Message: "unexpected HTTP 502 without an Instagram error body"}},
		{"503 empty with Retry-After", instagram.EndpointRefresh, 503, map[string]string{"Retry-After": "30"}, "",
			instagram.Error{Class: instagram.ClassRetryLater, Transient: true, Message: "unexpected HTTP 503 without an Instagram error body",
				RetryAfter: 30 * time.Second}},
		{"429 without body", instagram.EndpointProfile, 429, nil, "",
			instagram.Error{Class: instagram.ClassRetryLater, Message: "unexpected HTTP 429 without an Instagram error body"}},
		{"404 HTML from a wrong URL", instagram.EndpointProfile, 404, nil, "<html>Sorry, this page isn't available.</html>",
			instagram.Error{Class: instagram.ClassRetryLater, Message: "unexpected HTTP 404 without an Instagram error body"}},
		{"redirect is not followed", instagram.EndpointCodeExchange, 302, map[string]string{"Location": "https://example.com/"}, "",
			instagram.Error{Class: instagram.ClassRetryLater, Message: "unexpected redirect (HTTP 302); check the configured Instagram URLs"}},
		{"200 truncated", instagram.EndpointCodeExchange, 200, nil, `{"access_token":"IGAAx","user_id":27640`,
			instagram.Error{Class: instagram.ClassRetryLater, Message: "malformed response from Instagram: truncated JSON"}},
		{"200 empty", instagram.EndpointTokenExchange, 200, nil, "",
			instagram.Error{Class: instagram.ClassRetryLater, Message: "malformed response from Instagram: empty response body"}},
		{"200 HTML", instagram.EndpointRefresh, 200, nil, "err_5xx_html.html",
			instagram.Error{Class: instagram.ClassRetryLater, Message: "malformed response from Instagram: invalid JSON at offset 1"}},
		{"200 without access_token", instagram.EndpointRefresh, 200, nil, `{"token_type":"bearer","expires_in":5184000}`,
			instagram.Error{Class: instagram.ClassRetryLater, Message: "malformed response from Instagram: response has no access_token"}},
		{"200 profile without user_id", instagram.EndpointProfile, 200, nil, `{"id":"1","username":"acme"}`,
			instagram.Error{Class: instagram.ClassRetryLater, Message: "malformed response from Instagram: profile has no user_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.body
			if strings.HasSuffix(b, ".json") || strings.HasSuffix(b, ".html") {
				b = fixture(t, b)
			}
			srv := newFakeServer(t, respond(tt.status, tt.headers, b))
			obs := &observed{}
			err := call(context.Background(), newClient(srv.URL, obs, nil), tt.ep)
			var e *instagram.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want *instagram.Error", err, err)
			}
			got := *e
			got.Usage = instagram.Usage{}
			want := tt.want
			want.Endpoint, want.HTTPStatus = tt.ep, tt.status
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
			if instagram.ClassOf(err) != tt.want.Class || instagram.RetryAfterOf(err) != tt.want.RetryAfter {
				t.Fatalf("ClassOf/RetryAfterOf = %s/%s", instagram.ClassOf(err), instagram.RetryAfterOf(err))
			}
			if errors.Unwrap(err) != nil {
				t.Fatalf("an error Instagram reported unwraps to %v", errors.Unwrap(err))
			}
			calls := obs.all()
			if len(calls) != 1 || calls[0].Endpoint != tt.ep || calls[0].Outcome != instagram.Outcome(tt.want.Class) ||
				calls[0].HTTPStatus != tt.status || !reflect.DeepEqual(calls[0].Usage, e.Usage) {
				t.Fatalf("observed %+v", calls)
			}
		})
	}
}

func TestUsageIsAttachedAndObserved(t *testing.T) {
	headers := map[string]string{
		"X-App-Usage":               `{"call_count":28,"total_cputime":25,"total_time":25}`,
		"X-Business-Use-Case-Usage": `{"17841400000000001":[{"type":"instagram","call_count":91,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":0}]}`,
	}
	wantUsage := instagram.Usage{
		App:             &instagram.AppUsage{CallCount: 28, TotalCPUTime: 25, TotalTime: 25},
		BusinessUseCase: map[string][]instagram.BusinessUseCaseUsage{"17841400000000001": {{Type: "instagram", CallCount: 91, TotalCPUTime: 25, TotalTime: 25}}},
	}

	t.Run("success", func(t *testing.T) {
		srv := newFakeServer(t, respond(200, headers, fixture(t, "me_flat.json")))
		obs := &observed{}
		if _, err := newClient(srv.URL, obs, nil).Profile(context.Background(), longToken); err != nil {
			t.Fatal(err)
		}
		calls := obs.all()
		if len(calls) != 1 || calls[0].Outcome != instagram.OutcomeSuccess || calls[0].HTTPStatus != 200 ||
			calls[0].Endpoint != instagram.EndpointProfile || calls[0].Duration <= 0 || !reflect.DeepEqual(calls[0].Usage, wantUsage) {
			t.Fatalf("observed %+v", calls)
		}
		if calls[0].Usage.MaxPercent() != 91 {
			t.Fatalf("MaxPercent = %d", calls[0].Usage.MaxPercent())
		}
	})
	t.Run("error", func(t *testing.T) {
		srv := newFakeServer(t, respond(400, headers, fixture(t, "err_graph_190_463.json")))
		_, err := newClient(srv.URL, nil, nil).RefreshToken(context.Background(), longToken)
		var e *instagram.Error
		if !errors.As(err, &e) || !reflect.DeepEqual(e.Usage, wantUsage) {
			t.Fatalf("error %+v, want usage %+v", err, wantUsage)
		}
	})
}

func TestRetryAfterHTTPDateUsesConfiguredClock(t *testing.T) {
	now := time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)
	srv := newFakeServer(t, respond(503, map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, ""))
	c := newClient(srv.URL, nil, func(c *instagram.Config) { c.Clock = clocktesting.NewFakePassiveClock(now) })
	_, err := c.RefreshToken(context.Background(), longToken)
	if got := instagram.RetryAfterOf(err); got != 90*time.Second {
		t.Fatalf("RetryAfterOf = %s, want 90s (err %v)", got, err)
	}
}

func TestOversizeBodyIsAnError(t *testing.T) {
	const limit = 64
	for _, status := range []int{200, 400} {
		// A body that would decode if truncated at the limit is still refused.
		b := `{"access_token":"IGAAx","token_type":"bearer"}` + strings.Repeat(" ", limit)
		srv := newFakeServer(t, respond(status, nil, b))
		obs := &observed{}
		_, err := newClient(srv.URL, obs, func(c *instagram.Config) { c.MaxResponseBytes = limit }).RefreshToken(context.Background(), longToken)
		if instagram.ClassOf(err) != instagram.ClassRetryLater || !strings.Contains(err.Error(), "exceeds the 64-byte limit") {
			t.Fatalf("HTTP %d: error %v, want an oversize RetryLater", status, err)
		}
		if calls := obs.all(); len(calls) != 1 || calls[0].Outcome != instagram.Outcome(instagram.ClassRetryLater) {
			t.Fatalf("observed %+v", calls)
		}
	}
	// Exactly at the limit is fine.
	b := `{"access_token":"IGAAx"}`
	srv := newFakeServer(t, respond(200, nil, b))
	c := newClient(srv.URL, nil, func(c *instagram.Config) { c.MaxResponseBytes = int64(len(b)) })
	if _, err := c.RefreshToken(context.Background(), longToken); err != nil {
		t.Fatalf("body at the limit: %v", err)
	}
}

// blockUntilDone is a handler that hangs until the client gives up; no
// sleeping, so the test takes as long as the client's timeout and no more.
func blockUntilDone(headersFirst bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if headersFirst {
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"access_token":`)
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	}
}

func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		name         string
		headersFirst bool
		custom       bool
	}{
		{"no response", false, false},
		{"body never finishes", true, false},
		{"caller's client without its own timeout", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer(t, blockUntilDone(tc.headersFirst))
			obs := &observed{}
			c := newClient(srv.URL, obs, func(c *instagram.Config) {
				c.Timeout = 50 * time.Millisecond
				if tc.custom {
					c.HTTPClient = &http.Client{}
				}
			})
			_, err := c.RefreshToken(context.Background(), longToken)
			var e *instagram.Error
			if !errors.As(err, &e) || e.Class != instagram.ClassRetryLater || !e.Transient || !strings.Contains(e.Message, "timed out") {
				t.Fatalf("error %v, want a transient RetryLater timeout", err)
			}
			if errors.Unwrap(err) == nil {
				t.Fatal("timeout error does not unwrap to its cause")
			}
			if calls := obs.all(); len(calls) != 1 || calls[0].Outcome != instagram.Outcome(instagram.ClassRetryLater) {
				t.Fatalf("observed %+v", calls)
			}
		})
	}
}

func TestCallerCancellationStaysDistinguishable(t *testing.T) {
	arrived := make(chan struct{})
	srv := newFakeServer(t, func(_ http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := newClient(srv.URL, nil, nil).Profile(ctx, longToken)
	if !errors.Is(err, context.Canceled) || instagram.ClassOf(err) != instagram.ClassRetryLater {
		t.Fatalf("error %v: want errors.Is(context.Canceled) and class RetryLater", err)
	}
	if !strings.Contains(err.Error(), "request canceled") {
		t.Fatalf("error %q does not say it was canceled", err)
	}
}

func TestLocalValidationSendsNothing(t *testing.T) {
	srv := newFakeServer(t, respond(500, nil, ""))
	obs := &observed{}
	c := newClient(srv.URL, obs, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		run  func() error
		want instagram.Class
	}{
		{"no client secret", func() error {
			_, err := c.ExchangeCode(ctx, instagram.App{ClientID: clientID}, redirectURI, authCode)
			return err
		}, instagram.ClassConfiguration},
		{"no client id", func() error {
			_, err := c.ExchangeForLongLived(ctx, instagram.App{ClientSecret: clientSecret}, shortToken)
			return err
		}, instagram.ClassConfiguration},
		{"no redirect URI", func() error { _, err := c.ExchangeCode(ctx, app, "", authCode); return err }, instagram.ClassConfiguration},
		{"code is only #_", func() error { _, err := c.ExchangeCode(ctx, app, redirectURI, "#_"); return err }, instagram.ClassReauthorize},
		{"no short token", func() error { _, err := c.ExchangeForLongLived(ctx, app, " "); return err }, instagram.ClassReauthorize},
		{"no long token", func() error { _, err := c.RefreshToken(ctx, ""); return err }, instagram.ClassReauthorize},
		{"no profile token", func() error { _, err := c.Profile(ctx, ""); return err }, instagram.ClassReauthorize},
		{"bad base URL", func() error {
			_, err := newClient("ftp://x", obs, nil).RefreshToken(ctx, longToken)
			return err
		}, instagram.ClassConfiguration},
		{"unparsable base URL", func() error {
			_, err := newClient("http://[::1", obs, nil).RefreshToken(ctx, longToken)
			return err
		}, instagram.ClassConfiguration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			var e *instagram.Error
			if !errors.As(err, &e) || e.Class != tt.want || e.HTTPStatus != 0 {
				t.Fatalf("error %v, want class %s", err, tt.want)
			}
		})
	}
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	if n := len(obs.all()); n != 0 {
		t.Fatalf("%d calls observed for requests never sent", n)
	}
}

func TestClassOfAndRetryAfterOf(t *testing.T) {
	e := &instagram.Error{Class: instagram.ClassAccount, RetryAfter: time.Minute}
	tests := []struct {
		name  string
		err   error
		class instagram.Class
		after time.Duration
	}{
		{"nil", nil, "", 0},
		{"foreign error", errors.New("boom"), instagram.ClassRetryLater, 0},
		{"context canceled", context.Canceled, instagram.ClassRetryLater, 0},
		{"*Error", e, instagram.ClassAccount, time.Minute},
		{"wrapped *Error", errors.Join(errors.New("refresh"), e), instagram.ClassAccount, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := instagram.ClassOf(tt.err); got != tt.class {
				t.Errorf("ClassOf = %q, want %q", got, tt.class)
			}
			if got := instagram.RetryAfterOf(tt.err); got != tt.after {
				t.Errorf("RetryAfterOf = %s, want %s", got, tt.after)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := &instagram.Error{
		Class: instagram.ClassReauthorize, Endpoint: instagram.EndpointRefresh, HTTPStatus: 400,
		Type: "OAuthException", Code: 190, Subcode: 463, Message: "Error validating access token: Session has expired",
		FBTraceID: "A1b2C3", RetryAfter: time.Minute,
	}
	want := "instagram refresh: HTTP 400: OAuthException (#190/463): Error validating access token: Session has expired (fbtrace_id A1b2C3) (retry after 1m0s) [ReauthorizationRequired]"
	if got := e.Error(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
