package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// control sends a JSON control request and returns the answer.
func (e *env) control(method, path, body string) response {
	e.t.Helper()
	return e.send(method, path, "application/json", body)
}

// decode unmarshals a control answer or fails.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
	return v
}

func TestControlTokens(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.control(http.MethodPost, "/sandbox/tokens", `{"account":"sandbox_business","kind":"long_lived","age":"25h"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.status, r.body)
	}
	issued := decode[IssuedToken](t, r)
	if !issued.IssuedAt.Equal(t0.Add(-25*time.Hour)) || issued.UserID != defaultUserID || !issued.Valid || issued.Kind != LongLived {
		t.Fatalf("issued %+v", issued)
	}
	if r := e.get(refreshPath(issued.AccessToken)); r.status != http.StatusOK {
		t.Fatalf("refresh of a 25h-old import: %d %s", r.status, r.body)
	}

	r = e.control(http.MethodPost, "/sandbox/tokens/inspect", `{"access_token":"`+issued.AccessToken+`"}`)
	info := decode[TokenInfo](t, r)
	if r.status != http.StatusOK || info.Username != "sandbox_business" || info.AppScopedID != defaultScopedID ||
		!info.ExpiresAt.Equal(t0.Add(-25*time.Hour+60*day)) {
		t.Fatalf("inspect: %d %+v", r.status, info)
	}
	expectBody(t, e.control(http.MethodPost, "/sandbox/tokens/revoke", `{"access_token":"`+issued.AccessToken+`"}`), http.StatusNoContent, "")
	info = decode[TokenInfo](t, e.control(http.MethodPost, "/sandbox/tokens/inspect", `{"access_token":"`+issued.AccessToken+`"}`))
	if info.Valid || info.Reason != "logged_out" {
		t.Fatalf("after revoke %+v", info)
	}
	const neverIssued = `{"error":"the sandbox never issued this token"}`
	expectBody(t, e.control(http.MethodPost, "/sandbox/tokens/inspect", `{"access_token":"IGAAnope"}`), http.StatusNotFound, neverIssued)
	expectBody(t, e.control(http.MethodPost, "/sandbox/tokens/revoke", `{"access_token":"IGAAnope"}`), http.StatusNotFound, neverIssued)

	short := decode[IssuedToken](t, e.control(http.MethodPost, "/sandbox/tokens", `{"kind":"short","issued_at":"2026-09-01T11:30:00Z"}`))
	if short.Kind != ShortLived || !short.ExpiresAt.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("short %+v", short)
	}
	expectBody(t, e.control(http.MethodPost, "/sandbox/tokens", `{"account":"ghost"}`), http.StatusNotFound, `{"error":"unknown account \"ghost\""}`)
	if r := e.control(http.MethodPost, "/sandbox/tokens", `{"kind":"long","issued_at":"2026-09-01T11:30:00Z","age":"1h"}`); r.status != http.StatusBadRequest {
		t.Fatalf("issued_at and age: %d", r.status)
	}
	if r := e.control(http.MethodPost, "/sandbox/tokens", `{"acount":"typo"}`); r.status != http.StatusBadRequest || !strings.Contains(r.body, "unknown field") {
		t.Fatalf("typo: %d %s", r.status, r.body)
	}
}

func TestControlAccounts(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.control(http.MethodPost, "/sandbox/accounts", `{"username":"acme","scopes":["instagram_business_basic"]}`)
	expectBody(t, r, http.StatusCreated, `{"user_id":"17841400000000003","app_scoped_id":"27640875392278833","username":"acme","name":"Sandbox Business 2","account_type":"BUSINESS","scopes":["instagram_business_basic"]}`)
	accounts := decode[[]Account](t, e.control(http.MethodGet, "/sandbox/accounts", ""))
	if len(accounts) != 2 || accounts[1].Username != "acme" {
		t.Fatalf("accounts %+v", accounts)
	}
	if r := e.control(http.MethodPost, "/sandbox/accounts", `{"username":"acme","user_id":"5"}`); r.status != http.StatusConflict {
		t.Fatalf("duplicate username: %d %s", r.status, r.body)
	}
	if r := e.control(http.MethodPost, "/sandbox/accounts", `{"user_id":"12x"}`); r.status != http.StatusBadRequest {
		t.Fatalf("bad id: %d %s", r.status, r.body)
	}

	tok := e.issue(TokenRequest{Account: "acme"})
	expectBody(t, e.control(http.MethodPost, "/sandbox/accounts/password-change", `{"account":"acme"}`), http.StatusNoContent, "")
	if info, _ := e.sb.TokenInfo(tok); info.Reason != "password_changed" {
		t.Fatalf("after password change %+v", info)
	}
	tok = e.issue(TokenRequest{Account: "17841400000000003"})
	expectBody(t, e.control(http.MethodPost, "/sandbox/accounts/remove-app", `{"account":"27640875392278833"}`), http.StatusNoContent, "")
	if info, _ := e.sb.TokenInfo(tok); info.Reason != "app_removed" {
		t.Fatalf("after app removal %+v", info)
	}
	expectBody(t, e.control(http.MethodPost, "/sandbox/accounts/password-change", `{"account":"ghost"}`),
		http.StatusNotFound, `{"error":"unknown account \"ghost\""}`)
}

func TestControlCodes(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.control(http.MethodPost, "/sandbox/codes", `{"redirect_uri":"`+testRedirect+`","scopes":["instagram_business_basic"]}`)
	code := decode[map[string]string](t, r)["code"]
	if r.status != http.StatusCreated || !strings.HasPrefix(code, "AQ") {
		t.Fatalf("code: %d %s", r.status, r.body)
	}
	r = e.postForm("/oauth/access_token", exchangeValues(code))
	expectBody(t, r, http.StatusOK, `{"access_token":"`+e.accessToken(r.body)+`","user_id":27640875392278831,"permissions":["instagram_business_basic"]}`)
	if r := e.control(http.MethodPost, "/sandbox/codes", `{}`); r.status != http.StatusBadRequest {
		t.Fatalf("no redirect_uri: %d", r.status)
	}
}

func TestControlFaultsUsageShapesCalls(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.issue(TokenRequest{})
	me := "/v25.0/me" + q("fields", "user_id", "access_token", tok)

	expectBody(t, e.control(http.MethodPost, "/sandbox/faults", `{"kind":"throttle","endpoint":"profile","count":1,"estimated_time_to_regain_access":3}`), http.StatusNoContent, "")
	expectBody(t, e.control(http.MethodPost, "/sandbox/faults", `{"kind":"hang","endpoint":"refresh","hang_for":"30s"}`), http.StatusNoContent, "")
	expectBody(t, e.control(http.MethodGet, "/sandbox/faults", ""), http.StatusOK,
		`[{"kind":"throttle","endpoint":"profile","count":1,"estimated_time_to_regain_access":3},{"kind":"hang","endpoint":"refresh","hang_for":"30s"}]`)
	if r := e.get(me); !strings.Contains(r.header.Get("X-Business-Use-Case-Usage"), `"estimated_time_to_regain_access":3`) {
		t.Fatalf("throttled: %d %v", r.status, r.header)
	}
	expectBody(t, e.control(http.MethodDelete, "/sandbox/faults", ""), http.StatusNoContent, "")
	expectBody(t, e.control(http.MethodGet, "/sandbox/faults", ""), http.StatusOK, `[]`)
	if r := e.control(http.MethodPost, "/sandbox/faults", `{"kind":"hang","hang_for":"soon"}`); r.status != http.StatusBadRequest {
		t.Fatalf("bad duration: %d", r.status)
	}
	if r := e.control(http.MethodPost, "/sandbox/faults", `{"kind":"melt"}`); r.status != http.StatusBadRequest {
		t.Fatalf("bad kind: %d", r.status)
	}

	expectBody(t, e.control(http.MethodPut, "/sandbox/usage", `{"call_count":80,"total_cputime":1,"total_time":2,"estimated_time_to_regain_access":0}`), http.StatusNoContent, "")
	expectBody(t, e.control(http.MethodGet, "/sandbox/usage", ""), http.StatusOK, `{"call_count":80,"total_cputime":1,"total_time":2,"estimated_time_to_regain_access":0}`)
	if r := e.get(me); r.header.Get("X-App-Usage") != `{"call_count":80,"total_cputime":1,"total_time":2}` {
		t.Fatalf("usage header %q", r.header.Get("X-App-Usage"))
	}
	expectBody(t, e.control(http.MethodDelete, "/sandbox/usage", ""), http.StatusNoContent, "")
	expectBody(t, e.control(http.MethodGet, "/sandbox/usage", ""), http.StatusOK, `null`)

	expectBody(t, e.control(http.MethodPut, "/sandbox/response-shapes", `{"profile":"data"}`), http.StatusNoContent, "")
	expectBody(t, e.control(http.MethodGet, "/sandbox/response-shapes", ""), http.StatusOK, `{"code_exchange":"flat","profile":"data"}`)
	expectBody(t, e.get(me), http.StatusOK, `{"data":[{"id":"27640875392278831","user_id":"17841400000000001"}]}`)
	if r := e.control(http.MethodPut, "/sandbox/response-shapes", `{"profile":"xml"}`); r.status != http.StatusBadRequest {
		t.Fatalf("bad shape: %d", r.status)
	}

	e.get("/oauth/authorize")
	expectBody(t, e.control(http.MethodGet, "/sandbox/calls", ""), http.StatusOK,
		`{"authorize":1,"code_exchange":0,"profile":3,"refresh":0,"token_exchange":0}`)
	expectBody(t, e.control(http.MethodDelete, "/sandbox/calls", ""), http.StatusNoContent, "")
	expectBody(t, e.control(http.MethodGet, "/sandbox/calls", ""), http.StatusOK,
		`{"authorize":0,"code_exchange":0,"profile":0,"refresh":0,"token_exchange":0}`)
}

func TestControlClock(t *testing.T) {
	e := newEnv(t, Options{})
	short := e.issue(TokenRequest{Kind: ShortLived})
	expectBody(t, e.control(http.MethodGet, "/sandbox/clock", ""), http.StatusOK, `{"now":"2026-09-01T12:00:00Z","offset":"0s"}`)
	expectBody(t, e.control(http.MethodPost, "/sandbox/clock", `{"advance":"1h"}`), http.StatusOK, `{"now":"2026-09-01T13:00:00Z","offset":"1h0m0s"}`)
	if r := e.get(exchangePath("", short)); !strings.Contains(r.body, `"error_subcode":463`) {
		t.Fatalf("after advancing: %s", r.body)
	}
	// The offset adds to the underlying clock.
	e.clock.Step(time.Hour)
	if got := e.sb.Now(); !got.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("now %v", got)
	}
	if r := e.control(http.MethodPost, "/sandbox/clock", `{"advance":"-1h"}`); r.status != http.StatusBadRequest {
		t.Fatalf("backwards: %d %s", r.status, r.body)
	}
}

func TestControlMisc(t *testing.T) {
	e := newEnv(t, Options{})
	expectBody(t, e.control(http.MethodGet, "/sandbox/healthz", ""), http.StatusOK, `{"status":"ok"}`)
	expectBody(t, e.control(http.MethodGet, "/sandbox/nope", ""), http.StatusNotFound, `{"error":"no control route GET /sandbox/nope"}`)
	if r := e.control(http.MethodPost, "/sandbox/tokens", `{} {}`); r.status != http.StatusBadRequest {
		t.Fatalf("two values: %d", r.status)
	}
	// Control calls are not Instagram calls.
	for _, n := range e.sb.Calls() {
		if n != 0 {
			t.Fatalf("calls %v", e.sb.Calls())
		}
	}
}
