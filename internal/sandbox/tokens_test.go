package sandbox

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

// exchangePath is a long-lived exchange request for tok.
func exchangePath(prefix, tok string) string {
	return prefix + "/access_token" + q("grant_type", "ig_exchange_token", "client_secret", DefaultClientSecret, "access_token", tok)
}

// refreshPath is a refresh request for tok.
func refreshPath(tok string) string {
	return "/refresh_access_token" + q("grant_type", "ig_refresh_token", "access_token", tok)
}

func TestLongLivedExchange(t *testing.T) {
	e := newEnv(t, Options{})
	short := e.shortToken()
	for _, prefix := range []string{"", "/v25.0"} {
		// client_id is an extra parameter Instagram ignores.
		r := e.get(exchangePath(prefix, short) + "&client_id=" + DefaultClientID)
		long := e.accessToken(r.body)
		expectBody(t, r, http.StatusOK, `{"access_token":"`+long+`","token_type":"bearer","expires_in":5184000}`)
		info, _ := e.sb.TokenInfo(long)
		if info.Kind != LongLived || !info.ExpiresAt.Equal(t0.Add(60*day)) || !info.IssuedAt.Equal(t0) || !info.Valid {
			t.Fatalf("long-lived info %+v", info)
		}
	}
	if n := e.sb.CallCount(EndpointTokenExchange); n != 2 {
		t.Fatalf("token_exchange count %d", n)
	}
}

func TestLongLivedExchangeErrors(t *testing.T) {
	e := newEnv(t, Options{})
	short := e.shortToken()

	expectGraphError(t, e.get("/access_token"+q("grant_type", "ig_exchange_token", "client_secret", "wrong", "access_token", short)),
		`{"error":{"message":"Error validating client secret.","type":"OAuthException","code":101,"fbtrace_id":"TRACE"}}`)

	long := e.accessToken(e.get(exchangePath("", short)).body)
	expectGraphError(t, e.get(exchangePath("", long)),
		`{"error":{"message":"(#100) Invalid token type: a short-lived token is required","type":"OAuthException","code":100,"fbtrace_id":"TRACE"}}`)

	expectGraphError(t, e.get(exchangePath("", "IGAAnever-issued-token-000000000000000000")),
		`{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"error_subcode":467,"fbtrace_id":"TRACE"}}`)

	expectGraphError(t, e.get("/access_token"+q("grant_type", "ig_refresh_token", "client_secret", DefaultClientSecret, "access_token", short)),
		`{"error":{"message":"(#100) Param grant_type must be ig_exchange_token","type":"OAuthException","code":100,"fbtrace_id":"TRACE"}}`)

	e.clock.Step(time.Hour)
	r := e.get(exchangePath("", short))
	expectGraphError(t, r,
		`{"error":{"message":"Error validating access token: Session has expired on Tuesday, 01-Sep-26 13:00:00 UTC. The current time is Tuesday, 01-Sep-26 13:00:00 UTC.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"TRACE"}}`)
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `OAuth "Facebook Platform" "invalid_token" "Error validating access token`) {
		t.Fatalf("WWW-Authenticate %q", got)
	}
}

func TestLongLivedExchangeChecksTheTokensApp(t *testing.T) {
	e := newEnv(t, Options{Apps: []App{
		{ClientID: DefaultClientID, ClientSecret: DefaultClientSecret},
		{ClientID: "77", ClientSecret: "other"},
	}})
	short := e.issue(TokenRequest{Kind: ShortLived})
	expectGraphError(t, e.get("/access_token"+q("grant_type", "ig_exchange_token", "client_secret", "other", "access_token", short)),
		`{"error":{"message":"Error validating client secret.","type":"OAuthException","code":101,"fbtrace_id":"TRACE"}}`)
}

func TestRefreshRules(t *testing.T) {
	e := newEnv(t, Options{})
	long := e.issue(TokenRequest{Kind: LongLived})
	tooYoung := `{"error":{"message":"(#100) The access token is less than 24 hours old and cannot be refreshed yet","type":"OAuthException","code":100,"fbtrace_id":"TRACE"}}`

	expectGraphError(t, e.get(refreshPath(long)), tooYoung)
	e.clock.Step(day - time.Second)
	expectGraphError(t, e.get(refreshPath(long)), tooYoung)
	e.clock.Step(time.Second)
	r := e.get(refreshPath(long))
	fresh := e.accessToken(r.body)
	expectBody(t, r, http.StatusOK, `{"access_token":"`+fresh+`","token_type":"bearer","expires_in":5184000}`)
	if fresh == long {
		t.Fatal("refresh must return a new token string")
	}
	info, _ := e.sb.TokenInfo(fresh)
	if !info.IssuedAt.Equal(t0.Add(day)) || !info.ExpiresAt.Equal(t0.Add(61*day)) || info.Kind != LongLived {
		t.Fatalf("refreshed info %+v", info)
	}
	// The new token starts its own 24 hours; the old one stays valid.
	expectGraphError(t, e.get(refreshPath(fresh)), tooYoung)
	if old, _ := e.sb.TokenInfo(long); !old.Valid || !old.ExpiresAt.Equal(t0.Add(60*day)) {
		t.Fatalf("old token after refresh %+v", old)
	}
	if r := e.get("/v25.0/me" + q("access_token", long)); r.status != http.StatusOK {
		t.Fatalf("old token on /me: %d %s", r.status, r.body)
	}

	// Only GET.
	expectGraphError(t, e.send(http.MethodPost, refreshPath(long), "", ""),
		`{"error":{"message":"Unsupported request - method type: post","type":"OAuthException","code":100,"fbtrace_id":"TRACE"}}`)
	// Only long-lived.
	expectGraphError(t, e.get(refreshPath(e.issue(TokenRequest{Kind: ShortLived}))),
		`{"error":{"message":"(#100) Invalid token type: a long-lived token is required","type":"OAuthException","code":100,"fbtrace_id":"TRACE"}}`)
	// grant_type is required.
	expectGraphError(t, e.get("/refresh_access_token"+q("access_token", long)),
		`{"error":{"message":"(#100) Param grant_type must be ig_refresh_token","type":"OAuthException","code":100,"fbtrace_id":"TRACE"}}`)
}

func TestRefreshAcrossSixtyDays(t *testing.T) {
	e := newEnv(t, Options{})
	// A token refreshed every 30 days lives on indefinitely.
	tok := e.issue(TokenRequest{})
	for i := 0; i < 4; i++ {
		e.clock.Step(30 * day)
		r := e.get(refreshPath(tok))
		if r.status != http.StatusOK {
			t.Fatalf("refresh %d: %d %s", i, r.status, r.body)
		}
		tok = e.accessToken(r.body)
	}
	// One left alone for 60 days is dead and cannot be refreshed.
	idle := e.issue(TokenRequest{})
	e.clock.Step(60*day - time.Second)
	if r := e.get(refreshPath(idle)); r.status != http.StatusOK {
		t.Fatalf("at 59d23h59m59s: %d %s", r.status, r.body)
	}
	e.clock.Step(time.Second)
	now := e.sb.Now()
	expectGraphError(t, e.get(refreshPath(idle)),
		`{"error":{"message":"Error validating access token: Session has expired on `+now.Format(expiryLayout)+`. The current time is `+now.Format(expiryLayout)+`.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"TRACE"}}`)
	if info, _ := e.sb.TokenInfo(idle); info.Valid || info.Reason != "expired" {
		t.Fatalf("idle info %+v", info)
	}
}

func TestImportedTokenIssuedInThePast(t *testing.T) {
	e := newEnv(t, Options{})
	expired := e.issue(TokenRequest{IssuedAt: t0.Add(-61 * day)})
	expectGraphError(t, e.get(refreshPath(expired)),
		`{"error":{"message":"Error validating access token: Session has expired on Monday, 31-Aug-26 12:00:00 UTC. The current time is Tuesday, 01-Sep-26 12:00:00 UTC.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"TRACE"}}`)
	old := e.issue(TokenRequest{IssuedAt: t0.Add(-25 * time.Hour)})
	if r := e.get(refreshPath(old)); r.status != http.StatusOK {
		t.Fatalf("25h-old import: %d %s", r.status, r.body)
	}
	if _, err := e.sb.IssueToken(TokenRequest{Account: "nobody"}); err == nil {
		t.Fatal("unknown account accepted")
	}
	if _, err := e.sb.IssueToken(TokenRequest{Kind: "medium"}); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

func TestInvalidations(t *testing.T) {
	e := newEnv(t, Options{})
	me := func(tok string) response { return e.get("/v25.0/me" + q("fields", "user_id", "access_token", tok)) }

	revoked := e.issue(TokenRequest{})
	kept := e.issue(TokenRequest{})
	if !e.sb.RevokeToken(revoked) || e.sb.RevokeToken("IGAAunknown") {
		t.Fatal("RevokeToken result")
	}
	expectGraphError(t, me(revoked),
		`{"error":{"message":"Error validating access token: The session is invalid because the user logged out.","type":"OAuthException","code":190,"fbtrace_id":"TRACE"}}`)
	if r := me(kept); r.status != http.StatusOK {
		t.Fatalf("other token after revoke: %d", r.status)
	}

	if err := e.sb.ChangePassword("sandbox_business"); err != nil {
		t.Fatal(err)
	}
	passwordChanged := `{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"TRACE"}}`
	expectGraphError(t, me(kept), passwordChanged)
	e.clock.Step(day)
	expectGraphError(t, e.get(refreshPath(kept)), passwordChanged)
	after := e.issue(TokenRequest{})
	if r := me(after); r.status != http.StatusOK {
		t.Fatalf("token issued after the password change: %d %s", r.status, r.body)
	}

	if err := e.sb.RemoveApp(defaultUserID, DefaultClientID); err != nil {
		t.Fatal(err)
	}
	expectGraphError(t, me(after),
		`{"error":{"message":"Error validating access token: The user has not authorized application 990000000000001.","type":"OAuthException","code":190,"error_subcode":458,"fbtrace_id":"TRACE"}}`)
	if info, _ := e.sb.TokenInfo(after); info.Valid || info.Reason != "app_removed" {
		t.Fatalf("info %+v", info)
	}
	// Authorizing again works.
	if r := me(e.shortToken()); r.status != http.StatusOK {
		t.Fatalf("after re-authorization: %d %s", r.status, r.body)
	}
	if err := e.sb.ChangePassword("nobody"); err == nil {
		t.Fatal("unknown account accepted")
	}
	if err := e.sb.RemoveApp(defaultUserID, "nope"); err == nil {
		t.Fatal("unknown app accepted")
	}
}

func TestTraceIDsAreRandom(t *testing.T) {
	e := newEnv(t, Options{})
	a := traceRe.FindString(e.get(refreshPath("IGAAx")).body)
	b := traceRe.FindString(e.get(refreshPath("IGAAx")).body)
	if a == "" || a == b {
		t.Fatalf("fbtrace_id %q then %q", a, b)
	}
}
