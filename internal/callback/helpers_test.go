package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

const (
	// testKey is the shared state key of the tests.
	testKey = "0123456789abcdef0123456789abcdef"
	// connNS is the connection namespace of the tests.
	connNS = "igconnect"
	// The sandbox's default account, as it generates it.
	defaultUserID   = "17841400000000001"
	defaultScopedID = "27640875392278831"
	defaultUsername = "sandbox_business"
)

// testScheme knows the core types and InstagramConnection.
func testScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := igv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// env is a callback server on a fake clock, backed by a fake API server and the sandbox.
type env struct {
	t      testing.TB
	clock  *clocktesting.FakeClock
	ig     *sandbox.Sandbox
	igURL  string
	kube   client.WithWatch
	signer *oauthstate.Signer
	cfg    Config
	h      http.Handler
	srv    *httptest.Server
	logs   *logBuffer
}

// envOptions adjust an env before its handler is built.
type envOptions struct {
	objects   []client.Object
	sandbox   sandbox.Options
	configure func(*Config)
	// instagram wraps the real client, to inject failures the sandbox cannot produce.
	instagram func(Instagram) Instagram
}

var uidCounter atomic.Int64

// newEnv builds an env.
func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, clock: clocktesting.NewFakeClock(t0), logs: &logBuffer{}}
	o.sandbox.Clock = e.clock
	e.ig = sandbox.New(o.sandbox)
	igSrv := httptest.NewServer(e.ig)
	t.Cleanup(igSrv.Close)
	e.igURL = igSrv.URL

	// The fake API server gives created objects a UID, as the real one does, so owner
	// references and ticket checks are meaningful.
	e.kube = fake.NewClientBuilder().
		WithScheme(testScheme()).
		WithStatusSubresource(&igv1.InstagramConnection{}).
		WithIndex(&igv1.InstagramConnection{}, UserIDIndex, connectionUserIDs).
		WithObjects(o.objects...).
		WithInterceptorFuncs(interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if obj.GetUID() == "" {
				obj.SetUID(types.UID(fmt.Sprintf("uid-%d", uidCounter.Add(1))))
			}
			return c.Create(ctx, obj, opts...)
		}}).
		Build()

	var err error
	e.signer, err = oauthstate.NewSigner([]byte(testKey), e.clock)
	if err != nil {
		t.Fatal(err)
	}
	var ig Instagram = instagram.New(instagram.Config{
		AuthorizeURL: igSrv.URL + "/oauth/authorize",
		APIURL:       igSrv.URL,
		GraphURL:     igSrv.URL,
		Timeout:      5 * time.Second,
		Clock:        e.clock,
	})
	if o.instagram != nil {
		ig = o.instagram(ig)
	}

	var hp http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.h.ServeHTTP(w, r) })
	e.srv = httptest.NewServer(hp)
	t.Cleanup(e.srv.Close)

	e.cfg = Config{
		Client:    e.kube,
		APIReader: e.kube,
		Cache:     e.kube, // the fake client serves the index as the manager's cache does
		Instagram: ig,
		Credentials: &appcreds.Resolver{Reader: e.kube,
			Default: instagram.App{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret}},
		Signer:              e.signer,
		Replay:              oauthstate.NewReplayGuard(e.clock, 0),
		Clock:               e.clock,
		PublicURL:           e.srv.URL,
		ConnectionNamespace: connNS,
		Log:                 funcr.New(e.logs.write, funcr.Options{Verbosity: 1}),
	}
	if o.configure != nil {
		o.configure(&e.cfg)
	}
	e.h, err = NewHandler(e.cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	e.cfg, _ = e.cfg.withDefaults()
	return e
}

// logBuffer collects log lines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) write(prefix, args string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(prefix + " " + args + "\n")
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	e   *env
	c   *http.Client
	jar http.CookieJar
}

// newBrowser returns a browser with an empty cookie jar.
func (e *env) newBrowser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, jar: jar, c: &http.Client{
		Jar:           jar,
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
func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatalf("reading body: %v", err)
	}
	return response{resp.StatusCode, resp.Header, string(body)}
}

// get sends GET to the callback server's path (with its raw query).
func (b *browser) get(pathAndQuery string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+pathAndQuery, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

// post sends POST with a body and content type to the callback server's path.
func (b *browser) post(path, contentType string, body []byte) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		b.e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return b.do(req)
}

// start calls the start endpoint with query and returns the authorize URL it redirects to.
func (b *browser) start(query string) *url.URL {
	b.e.t.Helper()
	path := StartPath
	if query != "" {
		path += "?" + query
	}
	r := b.get(path)
	if r.status != http.StatusFound {
		b.e.t.Fatalf("start: status %d, body %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		b.e.t.Fatal(err)
	}
	return u
}

// code mints a code for the sandbox's default account as if it had clicked Allow.
func (e *env) code(clientID string) string {
	e.t.Helper()
	c, err := e.ig.IssueCode(sandbox.CodeRequest{ClientID: clientID, RedirectURI: e.cfg.RedirectURL})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// callbackQuery is the query Instagram's redirect carries.
func callbackQuery(code, state string) string {
	return "?code=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(state)
}

// login runs a whole login without a ticket for the sandbox's default account and returns
// the callback response.
func (b *browser) login() response {
	b.e.t.Helper()
	state := b.start("").Query().Get("state")
	return b.get(CallbackPath + callbackQuery(b.e.code(""), state))
}

// connection reads a connection, or nil.
func (e *env) connection(ns, name string) *igv1.InstagramConnection {
	e.t.Helper()
	c := &igv1.InstagramConnection{}
	if err := e.kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, c); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil
		}
		e.t.Fatal(err)
	}
	return c
}

// secret reads a Secret, or nil.
func (e *env) secret(ns, name string) *corev1.Secret {
	e.t.Helper()
	s := &corev1.Secret{}
	if err := e.kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil
		}
		e.t.Fatal(err)
	}
	return s
}

// snapshot lists every connection and Secret with its resourceVersion, to prove that a
// refused request wrote nothing.
func (e *env) snapshot() string {
	e.t.Helper()
	conns := &igv1.InstagramConnectionList{}
	secrets := &corev1.SecretList{}
	if err := e.kube.List(context.Background(), conns); err != nil {
		e.t.Fatal(err)
	}
	if err := e.kube.List(context.Background(), secrets); err != nil {
		e.t.Fatal(err)
	}
	lines := make([]string, 0, len(conns.Items)+len(secrets.Items))
	for _, c := range conns.Items {
		lines = append(lines, "conn "+c.Namespace+"/"+c.Name+"@"+c.ResourceVersion)
	}
	for _, s := range secrets.Items {
		lines = append(lines, "secret "+s.Namespace+"/"+s.Name+"@"+s.ResourceVersion)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// connectionObj is a connection to seed the fake API server with.
func connectionObj(ns, name, uid string, mutate ...func(*igv1.InstagramConnection)) *igv1.InstagramConnection {
	c := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)},
		Spec:       igv1.InstagramConnectionSpec{SecretName: name + "-token"},
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

// appSecretObj is an app credentials Secret.
func appSecretObj(ns, name, clientID, clientSecret string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data: map[string][]byte{
			igv1.AppSecretKeyClientID:     []byte(clientID),
			igv1.AppSecretKeyClientSecret: []byte(clientSecret),
		},
	}
}

// ticketFor is the ticket of a connection.
func (e *env) ticketFor(c *igv1.InstagramConnection) string {
	return e.signer.Ticket(oauthstate.TicketRef{Namespace: c.Namespace, Name: c.Name, UID: c.UID})
}

// stubInstagram overrides the Instagram calls a test needs to fail in ways the sandbox does
// not offer.
type stubInstagram struct {
	Instagram
	exchangeErr error
	profile     *instagram.Profile
}

func (s stubInstagram) ExchangeCode(ctx context.Context, app instagram.App, redirectURI, code string) (instagram.ShortLivedToken, error) {
	if s.exchangeErr != nil {
		return instagram.ShortLivedToken{}, s.exchangeErr
	}
	return s.Instagram.ExchangeCode(ctx, app, redirectURI, code)
}

func (s stubInstagram) Profile(ctx context.Context, token string) (instagram.Profile, error) {
	if s.profile != nil {
		return *s.profile, nil
	}
	return s.Instagram.Profile(ctx, token)
}

// assertSecurityHeaders checks the headers every response carries.
func assertSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP lacks default-src 'none'")
	}
}

// cookieValue returns the browser's binding cookie for the callback server.
func cookieValue(t *testing.T, b *browser) string {
	t.Helper()
	u := mustParseURL(t, b.e.srv.URL+"/auth/instagram/callback")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == oauthstate.BrowserCookieName {
			return c.Value
		}
	}
	t.Fatal("the browser has no binding cookie")
	return ""
}

// setCookie returns the binding cookie a response sets.
func setCookie(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == oauthstate.BrowserCookieName {
			return c
		}
	}
	t.Fatal("no binding cookie set")
	return nil
}

func mustParseURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustRequest(t testing.TB, method, u string, body io.Reader) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// jsonEqual compares decoded JSON values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// clockAt is a fake clock at t.
func clockAt(t time.Time) *clocktesting.FakeClock { return clocktesting.NewFakeClock(t) }

// pageText is a page's main text, for failure messages.
func pageText(body string) string {
	if i := strings.Index(body, "<main>"); i >= 0 {
		body = body[i:]
	}
	return body
}
