package instagram_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// These tests run the client against the sandbox over real HTTP: every call the operator
// makes, each shape the sandbox can answer in, and every class of error it can produce.

const redirect = "https://ig.example.test/auth/instagram/callback"

type rig struct {
	sb    *sandbox.Sandbox
	clock *clocktesting.FakeClock
	c     *instagram.Client
	app   instagram.App
	url   string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	sb := sandbox.New(sandbox.Options{Clock: clk})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &rig{
		sb: sb, clock: clk, url: srv.URL,
		c: instagram.New(instagram.Config{AuthorizeURL: srv.URL + "/oauth/authorize", APIURL: srv.URL,
			GraphURL: srv.URL, Timeout: 2 * time.Second, Clock: clk}),
		app: instagram.App{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret},
	}
}

// consent follows the authorize URL to the sandbox's consent page and submits Allow, like
// a browser, returning the code from the redirect.
func (r *rig) consent(t *testing.T, scopes []string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := r.c.AuthorizeURL(r.app.ClientID, redirect, scopes, "state-123")
	resp, err := hc.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: HTTP %d", resp.StatusCode)
	}
	q, _ := url.Parse(authorize)
	form := q.Query()
	form.Set("decision", "allow")
	resp, err = hc.PostForm(r.url+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, redirect) || !strings.HasSuffix(loc, "#_") {
		t.Fatalf("Allow: HTTP %d to %q; want a 302 to the redirect URI ending in #_", resp.StatusCode, loc)
	}
	u, _ := url.Parse(loc)
	if u.Query().Get("state") != "state-123" {
		t.Errorf("state not echoed: %q", loc)
	}
	// A code pasted by hand carries the fragment; the client strips it.
	return u.Query().Get("code") + "#_"
}

func TestFullLoginAgainstTheSandbox(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	code := r.consent(t, []string{"instagram_business_basic"})

	short, err := r.c.ExchangeCode(ctx, r.app, redirect, code)
	if err != nil {
		t.Fatal(err)
	}
	acct := r.sb.Accounts()[0]
	if short.UserID != acct.AppScopedID {
		t.Errorf("exchange user_id = %s, want the app-scoped id %s exactly (it exceeds 2^53)", short.UserID, acct.AppScopedID)
	}
	if len(short.Permissions) != 1 || short.Permissions[0] != "instagram_business_basic" {
		t.Errorf("permissions = %v", short.Permissions)
	}

	long, err := r.c.ExchangeForLongLived(ctx, r.app, short.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if long.ExpiresIn != sandbox.DefaultLongLivedTTL || long.TokenType != "bearer" {
		t.Errorf("long-lived: expires_in %v, type %q", long.ExpiresIn, long.TokenType)
	}

	me, err := r.c.Profile(ctx, long.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if me.UserID != acct.UserID || me.ID != acct.AppScopedID || me.Username != acct.Username {
		t.Errorf("profile = %+v, want user_id %s id %s username %s", me, acct.UserID, acct.AppScopedID, acct.Username)
	}

	r.clock.Step(25 * time.Hour)
	refreshed, err := r.c.RefreshToken(ctx, long.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.AccessToken == long.AccessToken || refreshed.ExpiresIn != sandbox.DefaultLongLivedTTL {
		t.Errorf("refresh must return a new token valid for 60 days, got expires_in %v", refreshed.ExpiresIn)
	}
}

func TestDataWrappedShapesAgainstTheSandbox(t *testing.T) {
	r := newRig(t)
	if err := r.sb.SetResponseShapes(sandbox.ResponseShapes{CodeExchange: sandbox.ShapeData, Profile: sandbox.ShapeData}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	short, err := r.c.ExchangeCode(ctx, r.app, redirect, r.consent(t, []string{"instagram_business_basic"}))
	if err != nil {
		t.Fatalf("the data[] shape must decode: %v", err)
	}
	if short.UserID != r.sb.Accounts()[0].AppScopedID {
		t.Errorf("data[] user_id = %s", short.UserID)
	}
	long, err := r.c.ExchangeForLongLived(ctx, r.app, short.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if me, err := r.c.Profile(ctx, long.AccessToken); err != nil || me.UserID != r.sb.Accounts()[0].UserID {
		t.Fatalf("data[] profile = %+v, %v", me, err)
	}
}

func TestEveryErrorClassAgainstTheSandbox(t *testing.T) {
	ctx := context.Background()
	type result struct {
		class       instagram.Class
		code, sub   int
		retryAfter  time.Duration
		tooEarlyRef bool
	}
	cases := []struct {
		name string
		run  func(t *testing.T, r *rig) error
		want result
	}{
		{"reused code", func(t *testing.T, r *rig) error {
			code := r.consent(t, []string{"instagram_business_basic"})
			if _, err := r.c.ExchangeCode(ctx, r.app, redirect, code); err != nil {
				t.Fatal(err)
			}
			_, err := r.c.ExchangeCode(ctx, r.app, redirect, code)
			return err
		}, result{class: instagram.ClassReauthorize}},
		{"redirect mismatch", func(t *testing.T, r *rig) error {
			_, err := r.c.ExchangeCode(ctx, r.app, "https://elsewhere.test/cb", r.consent(t, []string{"instagram_business_basic"}))
			return err
		}, result{class: instagram.ClassReauthorize}},
		{"Meta app instead of the Instagram app", func(t *testing.T, r *rig) error {
			_, err := r.c.ExchangeCode(ctx, instagram.App{ClientID: "123", ClientSecret: "meta"}, redirect,
				r.consent(t, []string{"instagram_business_basic"}))
			return err
		}, result{class: instagram.ClassConfiguration}},
		{"wrong secret on the long-lived exchange", func(_ *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{Kind: sandbox.ShortLived})
			_, err := r.c.ExchangeForLongLived(ctx, instagram.App{ClientID: r.app.ClientID, ClientSecret: "wrong"}, tok.AccessToken)
			return err
		}, result{class: instagram.ClassConfiguration, code: 101}},
		{"expired token", func(_ *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{IssuedAt: r.clock.Now().Add(-61 * 24 * time.Hour)})
			_, err := r.c.RefreshToken(ctx, tok.AccessToken)
			return err
		}, result{class: instagram.ClassReauthorize, code: 190, sub: 463}},
		{"password changed", func(t *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{IssuedAt: r.clock.Now().Add(-48 * time.Hour)})
			if err := r.sb.ChangePassword(tok.UserID); err != nil {
				t.Fatal(err)
			}
			_, err := r.c.Profile(ctx, tok.AccessToken)
			return err
		}, result{class: instagram.ClassReauthorize, code: 190, sub: 460}},
		{"app removed", func(t *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{IssuedAt: r.clock.Now().Add(-48 * time.Hour)})
			if err := r.sb.RemoveApp(tok.UserID, ""); err != nil {
				t.Fatal(err)
			}
			_, err := r.c.RefreshToken(ctx, tok.AccessToken)
			return err
		}, result{class: instagram.ClassReauthorize, code: 190, sub: 458}},
		{"revoked token", func(_ *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{})
			r.sb.RevokeToken(tok.AccessToken)
			_, err := r.c.Profile(ctx, tok.AccessToken)
			return err
		}, result{class: instagram.ClassReauthorize, code: 190}},
		{"refresh under 24 hours", func(_ *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{})
			_, err := r.c.RefreshToken(ctx, tok.AccessToken)
			return err
		}, result{class: instagram.ClassRetryLater, code: 100, tooEarlyRef: true}},
		{"throttled with usage headers", func(t *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{IssuedAt: r.clock.Now().Add(-48 * time.Hour)})
			if err := r.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultThrottle, Count: 1, RegainAccessMinutes: 7}); err != nil {
				t.Fatal(err)
			}
			_, err := r.c.RefreshToken(ctx, tok.AccessToken)
			return err
		}, result{class: instagram.ClassRetryLater, code: 4, retryAfter: 7 * time.Minute}},
		{"server error with an HTML page", func(t *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{})
			if err := r.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultServerError, Count: 1, Status: 503, HTML: true}); err != nil {
				t.Fatal(err)
			}
			_, err := r.c.Profile(ctx, tok.AccessToken)
			return err
		}, result{class: instagram.ClassRetryLater}},
		{"malformed body", func(t *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{})
			if err := r.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultMalformed, Count: 1}); err != nil {
				t.Fatal(err)
			}
			_, err := r.c.Profile(ctx, tok.AccessToken)
			return err
		}, result{class: instagram.ClassRetryLater}},
		{"truncated body", func(t *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{})
			if err := r.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultTruncated, Count: 1}); err != nil {
				t.Fatal(err)
			}
			_, err := r.c.Profile(ctx, tok.AccessToken)
			return err
		}, result{class: instagram.ClassRetryLater}},
		{"hang past the timeout", func(t *testing.T, r *rig) error {
			tok, _ := r.sb.IssueToken(sandbox.TokenRequest{})
			if err := r.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultHang, Count: 1}); err != nil {
				t.Fatal(err)
			}
			c := instagram.New(instagram.Config{GraphURL: r.url, Timeout: 200 * time.Millisecond})
			_, err := c.Profile(ctx, tok.AccessToken)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a hang must surface as a deadline, got %v", err)
			}
			return err
		}, result{class: instagram.ClassRetryLater}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			err := tc.run(t, r)
			var igErr *instagram.Error
			if !errors.As(err, &igErr) {
				t.Fatalf("want an *instagram.Error, got %v", err)
			}
			got := result{class: igErr.Class, code: igErr.Code, sub: igErr.Subcode, retryAfter: igErr.RetryAfter,
				tooEarlyRef: instagram.IsRefreshTooEarly(err)}
			if tc.want.code == 0 {
				got.code = 0 // the legacy envelope's code only repeats the HTTP status
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v (%v)", got, tc.want, err)
			}
		})
	}
}
