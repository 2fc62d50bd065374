package callback

import (
	"encoding/json"
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// refusal is what a refused request must look like.
type refusal struct {
	status int
	code   string
	// says are fragments the page or JSON message must contain.
	says []string
}

// checkRefused asserts that do is refused as want and changes nothing in the cluster.
func checkRefused(t *testing.T, e *env, do func() response, want refusal) response {
	t.Helper()
	before := e.snapshot()
	r := do()
	if r.status != want.status {
		t.Errorf("status %d, want %d; body:\n%s", r.status, want.status, r.body)
	}
	assertSecurityHeaders(t, r.header)
	text := html.UnescapeString(r.body)
	if strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		var body jsonError
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatalf("JSON error body does not decode: %v: %s", err, r.body)
		}
		if body.Error.Code != want.code || body.Error.Message == "" {
			t.Errorf("JSON error %+v, want code %s with a message", body.Error, want.code)
		}
		text = body.Error.Message
	} else {
		if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q, want an HTML page", ct)
		}
		if !strings.Contains(r.body, "<code>"+want.code+"</code>") {
			t.Errorf("page does not show error code %s:\n%s", want.code, r.body)
		}
		if !strings.Contains(r.body, "What to do next") {
			t.Errorf("page does not say what to do next")
		}
	}
	for _, s := range want.says {
		if !strings.Contains(text, s) {
			t.Errorf("response does not say %q:\n%s", s, pageText(text))
		}
	}
	if after := e.snapshot(); after != before {
		t.Errorf("a refused request changed the cluster:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	return r
}

func TestCallbackRefusals(t *testing.T) {
	otherSigner, err := oauthstate.NewSigner([]byte("another-key-another-key-another-key"), clockAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	mismatch := connectionObj("marketing", "pinned", "uid-pinned", func(c *igv1.InstagramConnection) {
		c.Spec.InstagramUserID = "17841499999999999"
	})
	foreign := connectionObj("marketing", "foreign", "uid-foreign")
	foreignSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "marketing", Name: "foreign-token",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "x", UID: "uid-x",
			Controller: ptr.To(true)}}}}
	unowned := connectionObj("marketing", "unowned", "uid-unowned")
	unownedSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "marketing", Name: "unowned-token"},
		Data: map[string][]byte{"tls.crt": []byte("x")}}
	gone := connectionObj("marketing", "gone", "uid-gone")

	cases := []struct {
		name  string
		opts  envOptions
		setup func(e *env, b *browser) func() response
		want  refusal
	}{
		{
			name: "user denied",
			setup: func(_ *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				return func() response {
					return b.get(CallbackPath + "?error=access_denied&error_reason=user_denied&error_description=" +
						"Call+555-EVIL+for+help&state=" + state)
				}
			},
			want: refusal{http.StatusBadRequest, codeAccessDenied, []string{"You declined", "nothing was changed"}},
		},
		{
			name: "other Instagram error",
			setup: func(_ *env, b *browser) func() response {
				return func() response { return b.get(CallbackPath + "?error=server_error") }
			},
			want: refusal{http.StatusBadRequest, codeAuthorizationFailed, []string{"error instead of an authorization code"}},
		},
		{
			name: "missing code",
			setup: func(_ *env, b *browser) func() response {
				return func() response { return b.get(CallbackPath + "?state=abc") }
			},
			want: refusal{http.StatusBadRequest, codeMissingParameter, []string{"no code parameter"}},
		},
		{
			name: "missing state",
			setup: func(e *env, b *browser) func() response {
				return func() response { return b.get(CallbackPath + "?code=" + e.code("")) }
			},
			want: refusal{http.StatusBadRequest, codeMissingParameter, []string{"no state parameter"}},
		},
		{
			name: "empty code after stripping #_",
			setup: func(_ *env, b *browser) func() response {
				return func() response { return b.get(CallbackPath + "?code=%23_&state=abc") }
			},
			want: refusal{http.StatusBadRequest, codeMissingParameter, []string{"no code parameter"}},
		},
		{
			name: "repeated code",
			setup: func(_ *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				return func() response {
					return b.get(CallbackPath + "?code=a&code=b&state=" + state)
				}
			},
			want: refusal{http.StatusBadRequest, codeInvalidParameter, []string{"code parameter is given more than once"}},
		},
		{
			name: "bad escape",
			setup: func(_ *env, b *browser) func() response {
				return func() response { return b.get(CallbackPath + "?code=%zz&state=x") }
			},
			want: refusal{http.StatusBadRequest, codeInvalidParameter, []string{"not well-formed"}},
		},
		{
			name: "code with control characters",
			setup: func(_ *env, b *browser) func() response {
				return func() response { return b.get(CallbackPath + "?code=ab%0D%0ASet-Cookie:x&state=x") }
			},
			want: refusal{http.StatusBadRequest, codeInvalidParameter, []string{"not an Instagram authorization code"}},
		},
		{
			name: "query too long",
			setup: func(_ *env, b *browser) func() response {
				return func() response { return b.get(CallbackPath + "?code=" + strings.Repeat("a", 5000) + "&state=x") }
			},
			want: refusal{http.StatusRequestURITooLong, codeQueryTooLong, []string{"4096 bytes"}},
		},
		{
			name: "malformed state",
			setup: func(e *env, b *browser) func() response {
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), "not-a-state")) }
			},
			want: refusal{http.StatusBadRequest, codeInvalidState, []string{"malformed"}},
		},
		{
			name: "forged state",
			setup: func(e *env, b *browser) func() response {
				b.start("")
				forged, _, err := otherSigner.NewState(cookieValue(t, b), "", "", time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), forged)) }
			},
			want: refusal{http.StatusForbidden, codeForgedState, []string{"signature"}},
		},
		{
			name: "expired state",
			setup: func(e *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				code := e.code("")
				e.clock.Step(DefaultStateTTL + time.Second)
				return func() response { return b.get(CallbackPath + callbackQuery(code, state)) }
			},
			want: refusal{http.StatusBadRequest, codeExpiredState, []string{"took longer"}},
		},
		{
			name: "another browser",
			setup: func(e *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				other := e.newBrowser()
				other.start("")
				return func() response { return other.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusForbidden, codeWrongBrowser, []string{"different browser"}},
		},
		{
			name: "no cookie",
			setup: func(e *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				return func() response { return e.newBrowser().get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusForbidden, codeWrongBrowser, []string{"different browser"}},
		},
		{
			name: "replayed state",
			setup: func(e *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				q := callbackQuery(e.code(""), state)
				if r := b.get(CallbackPath + q); r.status != http.StatusOK {
					t.Fatalf("first use: %d %s", r.status, r.body)
				}
				return func() response { return b.get(CallbackPath + q) }
			},
			want: refusal{http.StatusConflict, codeReplayedState, []string{"already been used"}},
		},
		{
			name: "JSON-flow state at the callback",
			setup: func(e *env, b *browser) func() response {
				state := b.start("flow=json").Query().Get("state")
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusBadRequest, codeWrongFlow, []string{`"redirect" logins`}},
		},
		{
			name: "reused code",
			setup: func(e *env, b *browser) func() response {
				code := e.code("")
				state := b.start("").Query().Get("state")
				if r := b.get(CallbackPath + callbackQuery(code, state)); r.status != http.StatusOK {
					t.Fatalf("first use: %d %s", r.status, r.body)
				}
				state2 := b.start("").Query().Get("state")
				return func() response { return b.get(CallbackPath + callbackQuery(code, state2)) }
			},
			want: refusal{http.StatusBadRequest, codeCodeRejected, []string{"already used", "Start the login again"}},
		},
		{
			name: "wrong app secret",
			opts: envOptions{configure: func(c *Config) { c.Credentials.Default.ClientSecret = "wrong-secret" }},
			setup: func(e *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusBadGateway, codeInstagramConfig,
				[]string{"INSTAGRAM_CLIENT_ID", "INSTAGRAM_CLIENT_SECRET", "Invalid platform app", "--redirect-url"}},
		},
		{
			name: "Instagram throttles",
			setup: func(e *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				if err := e.ig.InjectFault(sandbox.Fault{Kind: sandbox.FaultThrottle, Endpoint: sandbox.EndpointCodeExchange,
					Count: 1, RegainAccessMinutes: 5}); err != nil {
					t.Fatal(err)
				}
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusServiceUnavailable, codeInstagramUnavailable, []string{"Wait a little"}},
		},
		{
			name: "Instagram fails on /me",
			setup: func(e *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				if err := e.ig.InjectFault(sandbox.Fault{Kind: sandbox.FaultServerError, Endpoint: sandbox.EndpointProfile,
					Count: 1}); err != nil {
					t.Fatal(err)
				}
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusServiceUnavailable, codeInstagramUnavailable, nil},
		},
		{
			name: "account needs attention",
			opts: envOptions{instagram: func(ig Instagram) Instagram {
				return stubInstagram{Instagram: ig, exchangeErr: &instagram.Error{Class: instagram.ClassAccount, Message: "checkpoint"}}
			}},
			setup: func(e *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusForbidden, codeAccountAction, []string{"account itself"}},
		},
		{
			name: "profile without a user id",
			opts: envOptions{instagram: func(ig Instagram) Instagram {
				return stubInstagram{Instagram: ig, profile: &instagram.Profile{ID: "1", Username: "x"}}
			}},
			setup: func(e *env, b *browser) func() response {
				state := b.start("").Query().Get("state")
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusBadGateway, codeUnusableProfile, []string{"professional account id"}},
		},
		{
			name: "pinned to another account",
			opts: envOptions{objects: []client.Object{mismatch}},
			setup: func(e *env, b *browser) func() response {
				state := b.start("ticket=" + e.ticketFor(mismatch)).Query().Get("state")
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusConflict, codeAccountMismatch,
				[]string{"AccountMismatch", "17841499999999999", defaultUserID, "@" + defaultUsername, "Nothing was written"}},
		},
		{
			name: "Secret owned by something else",
			opts: envOptions{objects: []client.Object{foreign, foreignSecret}},
			setup: func(e *env, b *browser) func() response {
				state := b.start("ticket=" + e.ticketFor(foreign)).Query().Get("state")
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusConflict, codeSecretConflict, []string{"foreign-token", "SecretConflict"}},
		},
		{
			name: "unowned Secret that holds no token",
			opts: envOptions{objects: []client.Object{unowned, unownedSecret}},
			setup: func(e *env, b *browser) func() response {
				state := b.start("ticket=" + e.ticketFor(unowned)).Query().Get("state")
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusConflict, codeSecretConflict, []string{"unowned-token"}},
		},
		{
			name: "connection deleted during the login",
			opts: envOptions{objects: []client.Object{gone}},
			setup: func(e *env, b *browser) func() response {
				state := b.start("ticket=" + e.ticketFor(gone)).Query().Get("state")
				if err := e.kube.Delete(t.Context(), gone.DeepCopy()); err != nil {
					t.Fatal(err)
				}
				return func() response { return b.get(CallbackPath + callbackQuery(e.code(""), state)) }
			},
			want: refusal{http.StatusNotFound, codeConnectionNotFound, []string{"marketing/gone", "no longer exists"}},
		},
		{
			name: "POST to the callback",
			setup: func(_ *env, b *browser) func() response {
				return func() response { return b.post(CallbackPath, "application/x-www-form-urlencoded", nil) }
			},
			want: refusal{http.StatusMethodNotAllowed, codeMethodNotAllowed, []string{"HTTP method"}},
		},
		{
			name: "unknown path",
			setup: func(_ *env, b *browser) func() response {
				return func() response { return b.get("/auth/instagram/nope?code=secret-code") }
			},
			want: refusal{http.StatusNotFound, codeNotFound, []string{"no page at this address"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			b := e.newBrowser()
			r := checkRefused(t, e, tc.setup(e, b), tc.want)
			if strings.Contains(r.body, "555-EVIL") {
				t.Errorf("the page repeats the query's error_description")
			}
			if tc.want.code == codeMethodNotAllowed && r.header.Get("Allow") != "GET" {
				t.Errorf("Allow %q, want GET", r.header.Get("Allow"))
			}
			if tc.want.status == http.StatusServiceUnavailable {
				ra, err := strconv.Atoi(r.header.Get("Retry-After"))
				if err != nil || ra < 30 {
					t.Errorf("Retry-After %q, want at least 30 seconds", r.header.Get("Retry-After"))
				}
				if tc.name == "Instagram throttles" && ra < 300 {
					t.Errorf("Retry-After %d ignores Instagram's 5 minutes", ra)
				}
			}
		})
	}
}

func TestStartRefusals(t *testing.T) {
	otherSigner, err := oauthstate.NewSigner([]byte("another-key-another-key-another-key"), clockAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	acme := connectionObj("marketing", "acme", "uid-acme")
	noApp := connectionObj("marketing", "noapp", "uid-noapp", func(c *igv1.InstagramConnection) {
		c.Spec.AppSecretRef = &igv1.SecretReference{Name: "missing"}
	})
	cases := []struct {
		name   string
		opts   envOptions
		query  func(e *env) string
		method string
		want   refusal
	}{
		{name: "malformed ticket", query: func(*env) string { return "ticket=abc" },
			want: refusal{http.StatusBadRequest, codeInvalidTicket, []string{"kubectl get igconn"}}},
		{name: "ticket from another key", query: func(*env) string {
			return "ticket=" + otherSigner.Ticket(oauthstate.TicketRef{Namespace: "marketing", Name: "acme", UID: "uid-acme"})
		}, want: refusal{http.StatusBadRequest, codeInvalidTicket, nil}},
		{name: "connection gone", query: func(e *env) string {
			return "ticket=" + e.signer.Ticket(oauthstate.TicketRef{Namespace: "marketing", Name: "gone", UID: "uid-gone"})
		}, want: refusal{http.StatusNotFound, codeConnectionNotFound, []string{"marketing/gone"}}},
		{name: "connection recreated", opts: envOptions{objects: []client.Object{acme}}, query: func(e *env) string {
			return "ticket=" + e.signer.Ticket(oauthstate.TicketRef{Namespace: "marketing", Name: "acme", UID: "uid-old"})
		}, want: refusal{http.StatusGone, codeConnectionReplaced, []string{"marketing/acme", "created again"}}},
		{name: "repeated ticket", opts: envOptions{objects: []client.Object{acme}}, query: func(e *env) string {
			return "ticket=" + e.ticketFor(acme) + "&ticket=" + e.ticketFor(acme)
		}, want: refusal{http.StatusBadRequest, codeInvalidParameter, []string{"more than once"}}},
		{name: "unknown flow", query: func(*env) string { return "flow=implicit" },
			want: refusal{http.StatusBadRequest, codeInvalidParameter, []string{`"redirect" or "json"`}}},
		{name: "no operator app", opts: envOptions{configure: func(c *Config) { c.Credentials.Default = instagram.App{} }},
			query: func(*env) string { return "" },
			want:  refusal{http.StatusInternalServerError, codeAppCredentialsMissing, []string{"INSTAGRAM_CLIENT_ID"}}},
		{name: "connection's app Secret missing", opts: envOptions{objects: []client.Object{noApp}},
			query: func(e *env) string { return "ticket=" + e.ticketFor(noApp) },
			want:  refusal{http.StatusInternalServerError, codeAppCredentialsMissing, []string{"marketing/missing"}}},
		{name: "PUT", method: http.MethodPut, query: func(*env) string { return "" },
			want: refusal{http.StatusMethodNotAllowed, codeMethodNotAllowed, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			b := e.newBrowser()
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			r := checkRefused(t, e, func() response {
				return b.do(mustRequest(t, method, e.srv.URL+StartPath+"?"+tc.query(e), nil))
			}, tc.want)
			if r.header.Get("Set-Cookie") != "" || r.header.Get("Location") != "" {
				t.Errorf("a refused start set a cookie or redirected")
			}
		})
	}
}

func TestExchangeRefusals(t *testing.T) {
	jsonBody := func(v any) []byte {
		b, _ := json.Marshal(v)
		return b
	}
	cases := []struct {
		name string
		do   func(e *env, b *browser) func() response
		want refusal
	}{
		{name: "form body", do: func(_ *env, b *browser) func() response {
			return func() response {
				return b.post(ExchangePath, "application/x-www-form-urlencoded", []byte("code=a&state=b"))
			}
		}, want: refusal{http.StatusUnsupportedMediaType, codeUnsupportedMediaType, []string{"application/json"}}},
		{name: "not JSON", do: func(_ *env, b *browser) func() response {
			return func() response { return b.post(ExchangePath, "application/json", []byte("{code:")) }
		}, want: refusal{http.StatusBadRequest, codeInvalidJSON, []string{"one JSON object"}}},
		{name: "two objects", do: func(_ *env, b *browser) func() response {
			return func() response { return b.post(ExchangePath, "application/json", []byte(`{"code":"a"}{"code":"b"}`)) }
		}, want: refusal{http.StatusBadRequest, codeInvalidJSON, nil}},
		{name: "number code", do: func(_ *env, b *browser) func() response {
			return func() response { return b.post(ExchangePath, "application/json", []byte(`{"code":1,"state":"x"}`)) }
		}, want: refusal{http.StatusBadRequest, codeInvalidJSON, nil}},
		{name: "too large", do: func(_ *env, b *browser) func() response {
			return func() response {
				return b.post(ExchangePath, "application/json", jsonBody(map[string]string{"code": strings.Repeat("a", 70<<10)}))
			}
		}, want: refusal{http.StatusRequestEntityTooLarge, codeBodyTooLarge, []string{"65536 bytes"}}},
		{name: "missing code", do: func(_ *env, b *browser) func() response {
			return func() response { return b.post(ExchangePath, "application/json", []byte(`{"state":"x"}`)) }
		}, want: refusal{http.StatusBadRequest, codeMissingParameter, []string{"no code parameter"}}},
		{name: "missing state", do: func(_ *env, b *browser) func() response {
			return func() response { return b.post(ExchangePath, "application/json", []byte(`{"code":"abc"}`)) }
		}, want: refusal{http.StatusBadRequest, codeMissingParameter, []string{"no state parameter"}}},
		{name: "redirect-flow state", do: func(e *env, b *browser) func() response {
			state := b.start("").Query().Get("state")
			return func() response {
				return b.post(ExchangePath, "application/json", jsonBody(map[string]string{"code": e.code(""), "state": state}))
			}
		}, want: refusal{http.StatusBadRequest, codeWrongFlow, []string{"flow=json"}}},
		{name: "expired state", do: func(e *env, b *browser) func() response {
			state := b.start("flow=json").Query().Get("state")
			e.clock.Step(time.Hour)
			return func() response {
				return b.post(ExchangePath, "application/json", jsonBody(map[string]string{"code": e.code(""), "state": state}))
			}
		}, want: refusal{http.StatusBadRequest, codeExpiredState, nil}},
		{name: "reused code", do: func(e *env, b *browser) func() response {
			code := e.code("")
			s1 := b.start("flow=json").Query().Get("state")
			if r := b.post(ExchangePath, "application/json", jsonBody(map[string]string{"code": code, "state": s1})); r.status != 200 {
				t.Fatalf("first exchange: %d %s", r.status, r.body)
			}
			s2 := b.start("flow=json").Query().Get("state")
			return func() response {
				return b.post(ExchangePath, "application/json", jsonBody(map[string]string{"code": code, "state": s2}))
			}
		}, want: refusal{http.StatusBadRequest, codeCodeRejected, nil}},
		{name: "GET", do: func(_ *env, b *browser) func() response {
			return func() response { return b.get(ExchangePath) }
		}, want: refusal{http.StatusMethodNotAllowed, codeMethodNotAllowed, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			b := e.newBrowser()
			r := checkRefused(t, e, tc.do(e, b), tc.want)
			if r.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q, want JSON", r.header.Get("Content-Type"))
			}
			if tc.want.code == codeMethodNotAllowed && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow %q", r.header.Get("Allow"))
			}
		})
	}
}
