package callback

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/signedrequest"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

const (
	appBID     = "990000000000002"
	appBSecret = "app-b-client-secret"
	// scopedOnly is an account known to a connection only by its app-scoped id in status.
	scopedOnly = "27640875392200001"
)

// metaEnv has three connections with tokens: the default account's, logged in through the
// operator's app (igconnect/ig-<id>); the same account through app B (team-b/acme, whose
// appSecretRef names app B); and one known only by status.appScopedUserID (igconnect/scoped).
func metaEnv(t *testing.T) *env {
	t.Helper()
	acme := connectionObj("team-b", "acme", "uid-acme", func(c *igv1.InstagramConnection) {
		c.Spec.AppSecretRef = &igv1.SecretReference{Name: "ig-app"}
	})
	scoped := connectionObj(connNS, "scoped", "uid-scoped")
	scopedSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: connNS, Name: "scoped-token"}}
	tokensecret.Apply(scopedSecret, "scoped", nil, tokensecret.Record{AccessToken: "IGAAscoped", UserID: "17841400000099999"})
	scopedSecret.OwnerReferences = []metav1.OwnerReference{{APIVersion: igv1.GroupVersion.String(), Kind: "InstagramConnection",
		Name: "scoped", UID: "uid-scoped", Controller: ptrTrue()}}
	e := newEnv(t, envOptions{
		objects: []client.Object{acme, appSecretObj("team-b", "ig-app", appBID, appBSecret), scoped, scopedSecret},
		sandbox: sandbox.Options{Apps: []sandbox.App{
			{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret},
			{ClientID: appBID, ClientSecret: appBSecret},
		}},
	})
	scoped = e.connection(connNS, "scoped")
	scoped.Status.AppScopedUserID = scopedOnly
	if err := e.kube.Status().Update(t.Context(), scoped); err != nil {
		t.Fatal(err)
	}
	if r := e.newBrowser().login(); r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, pageText(r.body))
	}
	b := e.newBrowser()
	state := b.start("ticket=" + e.ticketFor(acme)).Query().Get("state")
	if r := b.get(CallbackPath + callbackQuery(e.code(appBID), state)); r.status != http.StatusOK {
		t.Fatalf("app B login: %d %s", r.status, pageText(r.body))
	}
	// What the reconciler would report for it: acme has no pin, only status names its account.
	acme = e.connection("team-b", "acme")
	acme.Status.UserID = defaultUserID
	if err := e.kube.Status().Update(t.Context(), acme); err != nil {
		t.Fatal(err)
	}
	return e
}

func ptrTrue() *bool { v := true; return &v }

// postSigned posts a signed_request form to path.
func postSigned(e *env, path, value string) response {
	return e.newBrowser().post(path, "application/x-www-form-urlencoded",
		[]byte(url.Values{signedRequestField: {value}}.Encode()))
}

// hasToken reports whether the Secret holds a token.
func (e *env) hasToken(ns, name string) bool {
	s := e.secret(ns, name)
	return s != nil && tokensecret.Read(s).HasToken()
}

func TestDeauthorize(t *testing.T) {
	for _, tc := range []struct {
		name string
		sign func(string, signedrequest.Payload) string
	}{{"unpadded", signedrequest.Sign}, {"padded", signedrequest.SignPadded}} {
		t.Run(tc.name, func(t *testing.T) {
			e := metaEnv(t)
			mine := "ig-" + defaultUserID + "-token"
			r := postSigned(e, DeauthorizePath, tc.sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: defaultUserID}))
			if r.status != http.StatusOK || !jsonEqual(decode(t, r.body), map[string]any{"success": true, "connections": 1}) {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			assertSecurityHeaders(t, r.header)
			s := e.secret(connNS, mine)
			if s == nil {
				t.Fatal("the Secret was deleted; it must be kept")
			}
			rec := tokensecret.Read(s)
			if rec.HasToken() || rec.Rejected != igv1.ReasonDeauthorized || rec.UserID != defaultUserID {
				t.Errorf("record after deauthorize: %+v", rec)
			}
			for _, k := range []string{"access_token", "token_type", "expires_at"} {
				if _, ok := s.Data[k]; ok {
					t.Errorf("key %s kept after deauthorize", k)
				}
			}
			if metav1.GetControllerOf(s) == nil || e.connection(connNS, "ig-"+defaultUserID) == nil {
				t.Errorf("the connection or the Secret's owner went away")
			}
			if !e.hasToken("team-b", "acme-token") {
				t.Errorf("a request signed by the operator's app removed app B's token")
			}
			// Again: an idempotent no-op.
			before := e.snapshot()
			if r := postSigned(e, DeauthorizePath, tc.sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: defaultUserID})); r.status != http.StatusOK {
				t.Errorf("repeat: %d", r.status)
			}
			if e.snapshot() != before {
				t.Errorf("a repeated deauthorize wrote again")
			}
		})
	}
}

func TestDeauthorizeMatchesByAppAndID(t *testing.T) {
	e := metaEnv(t)
	// Signed by app B: only app B's connection.
	r := postSigned(e, DeauthorizePath, signedrequest.Sign(appBSecret, signedrequest.Payload{UserID: defaultUserID}))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"connections":1`) {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if e.hasToken("team-b", "acme-token") || !e.hasToken(connNS, "ig-"+defaultUserID+"-token") {
		t.Errorf("app B's request must reach app B's connection only")
	}
	// By the app-scoped id in status.
	r = postSigned(e, DeauthorizePath, signedrequest.Sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: scopedOnly}))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"connections":1`) || e.hasToken(connNS, "scoped-token") {
		t.Errorf("status.appScopedUserID did not match: %d %s", r.status, r.body)
	}
	// An unknown account: a successful no-op.
	before := e.snapshot()
	r = postSigned(e, DeauthorizePath, signedrequest.Sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: "123"}))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"connections":0`) || e.snapshot() != before {
		t.Errorf("unknown user: %d %s", r.status, r.body)
	}
}

func TestSignedRequestRefusals(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	valid := signedrequest.Sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: defaultUserID})
	cases := []struct {
		name        string
		contentType string
		body        string
		method      string
		want        refusal
	}{
		{name: "wrong secret", contentType: form,
			body: url.Values{signedRequestField: {signedrequest.Sign("not-the-secret", signedrequest.Payload{UserID: defaultUserID})}}.Encode(),
			want: refusal{http.StatusForbidden, codeBadSignature, []string{"not signed with the secret"}}},
		{name: "tampered payload", contentType: form,
			body: url.Values{signedRequestField: {valid[:len(valid)-2] + "xx"}}.Encode(),
			want: refusal{http.StatusForbidden, codeBadSignature, nil}},
		{name: "malformed", contentType: form, body: url.Values{signedRequestField: {"garbage"}}.Encode(),
			want: refusal{http.StatusBadRequest, codeInvalidSignedRequest, nil}},
		{name: "missing", contentType: form, body: "other=1",
			want: refusal{http.StatusBadRequest, codeMissingParameter, []string{"signed_request"}}},
		{name: "repeated", contentType: form, body: url.Values{signedRequestField: {valid, valid}}.Encode(),
			want: refusal{http.StatusBadRequest, codeInvalidParameter, []string{"more than once"}}},
		{name: "JSON body", contentType: "application/json", body: `{"signed_request":"x"}`,
			want: refusal{http.StatusUnsupportedMediaType, codeUnsupportedMediaType, nil}},
		{name: "too large", contentType: form, body: signedRequestField + "=" + strings.Repeat("a", 70<<10),
			want: refusal{http.StatusRequestEntityTooLarge, codeBodyTooLarge, nil}},
		{name: "too long for a signed_request", contentType: form, body: signedRequestField + "=" + strings.Repeat("a", 9<<10),
			want: refusal{http.StatusRequestEntityTooLarge, codeBodyTooLarge, nil}},
		{name: "GET", method: http.MethodGet, want: refusal{http.StatusMethodNotAllowed, codeMethodNotAllowed, nil}},
	}
	for _, path := range []string{DeauthorizePath, DataDeletionPath} {
		for _, tc := range cases {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				e := metaEnv(t)
				b := e.newBrowser()
				method := tc.method
				if method == "" {
					method = http.MethodPost
				}
				r := checkRefused(t, e, func() response {
					req := mustRequest(t, method, e.srv.URL+path, strings.NewReader(tc.body))
					if tc.contentType != "" {
						req.Header.Set("Content-Type", tc.contentType)
					}
					return b.do(req)
				}, tc.want)
				if strings.Contains(r.body, valid) || strings.Contains(e.logs.String(), valid) {
					t.Errorf("the signed_request was echoed or logged")
				}
			})
		}
	}
}

func TestDataDeletion(t *testing.T) {
	e := metaEnv(t)
	r := postSigned(e, DataDeletionPath, signedrequest.SignPadded(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: defaultUserID}))
	if r.status != http.StatusOK {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	var got deletionResponse
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Z0-9]{20,}$`).MatchString(got.ConfirmationCode) {
		t.Errorf("confirmation code %q is not alphanumeric", got.ConfirmationCode)
	}
	if got.URL != e.srv.URL+DeletionStatusPath+"?code="+got.ConfirmationCode {
		t.Errorf("url %q", got.URL)
	}
	if e.connection(connNS, "ig-"+defaultUserID) != nil || e.secret(connNS, "ig-"+defaultUserID+"-token") != nil {
		t.Errorf("the connection or its Secret survived the deletion")
	}
	if e.connection("team-b", "acme") == nil || !e.hasToken("team-b", "acme-token") {
		t.Errorf("app B's connection was deleted by the operator app's request")
	}

	// The status page, on this replica and on another one sharing the key.
	other := newEnv(t, envOptions{})
	for _, srv := range []string{e.srv.URL, other.srv.URL} {
		page := e.newBrowser().get(strings.TrimPrefix(got.URL, e.srv.URL))
		if srv != e.srv.URL {
			page = other.newBrowser().get(strings.TrimPrefix(got.URL, e.srv.URL))
		}
		if page.status != http.StatusOK || !strings.Contains(page.body, "deleted 1 Instagram connection") ||
			!strings.Contains(page.body, got.ConfirmationCode) || !strings.Contains(page.body, "2026-11-01 12:00:00 UTC") {
			t.Errorf("status page on %s: %d\n%s", srv, page.status, pageText(page.body))
		}
		assertSecurityHeaders(t, page.header)
	}
	// Lower case is accepted: a code read aloud and retyped.
	if r := e.newBrowser().get(DeletionStatusPath + "?code=" + strings.ToLower(got.ConfirmationCode)); r.status != http.StatusOK {
		t.Errorf("lower-case code: %d", r.status)
	}

	// Forged and tampered codes, and a key that is not ours.
	flip := []byte(got.ConfirmationCode)
	flip[5] = map[bool]byte{true: 'B', false: 'A'}[flip[5] == 'A']
	foreign := confirmations{key: deletionKey(mustSigner(t, "another-key-another-key-another-key"))}.
		mint(deletionRecord{At: t0, Connections: 3})
	for _, code := range []string{"ABCDEF", string(flip), foreign, strings.Repeat("A", len(got.ConfirmationCode)), ""} {
		want := refusal{http.StatusNotFound, codeUnknownConfirmation, []string{"no data-deletion request"}}
		if code == "" {
			want = refusal{http.StatusBadRequest, codeMissingParameter, nil}
		}
		checkRefused(t, e, func() response {
			return e.newBrowser().get(DeletionStatusPath + "?code=" + url.QueryEscape(code))
		}, want)
	}
}

func TestDataDeletionOfUnknownAccount(t *testing.T) {
	e := metaEnv(t)
	before := e.snapshot()
	r := postSigned(e, DataDeletionPath, signedrequest.Sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: "42"}))
	if r.status != http.StatusOK || e.snapshot() != before {
		t.Fatalf("status %d, or the cluster changed", r.status)
	}
	var got deletionResponse
	_ = json.Unmarshal([]byte(r.body), &got)
	page := e.newBrowser().get(DeletionStatusPath + "?code=" + got.ConfirmationCode)
	if page.status != http.StatusOK || !strings.Contains(page.body, "nothing to delete") {
		t.Errorf("status page: %d %s", page.status, pageText(page.body))
	}
}

func mustSigner(t *testing.T, key string) *oauthstate.Signer {
	t.Helper()
	s, err := oauthstate.NewSigner([]byte(key), clockAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decode(t *testing.T, body string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

// listCounter counts the LISTs a reader is asked for.
type listCounter struct {
	client.Reader
	n *atomic.Int32
}

func (l listCounter) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	l.n.Add(1)
	return l.Reader.List(ctx, list, opts...)
}

// withConfig rebuilds the env's handler with cfg changed by mutate.
func (e *env) withConfig(mutate func(*Config)) {
	e.t.Helper()
	cfg := e.cfg
	mutate(&cfg)
	h, err := NewHandler(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.h, e.cfg = h, cfg
}

// Meta's callbacks are unauthenticated until the signature is checked, so what a request
// costs must not grow with the cluster: with the manager's cache, no LIST reaches the API
// server, forged or genuine.
func TestMetaRequestsListTheCacheNotTheAPIServer(t *testing.T) {
	e := metaEnv(t)
	var lists atomic.Int32
	e.withConfig(func(c *Config) { c.APIReader = listCounter{Reader: e.kube, n: &lists} })

	forged := signedrequest.Sign("a secret of nobody's", signedrequest.Payload{UserID: defaultUserID})
	for _, path := range []string{DeauthorizePath, DataDeletionPath} {
		if r := postSigned(e, path, forged); r.status < 400 || r.status >= 500 {
			t.Errorf("%s forged: status %d, want a client error", path, r.status)
		}
	}
	r := postSigned(e, DeauthorizePath, signedrequest.Sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: defaultUserID}))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"connections":1`) {
		t.Fatalf("genuine: status %d body %s", r.status, r.body)
	}
	if e.hasToken(connNS, "ig-"+defaultUserID+"-token") {
		t.Error("the genuine request did not remove the token")
	}
	if n := lists.Load(); n != 0 {
		t.Errorf("%d LISTs reached the API server", n)
	}
}

// The cache may be a watch event behind: a connection it still holds but the API server no
// longer has is not acted on, and the request still succeeds.
func TestMetaRequestsSkipConnectionsGoneFromTheAPIServer(t *testing.T) {
	e := metaEnv(t)
	gone := connectionObj(connNS, "gone", "uid-gone", func(c *igv1.InstagramConnection) {
		c.Spec.InstagramUserID = "17841400000077777"
	})
	stale := fake.NewClientBuilder().WithScheme(testScheme()).WithObjects(gone).Build()
	e.withConfig(func(c *Config) { c.Cache = stale })

	before := e.snapshot()
	r := postSigned(e, DeauthorizePath, signedrequest.Sign(sandbox.DefaultClientSecret,
		signedrequest.Payload{UserID: "17841400000077777"}))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"connections":0`) {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if e.snapshot() != before {
		t.Error("a request for a connection gone from the API server wrote something")
	}
}

// A verified request for an account the cache has not seen yet (a connection created or
// authorized moments ago) is matched against the API server, since Meta does not ask twice.
func TestMetaRequestsFallBackToTheAPIServerWhenTheCacheMisses(t *testing.T) {
	e := metaEnv(t)
	e.withConfig(func(c *Config) { c.Cache = fake.NewClientBuilder().WithScheme(testScheme()).Build() })
	r := postSigned(e, DeauthorizePath, signedrequest.Sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: defaultUserID}))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"connections":1`) {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if e.hasToken(connNS, "ig-"+defaultUserID+"-token") {
		t.Error("the token was not removed")
	}
}

// Without the manager's cache, the connections are listed from the API server.
func TestMetaRequestsWithoutACache(t *testing.T) {
	e := metaEnv(t)
	e.withConfig(func(c *Config) { c.Cache = nil })
	r := postSigned(e, DeauthorizePath, signedrequest.Sign(appBSecret, signedrequest.Payload{UserID: defaultUserID}))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"connections":1`) {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if e.hasToken("team-b", "acme-token") || !e.hasToken(connNS, "ig-"+defaultUserID+"-token") {
		t.Error("app B's request must reach app B's connection only")
	}
}
