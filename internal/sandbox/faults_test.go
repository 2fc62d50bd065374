package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestThrottleForNCalls(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.issue(TokenRequest{IssuedAt: t0.Add(-2 * day)})
	if err := e.sb.InjectFault(Fault{Kind: FaultThrottle, Endpoint: EndpointRefresh, Count: 2, RegainAccessMinutes: 7}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		r := e.get(refreshPath(tok))
		expectGraphError(t, r, `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"is_transient":true,"fbtrace_id":"TRACE"}}`)
		if got := r.header.Get("X-App-Usage"); got != `{"call_count":100,"total_cputime":100,"total_time":100}` {
			t.Fatalf("X-App-Usage %q", got)
		}
		if got := r.header.Get("X-Business-Use-Case-Usage"); got != `{"17841400000000001":[{"type":"instagram","call_count":100,"total_cputime":100,"total_time":100,"estimated_time_to_regain_access":7}]}` {
			t.Fatalf("X-Business-Use-Case-Usage %q", got)
		}
		// Other endpoints are unaffected.
		if r := e.get("/v25.0/me" + q("access_token", tok)); r.status != http.StatusOK {
			t.Fatalf("profile during refresh throttle: %d", r.status)
		}
	}
	if r := e.get(refreshPath(tok)); r.status != http.StatusOK || r.header.Get("X-App-Usage") != "" {
		t.Fatalf("third call: %d %q", r.status, r.header.Get("X-App-Usage"))
	}
	if n := e.sb.CallCount(EndpointRefresh); n != 3 {
		t.Fatalf("refresh count %d", n)
	}
}

func TestThrottleUntilClearedAndCodeExchangeEnvelope(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.sb.InjectFault(Fault{Kind: FaultThrottle, Endpoint: EndpointCodeExchange}); err != nil {
		t.Fatal(err)
	}
	code := e.login("", ScopeBasic)
	for i := 0; i < 3; i++ {
		r := e.postForm("/oauth/access_token", exchangeValues(code))
		expectBody(t, r, http.StatusBadRequest, `{"error_type":"OAuthException","code":4,"error_message":"(#4) Application request limit reached"}`)
		if !strings.HasPrefix(r.header.Get("X-Business-Use-Case-Usage"), `{"990000000000001":[`) {
			t.Fatalf("BUC header %q", r.header.Get("X-Business-Use-Case-Usage"))
		}
	}
	if got := e.sb.Faults(); len(got) != 1 || got[0].Count != 0 {
		t.Fatalf("faults %+v", got)
	}
	e.sb.ClearFaults()
	// The throttled calls had no side effect: the code still works.
	if r := e.postForm("/oauth/access_token", exchangeValues(code)); r.status != http.StatusOK {
		t.Fatalf("after clearing: %d %s", r.status, r.body)
	}
}

func TestServerErrors(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.issue(TokenRequest{})
	must(t, e.sb.InjectFault(Fault{Kind: FaultServerError, Endpoint: EndpointProfile, Count: 1, Status: 503, HTML: true}))
	must(t, e.sb.InjectFault(Fault{Kind: FaultServerError, Endpoint: EndpointProfile, Count: 1}))
	r := e.get("/v25.0/me" + q("access_token", tok))
	if r.status != 503 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<h1>Sorry, something went wrong.</h1>") {
		t.Fatalf("HTML 5xx: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	r = e.get("/v25.0/me" + q("access_token", tok))
	if r.status != 500 || normTrace(r.body) != `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"TRACE"}}` {
		t.Fatalf("JSON 5xx: %d %s", r.status, r.body)
	}
	if r := e.get("/v25.0/me" + q("access_token", tok)); r.status != http.StatusOK {
		t.Fatalf("after the faults: %d", r.status)
	}
	// A fault for every endpoint, with a specific one taking precedence.
	must(t, e.sb.InjectFault(Fault{Kind: FaultServerError, Count: 2, Status: 502}))
	must(t, e.sb.InjectFault(Fault{Kind: FaultThrottle, Endpoint: EndpointCodeExchange, Count: 1}))
	if r := e.postForm("/oauth/access_token", exchangeValues("x")); r.status != http.StatusBadRequest || !strings.Contains(r.body, `"code":4`) {
		t.Fatalf("specific fault first: %d %s", r.status, r.body)
	}
	expectBody(t, e.postForm("/oauth/access_token", exchangeValues("x")), 502,
		`{"error_type":"OAuthException","code":502,"error_message":"An unexpected error has occurred. Please retry your request later."}`)
	if r := e.get("/oauth/authorize"); r.status != 502 || !strings.Contains(r.body, "not Instagram") {
		t.Fatalf("authorize 5xx: %d %s", r.status, r.body)
	}
	if len(e.sb.Faults()) != 0 {
		t.Fatalf("faults left: %+v", e.sb.Faults())
	}
}

func TestInjectFaultValidation(t *testing.T) {
	s := New(Options{})
	for _, f := range []Fault{
		{Kind: "explode"},
		{Kind: FaultThrottle, Endpoint: "media"},
		{Kind: FaultServerError, Status: 404},
		{Kind: FaultThrottle, Status: 200},
		{Kind: FaultHang, Count: -1},
		{Kind: FaultHang, HangFor: -time.Second},
	} {
		if err := s.InjectFault(f); err == nil {
			t.Errorf("%+v accepted", f)
		}
	}
}

// hangingEnv is an env whose hanging requests announce themselves, and whose
// handler reports when a request has finished.
func hangingEnv(t *testing.T) (*env, chan struct{}, chan struct{}) {
	started, finished := make(chan struct{}, 10), make(chan struct{}, 10)
	e := newEnvWith(t, Options{}, func(sb *Sandbox) http.Handler {
		sb.hangStarted = func() { started <- struct{}{} }
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() { finished <- struct{}{} }()
			sb.ServeHTTP(w, r)
		})
	})
	return e, started, finished
}

func TestHangUntilClientGivesUp(t *testing.T) {
	e, started, finished := hangingEnv(t)
	must(t, e.sb.InjectFault(Fault{Kind: FaultHang, Endpoint: EndpointTokenExchange, Count: 1}))
	short := e.issue(TokenRequest{Kind: ShortLived})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+exchangePath("", short), nil)
		resp, err := e.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error %v", err)
	}
	<-finished // the handler returned instead of hanging forever
	// Nothing happened: the short token was not exchanged, the fault is used up.
	if r := e.get(exchangePath("", short)); r.status != http.StatusOK {
		t.Fatalf("after the hang: %d %s", r.status, r.body)
	}
}

func TestHangForADurationOnTheClock(t *testing.T) {
	e, started, _ := hangingEnv(t)
	must(t, e.sb.InjectFault(Fault{Kind: FaultHang, Endpoint: EndpointProfile, Count: 1, HangFor: 30 * time.Second}))
	tok := e.issue(TokenRequest{})
	done := make(chan response, 1)
	go func() { done <- e.get("/v25.0/me" + q("access_token", tok)) }()
	<-started
	select {
	case r := <-done:
		t.Fatalf("answered before the clock moved: %d", r.status)
	default:
	}
	e.clock.Step(30 * time.Second)
	if r := <-done; r.status != http.StatusOK {
		t.Fatalf("late answer: %d %s", r.status, r.body)
	}
}

func TestHangReleasedByClearFaults(t *testing.T) {
	e, started, _ := hangingEnv(t)
	must(t, e.sb.InjectFault(Fault{Kind: FaultHang}))
	done := make(chan response, 1)
	go func() { done <- e.get("/v25.0/me" + q("access_token", e.issue(TokenRequest{}))) }()
	<-started
	e.sb.ClearFaults()
	if r := <-done; r.status != http.StatusOK {
		t.Fatalf("released: %d %s", r.status, r.body)
	}
}

func TestMalformedBody(t *testing.T) {
	e := newEnv(t, Options{})
	must(t, e.sb.InjectFault(Fault{Kind: FaultMalformed, Endpoint: EndpointCodeExchange, Count: 1}))
	code := e.login("", ScopeBasic)
	r := e.postForm("/oauth/access_token", exchangeValues(code))
	var v any
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &v) == nil || r.header.Get("Content-Type") != "application/json; charset=UTF-8" {
		t.Fatalf("malformed: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	// The exchange happened behind the garbage: the code is used up.
	expectBody(t, e.postForm("/oauth/access_token", exchangeValues(code)), http.StatusBadRequest,
		`{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used."}`)
}

func TestTruncatedBody(t *testing.T) {
	e := newEnv(t, Options{})
	must(t, e.sb.InjectFault(Fault{Kind: FaultTruncated, Endpoint: EndpointProfile, Count: 1}))
	tok := e.issue(TokenRequest{})
	resp, err := http.Get(e.srv.URL + "/v25.0/me" + q("fields", "user_id,username,name", "access_token", tok))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	full := `{"id":"27640875392278831","user_id":"17841400000000001","username":"sandbox_business","name":"Sandbox Business"}`
	if !errors.Is(err, io.ErrUnexpectedEOF) || resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(full)) || string(body) != full[:len(full)/2] {
		t.Fatalf("truncated: %d len %d err %v body %q", resp.StatusCode, resp.ContentLength, err, body)
	}
	if r := e.get("/v25.0/me" + q("access_token", tok)); r.status != http.StatusOK {
		t.Fatalf("after: %d", r.status)
	}
}

func TestUsageHeadersOnSuccess(t *testing.T) {
	e := newEnv(t, Options{})
	e.sb.SetUsage(&Usage{CallCount: 42, TotalCPUTime: 7, TotalTime: 9, EstimatedTimeToRegainAccess: 0})
	tok := e.issue(TokenRequest{})
	r := e.get("/v25.0/me" + q("access_token", tok))
	if r.header.Get("X-App-Usage") != `{"call_count":42,"total_cputime":7,"total_time":9}` ||
		r.header.Get("X-Business-Use-Case-Usage") != `{"17841400000000001":[{"type":"instagram","call_count":42,"total_cputime":7,"total_time":9,"estimated_time_to_regain_access":0}]}` {
		t.Fatalf("headers %v", r.header)
	}
	if r := e.get("/v25.0/me"); r.header.Get("X-App-Usage") != "" {
		t.Fatal("usage headers on an error")
	}
	r = e.postForm("/oauth/access_token", exchangeValues(e.login("", ScopeBasic)))
	if !strings.HasPrefix(r.header.Get("X-Business-Use-Case-Usage"), `{"990000000000001":`) {
		t.Fatalf("code exchange headers %v", r.header)
	}
	e.sb.SetUsage(nil)
	if r := e.get("/v25.0/me" + q("access_token", tok)); r.header.Get("X-App-Usage") != "" {
		t.Fatal("usage headers after SetUsage(nil)")
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
