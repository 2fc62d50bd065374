package login

import (
	"context"
	"errors"
	"net/http"
	"time"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// InstagramAPI is what Instagram Login needs from the Instagram Platform;
// *instagram.Client implements it.
type InstagramAPI interface {
	// AuthorizeURL returns the authorization window's URL.
	AuthorizeURL(clientID, redirectURI string, scopes []string, state string) string
	// ExchangeCode trades an authorization code for a short-lived token.
	ExchangeCode(ctx context.Context, app instagram.App, redirectURI, code string) (instagram.ShortLivedToken, error)
	// ExchangeForLongLived trades a short-lived token for a long-lived one.
	ExchangeForLongLived(ctx context.Context, app instagram.App, shortLived string) (instagram.LongLivedToken, error)
	// RefreshToken extends a long-lived token and returns its replacement.
	RefreshToken(ctx context.Context, longLived string) (instagram.LongLivedToken, error)
	// Profile returns the account a token belongs to.
	Profile(ctx context.Context, token string) (instagram.Profile, error)
}

var _ InstagramAPI = (*instagram.Client)(nil)

// Instagram is Instagram Login: the authorization window of www.instagram.com, a code
// traded for a short-lived token and that for a 60-day one, /me for the account, and a
// refresh before the token expires (graph.instagram.com).
type Instagram struct {
	// API is the Instagram Platform client.
	API InstagramAPI
	// Policy holds the refresh schedule and the token lifetime assumed when Instagram does
	// not report one.
	Policy Policy
}

var _ Login = (*Instagram)(nil)

// NewInstagram returns Instagram Login over api; a zero policy means DefaultPolicy.
func NewInstagram(api InstagramAPI, policy Policy) *Instagram {
	if policy == (Policy{}) {
		policy = DefaultPolicy()
	}
	return &Instagram{API: api, Policy: policy}
}

// Kind is KindInstagram.
func (*Instagram) Kind() Kind { return KindInstagram }

// AuthorizeURL returns Instagram's authorization window for the app.
func (l *Instagram) AuthorizeURL(app App, redirectURI string, scopes []string, state string) string {
	return l.API.AuthorizeURL(app.ClientID, redirectURI, scopes, state)
}

// Complete trades the code for a short-lived token, that for a long-lived one, and asks /me
// whose it is: one account per login.
func (l *Instagram) Complete(ctx context.Context, app App, redirectURI, code string, now time.Time) ([]Grant, error) {
	short, err := l.API.ExchangeCode(ctx, app, redirectURI, code)
	if err != nil {
		return nil, err
	}
	long, err := l.API.ExchangeForLongLived(ctx, app, short.AccessToken)
	if err != nil {
		return nil, err
	}
	id, err := l.Identify(ctx, long.AccessToken)
	if err != nil {
		return nil, err
	}
	tok := l.longLived(long, now)
	if tok.GrantedScopes == nil {
		tok.GrantedScopes = short.Permissions
	}
	return []Grant{{Token: tok, Identity: id}}, nil
}

// Identify asks /me whose the token is.
func (l *Instagram) Identify(ctx context.Context, token string) (Identity, error) {
	p, err := l.API.Profile(ctx, token)
	if err != nil {
		return Identity{}, err
	}
	return Identity{UserID: p.UserID, Username: p.Username, AccountType: p.AccountType, AppScopedUserID: p.ID}, nil
}

// Upgrade tries the long-lived exchange: only it tells a short-lived token from a long-lived
// one, succeeding for the first and failing for the second. A failure worth retrying is
// returned; any other failure means the token is not short-lived.
func (l *Instagram) Upgrade(ctx context.Context, app App, token string, now time.Time) (Token, bool, error) {
	long, err := l.API.ExchangeForLongLived(ctx, app, token)
	switch {
	case err == nil:
		return l.longLived(long, now), true, nil
	case instagram.ClassOf(err) == instagram.ClassRetryLater:
		return Token{}, false, err
	default:
		return Token{}, false, nil
	}
}

// Schedule is the refresh schedule of Policy.
func (l *Instagram) Schedule(in RefreshInput) RefreshDecision { return l.Policy.DecideRefresh(in) }

// Renew refreshes the token; Instagram returns a new one.
func (l *Instagram) Renew(ctx context.Context, token string, now time.Time) (Token, error) {
	long, err := l.API.RefreshToken(ctx, token)
	if err != nil {
		return Token{}, err
	}
	return l.longLived(long, now), nil
}

// longLived describes a token from the long-lived exchange or a refresh, issued now, by the
// Secret format's rule (tokensecret.Record.WithToken): without expires_in, the policy's
// lifetime is assumed and marked estimated.
func (l *Instagram) longLived(long instagram.LongLivedToken, now time.Time) Token {
	rec := tokensecret.Record{}.WithToken(long, now, l.Policy.TokenLifetime)
	return Token{AccessToken: rec.AccessToken, IssuedAt: rec.IssuedAt, ExpiresAt: rec.ExpiresAt,
		ExpiryEstimated: rec.ExpiryEstimated, GrantedScopes: rec.GrantedScopes}
}

// rateLimitCodes are Instagram's throttling error codes.
var rateLimitCodes = map[int]bool{4: true, 17: true, 32: true, 341: true, 613: true, 80002: true}

// Classify maps an Instagram error to what it means: a token that needs a person (the
// re-authorize and account classes), or a failure worth retrying, named by its cause.
func (*Instagram) Classify(err error) Failure {
	class := instagram.ClassOf(err)
	f := Failure{Class: string(class), RetryAfter: instagram.RetryAfterOf(err)}
	var igErr *instagram.Error
	if errors.As(err, &igErr) {
		f.Message = igErr.Message
	}
	switch class {
	case instagram.ClassReauthorize:
		f.Rejected = igv1.ReasonReauthorizationRequired
		return f
	case instagram.ClassAccount:
		f.Rejected = igv1.ReasonAccountActionRequired
		return f
	}
	f.Transient = class == instagram.ClassRetryLater
	f.TooEarly = instagram.IsRefreshTooEarly(err)
	f.Degraded = igv1.ReasonInstagramUnavailable
	if igErr != nil {
		switch {
		case rateLimitCodes[igErr.Code] || igErr.HTTPStatus == http.StatusTooManyRequests:
			f.Degraded = igv1.ReasonRateLimited
		case igErr.Class == instagram.ClassConfiguration:
			f.Degraded = igv1.ReasonConfigurationError
		}
	}
	return f
}
