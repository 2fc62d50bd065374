package callback

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

func TestStartRedirectsToInstagram(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser()
	r := b.get(StartPath)
	if r.status != http.StatusFound {
		t.Fatalf("status %d, want 302; body %s", r.status, r.body)
	}
	assertSecurityHeaders(t, r.header)
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, e.igURL+"/oauth/authorize?") {
		t.Fatalf("Location %q does not go to the authorize URL", loc)
	}
	u := b.start("")
	q := u.Query()
	for k, want := range map[string]string{
		"client_id":     sandbox.DefaultClientID,
		"redirect_uri":  e.srv.URL + CallbackPath,
		"scope":         "instagram_business_basic",
		"response_type": "code",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	claims, err := e.signer.VerifyState(q.Get("state"), cookieValue(t, b))
	if err != nil {
		t.Fatalf("state does not verify with the browser's cookie: %v", err)
	}
	if claims.Flow != oauthstate.FlowRedirect || claims.Ticket != "" || claims.Browser == "" {
		t.Errorf("claims %+v: want a browser-bound redirect state without ticket", claims)
	}

	// The cookie's attributes.
	c := setCookie(t, r.header)
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/auth/instagram" ||
		c.MaxAge != int(DefaultStateTTL.Seconds()) || c.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/auth/instagram, Max-Age=600, not Secure on http", c)
	}
	// A second start in the same browser keeps the cookie, so a login open in another tab
	// stays valid.
	first := cookieValue(t, b)
	b.start("")
	if cookieValue(t, b) != first {
		t.Errorf("the browser cookie changed on a second start")
	}
}

func TestStartCookieSecureOnHTTPS(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(c *Config) {
		c.PublicURL = "https://ig.example.test/"
		c.DefaultScopes = []string{"instagram_business_basic", "instagram_business_manage_comments"}
	}})
	r := e.newBrowser().get(StartPath)
	if r.status != http.StatusFound {
		t.Fatalf("status %d", r.status)
	}
	if c := setCookie(t, r.header); !c.Secure {
		t.Errorf("cookie is not Secure with an https public URL")
	}
	u := mustParseURL(t, r.header.Get("Location"))
	if got := u.Query().Get("redirect_uri"); got != "https://ig.example.test/auth/instagram/callback" {
		t.Errorf("redirect_uri %q", got)
	}
	if got := u.Query().Get("scope"); got != "instagram_business_basic,instagram_business_manage_comments" {
		t.Errorf("scope %q", got)
	}
}

func TestLoginCreatesConnectionAndSecret(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser()
	state := b.start("").Query().Get("state")
	code := e.code("")
	r := b.get(CallbackPath + callbackQuery(code, state))
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	assertSecurityHeaders(t, r.header)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	name := "ig-" + defaultUserID
	for _, want := range []string{"@" + defaultUsername, defaultUserID, "kubectl get igconn -n " + connNS + " " + name,
		"Instagram account connected"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q:\n%s", want, r.body)
		}
	}
	for _, secret := range []string{code, state} {
		if strings.Contains(r.body, secret) || strings.Contains(e.logs.String(), secret) {
			t.Errorf("the page or the log contains a code or state")
		}
	}

	conn := e.connection(connNS, name)
	if conn == nil {
		t.Fatalf("connection %s/%s was not created", connNS, name)
	}
	if conn.Spec.InstagramUserID != defaultUserID || conn.Spec.SecretName != name+"-token" {
		t.Errorf("spec %+v", conn.Spec)
	}
	if conn.Labels[igv1.LabelManagedBy] != igv1.ManagedByValue {
		t.Errorf("labels %v", conn.Labels)
	}
	if conn.Status.UserID != "" || len(conn.Status.Conditions) != 0 {
		t.Errorf("the callback wrote status: %+v", conn.Status)
	}

	s := e.secret(connNS, name+"-token")
	if s == nil {
		t.Fatal("token Secret was not created")
	}
	token := string(s.Data["access_token"])
	if info, ok := e.ig.TokenInfo(token); !ok || info.Kind != "long_lived" {
		t.Errorf("the Secret's token is not a long-lived sandbox token: %+v %v", info, ok)
	}
	if strings.Contains(e.logs.String(), token) || strings.Contains(r.body, token) {
		t.Errorf("the token leaked into the page or the log")
	}
	want := map[string]string{
		"token_type": "bearer",
		"expires_at": t0.Add(sandbox.DefaultLongLivedTTL).Format(time.RFC3339),
		"user_id":    defaultUserID,
		"username":   defaultUsername,
	}
	for k, v := range want {
		if got := string(s.Data[k]); got != v {
			t.Errorf("Secret key %s = %q, want %q", k, got, v)
		}
	}
	if len(s.Data) != 5 {
		t.Errorf("Secret has keys %v, want the contract's five", keys(s.Data))
	}
	if s.Type != corev1.SecretTypeOpaque {
		t.Errorf("type %q", s.Type)
	}
	if s.Labels[igv1.LabelManagedBy] != igv1.ManagedByValue || s.Labels[igv1.LabelConnection] != name {
		t.Errorf("labels %v", s.Labels)
	}
	owner := metav1.GetControllerOf(s)
	if owner == nil || owner.UID != conn.UID || owner.Kind != "InstagramConnection" || owner.Name != name {
		t.Errorf("controller owner %+v, want the connection (UID %s)", owner, conn.UID)
	}
	rec := tokensecret.Read(s)
	if rec.Imported() || !rec.IssuedAt.Equal(t0) || rec.AppScopedUserID != defaultScopedID ||
		rec.AccountType != "BUSINESS" || rec.Rejected != "" || len(rec.GrantedScopes) == 0 {
		t.Errorf("record %+v", rec)
	}
}

func TestLoginAgainUpdatesTheSameConnection(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser()
	if r := b.login(); r.status != http.StatusOK {
		t.Fatalf("first login: %d %s", r.status, r.body)
	}
	name := "ig-" + defaultUserID
	first := e.secret(connNS, name+"-token")
	uid := e.connection(connNS, name).UID

	e.clock.Step(time.Hour)
	if r := e.newBrowser().login(); r.status != http.StatusOK {
		t.Fatalf("second login: %d %s", r.status, r.body)
	}
	conns := &igv1.InstagramConnectionList{}
	if err := e.kube.List(t.Context(), conns); err != nil {
		t.Fatal(err)
	}
	if len(conns.Items) != 1 || conns.Items[0].UID != uid {
		t.Fatalf("want the one connection %s, got %d connections", name, len(conns.Items))
	}
	second := e.secret(connNS, name+"-token")
	if string(second.Data["access_token"]) == string(first.Data["access_token"]) {
		t.Errorf("the token was not replaced")
	}
	if got := string(second.Data["expires_at"]); got != t0.Add(time.Hour+sandbox.DefaultLongLivedTTL).Format(time.RFC3339) {
		t.Errorf("expires_at %s", got)
	}
}

// noExpiresIn drops expires_in from the long-lived exchange, as Instagram may.
type noExpiresIn struct{ Instagram }

func (n noExpiresIn) ExchangeForLongLived(ctx context.Context, app instagram.App, short string) (instagram.LongLivedToken, error) {
	ll, err := n.Instagram.ExchangeForLongLived(ctx, app, short)
	ll.ExpiresIn = 0
	return ll, err
}

// Without expires_in a login assumes Config.TokenLifetime, the reconciler's assumption, and
// marks the expiry estimated so that the reconciler learns the real one with a refresh.
func TestLoginWithoutExpiresInAssumesTheTokenLifetime(t *testing.T) {
	e := newEnv(t, envOptions{
		instagram: func(ig Instagram) Instagram { return noExpiresIn{ig} },
		configure: func(c *Config) { c.TokenLifetime = 50 * 24 * time.Hour },
	})
	if r := e.newBrowser().login(); r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, pageText(r.body))
	}
	s := e.secret(connNS, "ig-"+defaultUserID+"-token")
	if got, want := string(s.Data["expires_at"]), t0.Add(50*24*time.Hour).UTC().Format(time.RFC3339); got != want {
		t.Errorf("expires_at = %s, want %s", got, want)
	}
	if s.Annotations[igv1.AnnotationExpiryEstimated] != "true" {
		t.Errorf("the assumed expiry is not marked estimated: %v", s.Annotations)
	}
}

func TestConcurrentFirstLoginsMakeOneConnection(t *testing.T) {
	e := newEnv(t, envOptions{})
	const n = 6
	browsers := make([]*browser, n)
	states := make([]string, n)
	codes := make([]string, n)
	for i := range browsers {
		browsers[i] = e.newBrowser()
		states[i] = browsers[i].start("").Query().Get("state")
		codes[i] = e.code("")
	}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range browsers {
		wg.Go(func() {
			statuses[i] = browsers[i].get(CallbackPath + callbackQuery(codes[i], states[i])).status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("login %d: status %d", i, s)
		}
	}
	conns := &igv1.InstagramConnectionList{}
	if err := e.kube.List(t.Context(), conns); err != nil {
		t.Fatal(err)
	}
	if len(conns.Items) != 1 {
		t.Fatalf("%d connections for one account, want 1", len(conns.Items))
	}
	s := e.secret(connNS, "ig-"+defaultUserID+"-token")
	if metav1.GetControllerOf(s).UID != conns.Items[0].UID {
		t.Errorf("Secret not owned by the connection")
	}
}

func TestLoginUsesAnExistingPinnedConnection(t *testing.T) {
	acme := connectionObj(connNS, "acme", "uid-acme", func(c *igv1.InstagramConnection) {
		c.Spec.InstagramUserID = defaultUserID
		c.Spec.SecretTemplate = &igv1.SecretTemplate{Labels: map[string]igv1.LabelValue{"reloader.stakater.com/match": "true"}}
	})
	other := connectionObj("elsewhere", "acme2", "uid-acme2", func(c *igv1.InstagramConnection) {
		c.Spec.InstagramUserID = defaultUserID
	})
	ownApp := connectionObj(connNS, "aaa-own-app", "uid-own-app", func(c *igv1.InstagramConnection) {
		c.Spec.InstagramUserID = defaultUserID
		c.Spec.AppSecretRef = &igv1.SecretReference{Name: "ig-app"}
	})
	for _, cached := range []bool{true, false} {
		t.Run(fmt.Sprintf("cached=%v", cached), func(t *testing.T) {
			loginUsesPinned(t, cached, acme.DeepCopy(), other.DeepCopy(), ownApp.DeepCopy())
		})
	}
}

// loginUsesPinned logs in with acme, other and ownApp present, through the cache index or
// by listing the namespace.
func loginUsesPinned(t *testing.T, cached bool, acme, other, ownApp *igv1.InstagramConnection) {
	e := newEnv(t, envOptions{objects: []client.Object{acme, other, ownApp}, configure: func(c *Config) {
		if !cached {
			c.Cache = nil
		}
	}})
	r := e.newBrowser().login()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if !strings.Contains(r.body, "kubectl get igconn -n "+connNS+" acme") {
		t.Errorf("page does not name connection acme:\n%s", r.body)
	}
	if e.connection(connNS, "ig-"+defaultUserID) != nil {
		t.Errorf("a second connection was created for an account that already has one")
	}
	s := e.secret(connNS, "acme-token")
	if s == nil || metav1.GetControllerOf(s).UID != "uid-acme" || s.Labels["reloader.stakater.com/match"] != "true" {
		t.Fatalf("acme's Secret not written as expected: %+v", s)
	}
	if e.secret("elsewhere", "acme2-token") != nil || e.secret(connNS, "aaa-own-app-token") != nil {
		t.Errorf("a connection outside the connection namespace, or of another app, was written")
	}
}

// TestLoginChecksCachedCandidatesAgainstTheAPIServer gives the handler a cache that still
// holds a connection pinned to the account which the API server no longer has pinned: the
// login must act on the API server's copy, so it creates the account's own connection
// instead of writing into one that is no longer the account's.
func TestLoginChecksCachedCandidatesAgainstTheAPIServer(t *testing.T) {
	pinned := connectionObj(connNS, "acme", "uid-acme", func(c *igv1.InstagramConnection) {
		c.Spec.InstagramUserID = defaultUserID
	})
	stale := fake.NewClientBuilder().WithScheme(testScheme()).
		WithIndex(&igv1.InstagramConnection{}, UserIDIndex, connectionUserIDs).
		WithObjects(pinned).Build()
	unpinned := connectionObj(connNS, "acme", "uid-acme")
	e := newEnv(t, envOptions{objects: []client.Object{unpinned}, configure: func(c *Config) { c.Cache = stale }})
	if r := e.newBrowser().login(); r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if e.connection(connNS, "ig-"+defaultUserID) == nil {
		t.Errorf("the account's own connection was not created")
	}
	if e.secret(connNS, "acme-token") != nil {
		t.Errorf("the login wrote the Secret of a connection the cache wrongly had pinned to the account")
	}
}

func TestTicketLogin(t *testing.T) {
	const appID, appSecret = "990000000000002", "second-app-secret"
	acme := connectionObj("marketing", "acme", "uid-acme", func(c *igv1.InstagramConnection) {
		c.Spec.AppSecretRef = &igv1.SecretReference{Name: "ig-app"}
		c.Spec.Scopes = []igv1.Scope{igv1.ScopeBasic, igv1.ScopeContentPublish}
	})
	e := newEnv(t, envOptions{
		objects: []client.Object{acme, appSecretObj("marketing", "ig-app", appID, appSecret)},
		sandbox: sandbox.Options{Apps: []sandbox.App{
			{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret},
			{ClientID: appID, ClientSecret: appSecret},
		}},
	})
	b := e.newBrowser()
	u := b.start("ticket=" + e.ticketFor(acme))
	q := u.Query()
	if q.Get("client_id") != appID {
		t.Errorf("client_id %q, want the connection's app %s", q.Get("client_id"), appID)
	}
	if q.Get("scope") != "instagram_business_basic,instagram_business_content_publish" {
		t.Errorf("scope %q, want the connection's scopes", q.Get("scope"))
	}
	r := b.get(CallbackPath + callbackQuery(e.code(appID), q.Get("state")))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if !strings.Contains(r.body, "kubectl get igconn -n marketing acme") {
		t.Errorf("page does not name marketing/acme:\n%s", r.body)
	}
	s := e.secret("marketing", "acme-token")
	if s == nil || metav1.GetControllerOf(s).UID != "uid-acme" || string(s.Data["user_id"]) != defaultUserID {
		t.Fatalf("marketing/acme-token not written: %+v", s)
	}
	if got := e.connection("marketing", "acme"); got.Spec.InstagramUserID != "" {
		t.Errorf("the callback changed an existing connection's spec: %+v", got.Spec)
	}
	if e.connection(connNS, "ig-"+defaultUserID) != nil {
		t.Errorf("a ticket login created a connection")
	}
}

func TestSuccessURL(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(c *Config) { c.SuccessURL = "https://app.example.test/connected" }})
	r := e.newBrowser().login()
	if r.status != http.StatusFound || r.header.Get("Location") != "https://app.example.test/connected" {
		t.Fatalf("status %d Location %q, want 302 to the success URL", r.status, r.header.Get("Location"))
	}
	if e.secret(connNS, "ig-"+defaultUserID+"-token") == nil {
		t.Errorf("token not stored")
	}
}

func TestTrailingFragmentIsStripped(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser()
	state := b.start("").Query().Get("state")
	r := b.get(CallbackPath + callbackQuery(e.code("")+"#_", state))
	if r.status != http.StatusOK {
		t.Fatalf("a code with #_ was refused: %d %s", r.status, r.body)
	}
}

// TestConsentPageFlow drives the sandbox's consent page like a browser: the 302 to it, the
// Allow form post, and its 302 back with code, state and #_.
func TestConsentPageFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser()
	authz := b.start("")
	page := b.do(mustRequest(t, http.MethodGet, authz.String(), nil))
	if page.status != http.StatusOK || !strings.Contains(page.body, `value="allow"`) {
		t.Fatalf("consent page: %d", page.status)
	}
	form := authz.Query()
	form.Set("decision", "allow")
	req := mustRequest(t, http.MethodPost, e.igURL+"/oauth/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	back := b.do(req)
	loc := back.header.Get("Location")
	if back.status != http.StatusFound || !strings.HasSuffix(loc, "#_") || !strings.HasPrefix(loc, e.srv.URL+CallbackPath) {
		t.Fatalf("consent answer: %d %q", back.status, loc)
	}
	// A browser drops the fragment; the request must succeed either way.
	r := b.do(mustRequest(t, http.MethodGet, loc, nil))
	if r.status != http.StatusOK {
		t.Fatalf("callback: %d %s", r.status, r.body)
	}
}

func TestHealthProbes(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, p := range []string{HealthzPath, ReadyzPath} {
		if r := e.newBrowser().get(p); r.status != http.StatusOK || r.body != "ok\n" {
			t.Errorf("%s: %d %q", p, r.status, r.body)
		}
	}
}

func TestExchange(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser()
	u := b.start("flow=json")
	state := u.Query().Get("state")
	if claims, err := e.signer.VerifyState(state, cookieValue(t, b)); err != nil || claims.Flow != oauthstate.FlowJSON {
		t.Fatalf("flow=json did not mint a JSON-flow state: %+v %v", claims, err)
	}
	body, _ := json.Marshal(map[string]string{"code": e.code("") + "#_", "state": state})
	r := b.post(ExchangePath, "application/json", body)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	assertSecurityHeaders(t, r.header)
	if r.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"connection":    map[string]any{"namespace": connNS, "name": "ig-" + defaultUserID},
		"account":       map[string]any{"userID": defaultUserID, "username": defaultUsername},
		"expiresAt":     t0.Add(sandbox.DefaultLongLivedTTL).Format(time.RFC3339),
		"grantedScopes": toAny(sandbox.Scopes()),
	}
	if !jsonEqual(got, want) {
		t.Errorf("response\n %s\nwant\n %v", r.body, want)
	}
	if e.secret(connNS, "ig-"+defaultUserID+"-token") == nil {
		t.Errorf("no Secret written")
	}
}
