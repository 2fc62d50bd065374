package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCodeExchangeFlatBody(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.login("", "instagram_business_basic,instagram_business_manage_comments")
	r := e.postForm("/oauth/access_token", exchangeValues(code))
	tok := e.accessToken(r.body)
	expectBody(t, r, http.StatusOK, `{"access_token":"`+tok+`","user_id":27640875392278831,"permissions":["instagram_business_basic","instagram_business_manage_comments"]}`)

	// user_id is a bare JSON number above 2^53 that float64 cannot hold.
	if !strings.Contains(r.body, `"user_id":27640875392278831,`) {
		t.Fatalf("user_id not a bare number: %s", r.body)
	}
	var exact struct {
		UserID json.Number `json:"user_id"`
	}
	var lossy struct {
		UserID float64 `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(r.body), &exact); err != nil || exact.UserID.String() != defaultScopedID {
		t.Fatalf("json.Number: %v %v", exact.UserID, err)
	}
	if err := json.Unmarshal([]byte(r.body), &lossy); err != nil || strconv.FormatFloat(lossy.UserID, 'f', 0, 64) == defaultScopedID {
		t.Fatalf("the id should not survive float64, got %v %v", lossy.UserID, err)
	}

	info, ok := e.sb.TokenInfo(tok)
	if !ok || info.Kind != ShortLived || !info.Valid || !info.ExpiresAt.Equal(t0.Add(time.Hour)) || info.UserID != defaultUserID {
		t.Fatalf("token info %+v", info)
	}
}

func TestCodeExchangeMultipart(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.postMultipart("/oauth/access_token", exchangeValues(e.login("", ScopeBasic)))
	tok := e.accessToken(r.body)
	expectBody(t, r, http.StatusOK, `{"access_token":"`+tok+`","user_id":27640875392278831,"permissions":["instagram_business_basic"]}`)
}

func TestCodeIsSingleUse(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.login("", ScopeBasic)
	if r := e.postForm("/oauth/access_token", exchangeValues(code)); r.status != http.StatusOK {
		t.Fatalf("first use: %d %s", r.status, r.body)
	}
	expectBody(t, e.postForm("/oauth/access_token", exchangeValues(code)), http.StatusBadRequest,
		`{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used."}`)
	// A code with the #_ fragment still attached is not a code Instagram knows.
	code = e.login("", ScopeBasic)
	expectBody(t, e.postForm("/oauth/access_token", exchangeValues(code+"#_")), http.StatusBadRequest,
		`{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used."}`)
}

func TestCodeExpiresAfterOneHour(t *testing.T) {
	e := newEnv(t, Options{})
	verification := `{"error_type":"OAuthException","code":400,"error_message":"Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"}`

	fresh := e.login("", ScopeBasic)
	e.clock.Step(time.Hour - time.Second)
	if r := e.postForm("/oauth/access_token", exchangeValues(fresh)); r.status != http.StatusOK {
		t.Fatalf("at 59m59s: %d %s", r.status, r.body)
	}
	stale := e.login("", ScopeBasic)
	e.clock.Step(time.Hour)
	expectBody(t, e.postForm("/oauth/access_token", exchangeValues(stale)), http.StatusBadRequest, verification)
	// An expired code is gone afterwards.
	expectBody(t, e.postForm("/oauth/access_token", exchangeValues(stale)), http.StatusBadRequest,
		`{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used."}`)
}

func TestCodeExchangeRedirectMismatch(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.login("", ScopeBasic)
	v := exchangeValues(code)
	v.Set("redirect_uri", testRedirect+"/")
	expectBody(t, e.postForm("/oauth/access_token", v), http.StatusBadRequest,
		`{"error_type":"OAuthException","code":400,"error_message":"Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"}`)
	// The failed attempt did not consume the code.
	if r := e.postForm("/oauth/access_token", exchangeValues(code)); r.status != http.StatusOK {
		t.Fatalf("after mismatch: %d %s", r.status, r.body)
	}
}

func TestCodeExchangeInvalidPlatformApp(t *testing.T) {
	e := newEnv(t, Options{Apps: []App{
		{ClientID: DefaultClientID, ClientSecret: DefaultClientSecret},
		{ClientID: "77", ClientSecret: "other"},
	}})
	want := `{"error_type":"OAuthException","code":400,"error_message":"Invalid platform app"}`
	code := e.login("", ScopeBasic)
	v := exchangeValues(code)
	v.Set("client_secret", "meta-app-secret")
	expectBody(t, e.postForm("/oauth/access_token", v), http.StatusBadRequest, want)
	v = exchangeValues(code)
	v.Set("client_id", "1234")
	expectBody(t, e.postForm("/oauth/access_token", v), http.StatusBadRequest, want)
	// Another valid app cannot redeem this app's code.
	v = exchangeValues(code)
	v.Set("client_id", "77")
	v.Set("client_secret", "other")
	expectBody(t, e.postForm("/oauth/access_token", v), http.StatusBadRequest,
		`{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used."}`)
}

func TestCodeExchangeBadRequests(t *testing.T) {
	e := newEnv(t, Options{})
	flat := func(msg string) string {
		return `{"error_type":"OAuthException","code":400,"error_message":"` + msg + `"}`
	}
	for _, c := range []struct{ drop, want string }{
		{"client_id", "You must provide a client_id"},
		{"client_secret", "You must provide a client_secret"},
		{"grant_type", "Invalid grant_type"},
		{"redirect_uri", "You must provide a redirect_uri"},
		{"code", "You must provide a code"},
	} {
		v := exchangeValues("AQx")
		v.Del(c.drop)
		expectBody(t, e.postForm("/oauth/access_token", v), http.StatusBadRequest, flat(c.want))
	}
	expectBody(t, e.get("/oauth/access_token"+q("client_id", DefaultClientID)), http.StatusBadRequest, flat("Unsupported method: use POST"))
	expectBody(t, e.send(http.MethodPost, "/oauth/access_token", "application/json", `{"client_id":"1"}`),
		http.StatusBadRequest, flat("You must provide a client_id"))
	if n := e.sb.CallCount(EndpointCodeExchange); n != 7 {
		t.Fatalf("code_exchange count %d, want 7", n)
	}
}

func TestCodeExchangeDataShape(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.sb.SetResponseShapes(ResponseShapes{CodeExchange: ShapeData}); err != nil {
		t.Fatal(err)
	}
	r := e.postForm("/oauth/access_token", exchangeValues(e.login("", "instagram_business_basic,instagram_business_manage_messages")))
	tok := e.accessToken(r.body)
	expectBody(t, r, http.StatusOK, `{"data":[{"access_token":"`+tok+`","user_id":"27640875392278831","permissions":"instagram_business_basic,instagram_business_manage_messages"}]}`)
	if err := e.sb.SetResponseShapes(ResponseShapes{CodeExchange: "nested"}); err == nil {
		t.Fatal("unknown shape accepted")
	}
}
