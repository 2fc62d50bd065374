package sandbox

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestConsentPage(t *testing.T) {
	e := newEnv(t, Options{})
	e.sb.AddAccount(Account{Username: "second_shop"})
	r := e.get("/oauth/authorize" + q("client_id", DefaultClientID, "redirect_uri", testRedirect,
		"response_type", "code", "scope", "instagram_business_basic instagram_business_manage_comments", "state", "s<1>"))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	body := r.body
	banner := strings.Index(body, "This is the igconnect Instagram sandbox, not Instagram.")
	if banner < 0 || banner > strings.Index(body, "<main>") {
		t.Fatalf("the sandbox banner must come first on the page:\n%s", body)
	}
	for _, want := range []string{
		`<form method="post" action="/oauth/authorize">`,
		`<button type="submit" name="decision" value="allow" id="allow">Allow</button>`,
		`<button type="submit" name="decision" value="deny" id="deny">Deny</button>`,
		`<input type="radio" name="account" value="17841400000000001" checked>`,
		`<input type="radio" name="account" value="17841400000000003">`,
		`@second_shop`,
		`<code>instagram_business_basic</code>`,
		`<code>instagram_business_manage_comments</code>`,
		`<input type="hidden" name="scope" value="instagram_business_basic,instagram_business_manage_comments">`,
		`<input type="hidden" name="state" value="s&lt;1&gt;">`,
		DefaultAppName,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Error("the consent page must work without JavaScript")
	}
	if n := e.sb.CallCount(EndpointAuthorize); n != 1 {
		t.Fatalf("authorize count %d", n)
	}
}

func TestAuthorizeErrorPages(t *testing.T) {
	e := newEnv(t, Options{Apps: []App{
		{ClientID: DefaultClientID, ClientSecret: DefaultClientSecret},
		{ClientID: "42", ClientSecret: "s", RedirectURIs: []string{"https://registered.example/cb/"}},
	}})
	valid := map[string]string{"client_id": DefaultClientID, "redirect_uri": testRedirect,
		"response_type": "code", "scope": ScopeBasic, "state": "x"}
	cases := []struct {
		name, key, value, want string
	}{
		{"unknown app", "client_id", "123", "Invalid platform app"},
		{"no app", "client_id", "", "Invalid platform app"},
		{"no redirect", "redirect_uri", "", "Invalid redirect_uri"},
		{"relative redirect", "redirect_uri", "/cb", "Invalid redirect_uri"},
		{"token flow", "response_type", "token", "Invalid response_type"},
		{"deprecated scope", "scope", "business_basic", "Invalid Scopes: business_basic. The business_* scopes were deprecated"},
		{"misspelt scope", "scope", "instagram_business_basic,instagram_business_content_publishing", "Invalid Scopes: instagram_business_content_publishing"},
		{"facebook scope", "scope", "instagram_basic", "Invalid Scopes: instagram_basic"},
		{"basic missing", "scope", "instagram_business_manage_comments", "instagram_business_basic is required"},
		{"unregistered redirect", "client_id", "42", "Invalid redirect_uri"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := url.Values{}
			for k, x := range valid {
				v.Set(k, x)
			}
			v.Set(c.key, c.value)
			for _, r := range []response{e.get("/oauth/authorize?" + v.Encode()), func() response {
				v.Set("decision", "allow")
				return e.postForm("/oauth/authorize", v)
			}()} {
				if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
					t.Fatalf("want a 400 page and no redirect, got %d Location %q", r.status, r.header.Get("Location"))
				}
				if !strings.Contains(r.body, c.want) || !strings.Contains(r.body, "not Instagram") {
					t.Fatalf("error page lacks %q or the banner:\n%s", c.want, r.body)
				}
			}
		})
	}
	// The registered redirect URI itself is accepted.
	v := url.Values{"client_id": {"42"}, "redirect_uri": {"https://registered.example/cb/"}, "response_type": {"code"}, "scope": {ScopeBasic}}
	if r := e.get("/oauth/authorize?" + v.Encode()); r.status != http.StatusOK {
		t.Fatalf("registered redirect: %d", r.status)
	}
}

func TestDenyRedirect(t *testing.T) {
	e := newEnv(t, Options{})
	v := authorizeValues(ScopeBasic, "xyz 1")
	v.Set("decision", "deny")
	r := e.postForm("/oauth/authorize", v)
	want := "https://app.example/cb?error=access_denied&error_reason=user_denied&error_description=The+user+denied+your+request&state=xyz+1"
	if r.status != http.StatusFound || r.header.Get("Location") != want {
		t.Fatalf("got %d %q\nwant 302 %q", r.status, r.header.Get("Location"), want)
	}
	// Without state, no state parameter.
	v.Del("state")
	r = e.postForm("/oauth/authorize", v)
	if got := r.header.Get("Location"); strings.Contains(got, "state") {
		t.Fatalf("state echoed although none was sent: %q", got)
	}
}

func TestAllowRedirect(t *testing.T) {
	e := newEnv(t, Options{})
	v := authorizeValues(ScopeBasic, "abc")
	v.Set("decision", "allow")
	r := e.postForm("/oauth/authorize", v)
	loc := r.header.Get("Location")
	if r.status != http.StatusFound || !regexp.MustCompile(`^https://app\.example/cb\?code=AQ[A-Za-z0-9_-]{40,}&state=abc#_$`).MatchString(loc) {
		t.Fatalf("got %d %q", r.status, loc)
	}
	// A redirect_uri with a query keeps it and appends with &.
	v.Set("redirect_uri", "https://app.example/cb?tenant=a")
	r = e.postForm("/oauth/authorize", v)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "https://app.example/cb?tenant=a&code=AQ") || !strings.HasSuffix(loc, "&state=abc#_") {
		t.Fatalf("got %q", loc)
	}
	// No decision is an error page, not a redirect.
	v.Del("decision")
	if r := e.postForm("/oauth/authorize", v); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Fatalf("no decision: %d %q", r.status, r.header.Get("Location"))
	}
	// An unknown account is an error page.
	v.Set("decision", "allow")
	v.Set("account", "nobody")
	if r := e.postForm("/oauth/authorize", v); r.status != http.StatusBadRequest {
		t.Fatalf("unknown account: %d", r.status)
	}
	if r := e.send(http.MethodPut, "/oauth/authorize", "", ""); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", r.status)
	}
}

func TestGrantedScopesAreRequestedIntersectAllowed(t *testing.T) {
	e := newEnv(t, Options{Accounts: []Account{{}, {Username: "limited", Scopes: []string{ScopeBasic, "instagram_business_manage_messages"}}}})
	code := e.login("limited", "instagram_business_basic,instagram_business_manage_comments,instagram_business_manage_messages")
	r := e.postForm("/oauth/access_token", exchangeValues(code))
	tok := e.accessToken(r.body)
	want := `{"access_token":"` + tok + `","user_id":27640875392278833,"permissions":["instagram_business_basic","instagram_business_manage_messages"]}`
	expectBody(t, r, http.StatusOK, want)
}
