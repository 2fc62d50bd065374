package login

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/sandbox"
)

const redirect = "https://ig.example.test/auth/instagram/callback"

// instagramLogin returns Instagram Login over a sandbox that runs on clk.
func instagramLogin(t *testing.T, clk *clocktesting.FakeClock) (*Instagram, *sandbox.Sandbox) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{Clock: clk})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	api := instagram.New(instagram.Config{AuthorizeURL: srv.URL, APIURL: srv.URL, GraphURL: srv.URL, Timeout: 5 * time.Second})
	return NewInstagram(api, Policy{}), sb
}

var app = App{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret}

// TestInstagramLoginLifecycle walks one account through every call the seam offers: a
// login, the import checks, a refresh, and what the errors mean.
func TestInstagramLoginLifecycle(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	l, sb := instagramLogin(t, clk)
	acct := sb.AddAccount(sandbox.Account{Username: "acme"})
	ctx := context.Background()

	if l.Kind() != KindInstagram {
		t.Errorf("Kind = %q", l.Kind())
	}
	if u := l.AuthorizeURL(app, redirect, []string{string(igv1.ScopeBasic)}, "st"); u == "" {
		t.Error("no authorize URL")
	}

	code, err := sb.IssueCode(sandbox.CodeRequest{Account: acct.UserID, RedirectURI: redirect})
	if err != nil {
		t.Fatal(err)
	}
	grants, err := l.Complete(ctx, app, redirect, code, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(grants) != 1 {
		t.Fatalf("%d grants, want one account per Instagram login", len(grants))
	}
	g := grants[0]
	rec := g.Record()
	if rec.UserID != acct.UserID || rec.Username != "acme" || rec.AppScopedUserID != acct.AppScopedID ||
		!rec.IssuedAt.Equal(t0) || !rec.ExpiresAt.After(t0.Add(59*day)) || rec.ExpiryEstimated || len(rec.GrantedScopes) == 0 {
		t.Errorf("login record %+v", rec)
	}
	if info, ok := sb.TokenInfo(rec.AccessToken); !ok || info.Kind != sandbox.LongLived {
		t.Errorf("the login stores a long-lived token, got %+v", info)
	}

	id, err := l.Identify(ctx, rec.AccessToken)
	if err != nil || id.UserID != acct.UserID {
		t.Fatalf("Identify = %+v, %v", id, err)
	}
	if _, upgraded, err := l.Upgrade(ctx, app, rec.AccessToken, t0); err != nil || upgraded {
		t.Errorf("a long-lived token needs no upgrade: upgraded %v, %v", upgraded, err)
	}
	short, err := sb.IssueToken(sandbox.TokenRequest{Account: acct.UserID, Kind: sandbox.ShortLived})
	if err != nil {
		t.Fatal(err)
	}
	if tok, upgraded, err := l.Upgrade(ctx, app, short.AccessToken, t0); err != nil || !upgraded || tok.AccessToken == "" {
		t.Errorf("a short-lived token is upgraded: %+v %v %v", tok, upgraded, err)
	}

	// Under 24 hours old: Instagram refuses, and says why.
	_, err = l.Renew(ctx, rec.AccessToken, t0)
	if f := l.Classify(err); err == nil || !f.TooEarly || f.Rejected != "" {
		t.Errorf("a refresh of a new token: %v, %+v", err, f)
	}
	clk.Step(2 * day)
	tok, err := l.Renew(ctx, rec.AccessToken, clk.Now())
	if err != nil || tok.AccessToken == "" || !tok.IssuedAt.Equal(clk.Now()) {
		t.Fatalf("Renew = %+v, %v", tok, err)
	}

	// Throttled: worth retrying after Instagram's wait.
	if err := sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultThrottle, Endpoint: sandbox.EndpointRefresh, Count: 1,
		RegainAccessMinutes: 30}); err != nil {
		t.Fatal(err)
	}
	clk.Step(2 * day)
	_, err = l.Renew(ctx, tok.AccessToken, clk.Now())
	if f := l.Classify(err); !f.Transient || f.Degraded != igv1.ReasonRateLimited || f.RetryAfter != 30*time.Minute {
		t.Errorf("a throttled refresh: %+v", f)
	}
	// Revoked: a person must log in again.
	sb.RevokeToken(tok.AccessToken)
	_, err = l.Renew(ctx, tok.AccessToken, clk.Now())
	if f := l.Classify(err); f.Rejected != igv1.ReasonReauthorizationRequired || f.Transient {
		t.Errorf("a revoked token: %+v", f)
	}
}

// TestLongLivedWithoutExpiry: without expires_in the documented lifetime is assumed, and
// marked as estimated.
func TestLongLivedWithoutExpiry(t *testing.T) {
	l := NewInstagram(nil, Policy{})
	tok := l.longLived(instagram.LongLivedToken{AccessToken: "IGAA"}, t0.Add(500*time.Millisecond))
	if !tok.IssuedAt.Equal(t0) || !tok.ExpiresAt.Equal(t0.Add(DefaultTokenLifetime)) || !tok.ExpiryEstimated {
		t.Errorf("%+v", tok)
	}
}
