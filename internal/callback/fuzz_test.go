package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
)

// fuzzCookie is the browser cookie every fuzzed request carries, so seeds can hold states
// that verify and take the fuzzer past the state check.
const fuzzCookie = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// fuzzTarget is one handler shared by a fuzz worker's iterations. Its Instagram refuses every
// code, so no input writes anything and nothing leaves the process.
var fuzzTarget = sync.OnceValues(func() (http.Handler, *oauthstate.Signer) {
	clk := clockAt(t0)
	signer, err := oauthstate.NewSigner([]byte(testKey), clk)
	if err != nil {
		panic(err)
	}
	kube := fake.NewClientBuilder().WithScheme(testScheme()).WithStatusSubresource(&igv1.InstagramConnection{}).
		WithObjects(connectionObj(connNS, "acme", "uid-acme")).Build()
	h, err := NewHandler(Config{
		Client:      kube,
		APIReader:   kube,
		Instagram:   refusingInstagram{},
		Credentials: &appcreds.Resolver{Reader: kube, Default: instagram.App{ClientID: "1", ClientSecret: "s"}},
		Signer:      signer,
		Replay:      oauthstate.NewReplayGuard(clk, 1000),
		Clock:       clk,
		PublicURL:   "https://ig.example.test",
		Log:         logr.Discard(),
	})
	if err != nil {
		panic(err)
	}
	return h, signer
})

// refusingInstagram answers every code exchange as a spent code.
type refusingInstagram struct{}

func (refusingInstagram) AuthorizeURL(_, _ string, _ []string, state string) string {
	return "https://www.instagram.com/oauth/authorize?state=" + url.QueryEscape(state)
}

func (refusingInstagram) ExchangeCode(context.Context, instagram.App, string, string) (instagram.ShortLivedToken, error) {
	return instagram.ShortLivedToken{}, &instagram.Error{Class: instagram.ClassReauthorize, Message: "Matching code was not found or was already used."}
}

func (refusingInstagram) ExchangeForLongLived(context.Context, instagram.App, string) (instagram.LongLivedToken, error) {
	return instagram.LongLivedToken{}, &instagram.Error{Class: instagram.ClassReauthorize}
}

func (refusingInstagram) Profile(context.Context, string) (instagram.Profile, error) {
	return instagram.Profile{}, &instagram.Error{Class: instagram.ClassReauthorize}
}

// fuzzStates are valid states for fuzzCookie, with and without a ticket, per flow.
func fuzzStates(t testing.TB, flow string) []string {
	_, signer := fuzzTarget()
	plain, _, err := signer.NewState(fuzzCookie, "", flow, DefaultStateTTL)
	if err != nil {
		t.Fatal(err)
	}
	ticket := signer.Ticket(oauthstate.TicketRef{Namespace: connNS, Name: "acme", UID: "uid-acme"})
	withTicket, _, err := signer.NewState(fuzzCookie, ticket, flow, DefaultStateTTL)
	if err != nil {
		t.Fatal(err)
	}
	return []string{plain, withTicket}
}

// serveFuzz runs one request through the fuzz target.
func serveFuzz(req *http.Request) *httptest.ResponseRecorder {
	h, _ := fuzzTarget()
	req.Header.Set("Cookie", oauthstate.BrowserCookieName+"="+fuzzCookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// checkFuzzResponse holds for every answer: no server error, security headers, no header
// broken by CR or LF, and no header repeating a sizeable piece of the input.
func checkFuzzResponse(t *testing.T, rec *httptest.ResponseRecorder, inputs ...string) {
	t.Helper()
	if rec.Code < 200 || rec.Code >= 500 {
		t.Fatalf("status %d for hostile input; body:\n%s", rec.Code, rec.Body.String())
	}
	if rec.Header().Get("Content-Security-Policy") != contentSecurityPolicy || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("security headers missing: %v", rec.Header())
	}
	for name, values := range rec.Header() {
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n") {
				t.Fatalf("header %s has CR or LF: %q", name, v)
			}
			if name == "Location" || name == "Set-Cookie" {
				continue // checked by their own rules below
			}
			if in := reflected(v, inputs); in != "" {
				t.Fatalf("header %s repeats the input %q", name, in)
			}
		}
	}
	if loc := rec.Header().Get("Location"); loc != "" {
		t.Fatalf("a hostile input got a redirect to %q", loc)
	}
	if c := rec.Header().Get("Set-Cookie"); c != "" {
		t.Fatalf("a hostile input set a cookie: %q", c)
	}
}

func FuzzCallbackQuery(f *testing.F) {
	for _, s := range fuzzStates(f, oauthstate.FlowRedirect) {
		f.Add("code=AQBx-hBsH3abc%23_&state=" + url.QueryEscape(s))
		f.Add("state=" + url.QueryEscape(s) + "&code=" + url.QueryEscape("AQ\r\nSet-Cookie: a=b"))
	}
	for _, s := range fuzzStates(f, oauthstate.FlowJSON) {
		f.Add("code=abc&state=" + url.QueryEscape(s))
	}
	f.Add("")
	f.Add("error=access_denied&error_reason=user_denied&error_description=The+user+denied+your+request")
	f.Add("error=%0d%0aLocation:%20https://evil.example&state=x")
	f.Add("code=a&code=b&state=c&state=d")
	f.Add("code=%zz&state=%")
	f.Add("code=a;state=b")
	f.Add("code=\xff\xfe\xfd&state=\xc3\x28")
	f.Add("code=%ff%fe&state=%c3%28")
	f.Add("code=" + strings.Repeat("A", 5000) + "&state=x")
	f.Add(strings.Repeat("code=a&", 600))
	f.Add("code=%23_&state=%23_")
	f.Add("code=x&state=eyJ.eyJ")
	f.Fuzz(func(t *testing.T, query string) {
		req := &http.Request{
			Method:     http.MethodGet,
			URL:        &url.URL{Path: CallbackPath, RawQuery: query},
			Header:     http.Header{},
			Host:       "ig.example.test",
			Proto:      "HTTP/1.1",
			ProtoMajor: 1, ProtoMinor: 1,
			Body: http.NoBody,
		}
		inputs := []string{query}
		if q, err := url.ParseQuery(query); err == nil {
			for k, vs := range q {
				inputs = append(inputs, k)
				inputs = append(inputs, vs...)
			}
		}
		rec := serveFuzz(req.WithContext(context.Background()))
		checkFuzzResponse(t, rec, inputs...)
		if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Fatalf("Content-Type %q, want a page", ct)
		}
		if in := reflected(rec.Body.String(), inputs); in != "" {
			t.Fatalf("the page repeats the input %q", in)
		}
	})
}

func FuzzExchangeBody(f *testing.F) {
	for _, s := range fuzzStates(f, oauthstate.FlowJSON) {
		b, _ := json.Marshal(map[string]string{"code": "AQBx#_", "state": s})
		f.Add(b)
	}
	for _, s := range fuzzStates(f, oauthstate.FlowRedirect) {
		b, _ := json.Marshal(map[string]string{"code": "AQBx", "state": s})
		f.Add(b)
	}
	f.Add([]byte(``))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"code":"a","state":"b"}{"code":"c"}`))
	f.Add([]byte(`{"code":1,"state":true}`))
	f.Add([]byte(`{"code":"\u0000\r\n","state":"\ud800"}`))
	f.Add([]byte("{\"code\":\"\xff\xfe\",\"state\":\"x\"}"))
	f.Add([]byte(`{"code":"` + strings.Repeat("a", 3000) + `","state":"x"}`))
	f.Add(bytes.Repeat([]byte(`[`), 10000))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, ExchangePath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := serveFuzz(req)
		inputs := []string{string(body)}
		var fields map[string]any
		if json.Unmarshal(body, &fields) == nil {
			for _, v := range fields {
				if s, ok := v.(string); ok {
					inputs = append(inputs, s)
				}
			}
		}
		checkFuzzResponse(t, rec, inputs...)
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q, want JSON", ct)
		}
		var answer jsonError
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer.Error.Code == "" || answer.Error.Message == "" {
			t.Fatalf("status %d with a body that is not a JSON error: %s", rec.Code, rec.Body.String())
		}
		if in := reflected(answer.Error.Message, inputs); in != "" {
			t.Fatalf("the error message repeats the input %q", in)
		}
	})
}

// knownText is every text the package can put in a response on its own: its source (all
// messages are literals there), its template and its numeric limits. An input found in it
// proves nothing when it shows up in a response.
var knownText = sync.OnceValue(func() string {
	var b strings.Builder
	files, _ := filepath.Glob("*.go")
	files = append(files, "templates/page.html")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			panic(err)
		}
		b.Write(src)
	}
	fmt.Fprint(&b, maxQueryBytes, " ", maxBodyBytes, " ", http.StatusText(http.StatusBadRequest))
	return b.String()
})

// reflected returns the first input that out repeats, raw or HTML-escaped, among inputs
// long and varied enough to be the input's own text rather than a coincidence.
func reflected(out string, inputs []string) string {
	for _, in := range inputs {
		if len(in) < 8 || distinctBytes(in) < 4 || strings.Contains(knownText(), in) {
			continue
		}
		if strings.Contains(out, in) || strings.Contains(out, html.EscapeString(in)) {
			return in
		}
	}
	return ""
}

// distinctBytes counts the different bytes in s.
func distinctBytes(s string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n
}
