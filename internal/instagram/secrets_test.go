package instagram_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/igconnect/igconnect/internal/instagram"
)

// secrets are every value that must never appear in an error, in the forms
// they take on the wire.
var secrets = func() []string {
	plain := []string{clientSecret, authCode, shortToken, longToken}
	out := make([]string, 0, 3*len(plain))
	for _, s := range plain {
		out = append(out, s, url.QueryEscape(s), url.PathEscape(s))
	}
	return out
}()

// echoEverything answers with an error that quotes the whole request back:
// the URL with its query, every form value, in every text field of both
// envelopes. Instagram has been seen echoing request values; this is the
// worst case.
func echoEverything(legacy bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		parts := []string{r.URL.String(), r.URL.RawQuery, string(b)}
		for _, vs := range r.URL.Query() {
			parts = append(parts, vs...)
		}
		form, _ := url.ParseQuery(string(b))
		for _, vs := range form {
			parts = append(parts, vs...)
		}
		echo := strings.Join(parts, " | ")
		var body any
		if legacy {
			body = map[string]any{"error_type": "OAuthException " + echo, "code": 400, "error_message": "Invalid " + echo}
		} else {
			body = map[string]any{"error": map[string]any{
				"message": "Invalid OAuth access token " + echo, "type": echo, "code": 190,
				"error_user_title": echo, "error_user_msg": echo, "fbtrace_id": echo,
			}}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(body)
	}
}

// errorTexts returns every string a caller could get out of err: its
// message, the messages of everything it unwraps to, and its fields.
func errorTexts(err error) []string {
	var out []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		out = append(out, e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e))
	}
	var ie *instagram.Error
	if errors.As(err, &ie) {
		out = append(out, fmt.Sprintf("%+v", *ie), fmt.Sprintf("%#v", *ie))
	}
	return out
}

func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, text := range errorTexts(err) {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Fatalf("error text contains secret %q:\n%s", s, text)
			}
		}
	}
}

// closedPortURL returns a URL on which nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// leakyTransport fails the way a careless RoundTripper might: quoting the
// whole request URL in its error.
type leakyTransport struct{}

func (leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s", r.URL)
}

func TestNoSecretsInErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) *instagram.Client
		class instagram.Class
	}{
		{"Graph envelope echoing the request", func(t *testing.T) *instagram.Client {
			return newClient(newFakeServer(t, echoEverything(false)).URL, nil, nil)
		}, ""},
		{"legacy envelope echoing the request", func(t *testing.T) *instagram.Client {
			return newClient(newFakeServer(t, echoEverything(true)).URL, nil, nil)
		}, ""},
		{"connection refused", func(t *testing.T) *instagram.Client {
			return newClient(closedPortURL(t), nil, nil)
		}, instagram.ClassRetryLater},
		{"timeout", func(t *testing.T) *instagram.Client {
			srv := newFakeServer(t, blockUntilDone(false))
			return newClient(srv.URL, nil, func(c *instagram.Config) { c.Timeout = 50 * time.Millisecond })
		}, instagram.ClassRetryLater},
		{"transport quoting the URL", func(_ *testing.T) *instagram.Client {
			return newClient("http://127.0.0.1:1", nil, func(c *instagram.Config) { c.HTTPClient = &http.Client{Transport: leakyTransport{}} })
		}, instagram.ClassRetryLater},
		{"redirect to a URL carrying the token", func(t *testing.T) *instagram.Client {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://127.0.0.1:1/next?"+r.URL.RawQuery, http.StatusFound)
			})
			// A caller-supplied client follows redirects, into a closed port.
			return newClient(srv.URL, nil, func(c *instagram.Config) { c.HTTPClient = &http.Client{} })
		}, instagram.ClassRetryLater},
		{"malformed success body", func(t *testing.T) *instagram.Client {
			return newClient(newFakeServer(t, respond(200, nil, `{"access_token":"`+longToken+`"`)).URL, nil, nil)
		}, instagram.ClassRetryLater},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.setup(t)
			for _, ep := range endpoints {
				err := call(context.Background(), c, ep)
				assertNoSecrets(t, err)
				// The echo cases must really have echoed, or they test nothing.
				if strings.Contains(tt.name, "echoing") && !strings.Contains(err.Error(), "[REDACTED]") {
					t.Errorf("%s: nothing was redacted from %q", ep, err)
				}
				if tt.class != "" && instagram.ClassOf(err) != tt.class {
					t.Errorf("%s: class %s, want %s (%v)", ep, instagram.ClassOf(err), tt.class, err)
				}
			}
		})
	}
}

func TestNetworkErrorStaysUseful(t *testing.T) {
	_, err := newClient(closedPortURL(t), nil, nil).RefreshToken(context.Background(), longToken)
	var e *instagram.Error
	if !errors.As(err, &e) || !e.Transient || e.HTTPStatus != 0 {
		t.Fatalf("error %#v", err)
	}
	// The message keeps the host and path (what an operator needs) without
	// the query.
	if !strings.Contains(err.Error(), "/refresh_access_token") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %q lacks the endpoint or the cause", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) || strings.Contains(ue.URL, "?") {
		t.Fatalf("unwrapped url.Error %v still has a query", ue)
	}
	var ne net.Error
	if !errors.As(err, &ne) {
		t.Fatal("network error does not unwrap to a net.Error")
	}
}

func TestTokensDoNotPrint(t *testing.T) {
	values := []any{
		instagram.ShortLivedToken{AccessToken: shortToken, UserID: "27640875392278831", Permissions: []string{"instagram_business_basic"}},
		instagram.LongLivedToken{AccessToken: longToken, TokenType: "bearer", ExpiresIn: time.Hour},
		&instagram.LongLivedToken{AccessToken: longToken},
	}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, shortToken) || strings.Contains(out, longToken) || !strings.Contains(out, "[REDACTED]") {
				t.Errorf("%s of %T = %s", verb, v, out)
			}
		}
	}
	if got := fmt.Sprint(instagram.LongLivedToken{}); !strings.Contains(got, `AccessToken:""`) {
		t.Errorf("empty token prints as %s", got)
	}
}
