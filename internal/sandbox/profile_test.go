package sandbox

import (
	"net/http"
	"testing"
)

func TestProfile(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.issue(TokenRequest{})
	expectBody(t, e.get("/v25.0/me"+q("fields", "id,user_id,username,name,account_type", "access_token", tok)), http.StatusOK,
		`{"id":"27640875392278831","user_id":"17841400000000001","username":"sandbox_business","name":"Sandbox Business","account_type":"BUSINESS"}`)
	// Only the requested fields, id always; unmodelled documented fields are left out.
	expectBody(t, e.get("/v26.0/me"+q("fields", "user_id, username,media_count", "access_token", tok)), http.StatusOK,
		`{"id":"27640875392278831","user_id":"17841400000000001","username":"sandbox_business"}`)
	expectBody(t, e.get("/me"+q("access_token", tok)), http.StatusOK, `{"id":"27640875392278831"}`)

	// The token may come in an Authorization header instead.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v25.0/me?fields=username", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	expectBody(t, e.do(req), http.StatusOK, `{"id":"27640875392278831","username":"sandbox_business"}`)

	// A short-lived token works too.
	if r := e.get("/v25.0/me" + q("access_token", e.shortToken())); r.status != http.StatusOK {
		t.Fatalf("short-lived: %d", r.status)
	}
	if n := e.sb.CallCount(EndpointProfile); n != 5 {
		t.Fatalf("profile count %d", n)
	}
}

func TestProfileDataShape(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.sb.SetResponseShapes(ResponseShapes{Profile: ShapeData}); err != nil {
		t.Fatal(err)
	}
	expectBody(t, e.get("/v25.0/me"+q("fields", "user_id,username", "access_token", e.issue(TokenRequest{}))), http.StatusOK,
		`{"data":[{"id":"27640875392278831","user_id":"17841400000000001","username":"sandbox_business"}]}`)
}

func TestProfileErrors(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.issue(TokenRequest{})
	expectGraphError(t, e.get("/v25.0/me?fields=user_id"),
		`{"error":{"message":"An active access token must be used to query information about the current user.","type":"OAuthException","code":2500,"fbtrace_id":"TRACE"}}`)
	expectGraphError(t, e.get("/v25.0/me"+q("fields", "user_id,email", "access_token", tok)),
		`{"error":{"message":"(#100) Tried accessing nonexisting field (email) on node type (User)","type":"OAuthException","code":100,"fbtrace_id":"TRACE"}}`)
	noBasic := e.issue(TokenRequest{Scopes: []string{"instagram_business_manage_comments"}})
	expectGraphError(t, e.get("/v25.0/me"+q("access_token", noBasic)),
		`{"error":{"message":"(#10) Application does not have permission for this action","type":"OAuthException","code":10,"fbtrace_id":"TRACE"}}`)
	expectGraphError(t, e.send(http.MethodPost, "/v25.0/me"+q("access_token", tok), "", ""),
		`{"error":{"message":"Unsupported request - method type: post","type":"OAuthException","code":100,"fbtrace_id":"TRACE"}}`)
	expectGraphError(t, e.get("/v25.0/nothing-here"),
		`{"error":{"message":"Unknown path components: /v25.0/nothing-here","type":"OAuthException","code":2500,"fbtrace_id":"TRACE"}}`)
}

func TestIndexPage(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.get("/")
	if r.status != http.StatusOK || !containsAll(r.body, "not Instagram", "@sandbox_business", "/sandbox/") {
		t.Fatalf("index: %d\n%s", r.status, r.body)
	}
}
