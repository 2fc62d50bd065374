// Package login is the seam between igconnect and one way of logging in to Instagram: what
// is specific to a login kind (its consent dialog, how a code becomes a stored token, how an
// imported token is checked, how a stored token is kept usable, and what its errors mean)
// sits behind the Login interface. The reconciler (internal/controller) and the callback
// server (internal/callback) use only that interface, so a second kind (Facebook Login,
// docs/architecture.md) plugs in as a second implementation, not as new branches in either.
//
// Instagram implements Login for Instagram Login over internal/instagram.
package login

import (
	"context"
	"time"

	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// Kind names a login kind, the value spec.login takes (CONTRACT §6).
type Kind string

// KindInstagram is Instagram Login, the only kind so far and the default.
const KindInstagram Kind = "InstagramLogin"

// App is the app a login goes through: its ID and secret.
type App = instagram.App

// Login is one way to log in to Instagram and keep the token it yields usable.
//
// Calls that reach the provider return errors that Classify understands; none of them
// carries a token, code or secret in its text.
type Login interface {
	// Kind names this login.
	Kind() Kind

	// AuthorizeURL returns the consent dialog to send a browser to.
	AuthorizeURL(app App, redirectURI string, scopes []string, state string) string
	// Complete trades an authorization code for what the login granted: one Grant per
	// account, each ready to be stored. now stamps the tokens' issue times.
	Complete(ctx context.Context, app App, redirectURI, code string, now time.Time) ([]Grant, error)

	// Identify validates a token a person put in a Secret and says whose it is.
	Identify(ctx context.Context, token string) (Identity, error)
	// Upgrade trades an imported token for the login's long-lived kind. upgraded is false,
	// with no error, when the token needs no upgrade (or the login has none); an error means
	// the answer is not known yet and the attempt is worth repeating.
	Upgrade(ctx context.Context, app App, token string, now time.Time) (tok Token, upgraded bool, err error)

	// Schedule says when a stored token is next to be renewed.
	Schedule(in RefreshInput) RefreshDecision
	// Renew keeps a stored token usable, returning what the Secret should hold for it from
	// now on: a refreshed token (Instagram Login) or the same token with fresh facts.
	Renew(ctx context.Context, token string, now time.Time) (Token, error)

	// Classify says what a failed call of this login means for the connection.
	Classify(err error) Failure
}

// Token is a token a login call returned, with what is known about its lifetime.
type Token struct {
	// AccessToken is the token.
	AccessToken string
	// IssuedAt is when it was issued or last refreshed, to the second.
	IssuedAt time.Time
	// ExpiresAt is when it expires; zero when it does not or is not known.
	ExpiresAt time.Time
	// ExpiryEstimated is true when ExpiresAt is assumed rather than reported.
	ExpiryEstimated bool
	// GrantedScopes are the permissions reported with the token; nil when none were.
	GrantedScopes []string
}

// Identity is the account a token belongs to.
type Identity struct {
	// UserID is the professional account id, the id connections are keyed on.
	UserID string
	// Username is the account's username.
	Username string
	// AccountType is the account type the provider reported.
	AccountType string
	// AppScopedUserID is the app-scoped user id.
	AppScopedUserID string
}

// Grant is one account a completed login granted, with its token.
type Grant struct {
	Token
	Identity
}

// Record returns the Secret content of the grant.
func (g Grant) Record() tokensecret.Record {
	return g.Identity.Apply(g.Token.Apply(tokensecret.Record{}))
}

// Apply returns rec holding tok: the token and its lifetime replace rec's, and its scopes
// replace rec's when it reports any.
func (tok Token) Apply(rec tokensecret.Record) tokensecret.Record {
	rec.AccessToken = tok.AccessToken
	rec.IssuedAt, rec.ExpiresAt, rec.ExpiryEstimated = tok.IssuedAt, tok.ExpiresAt, tok.ExpiryEstimated
	if len(tok.GrantedScopes) > 0 {
		rec.GrantedScopes = tok.GrantedScopes
	}
	return rec
}

// Apply returns rec describing the account id.
func (id Identity) Apply(rec tokensecret.Record) tokensecret.Record {
	rec.UserID, rec.Username = id.UserID, id.Username
	rec.AccountType, rec.AppScopedUserID = id.AccountType, id.AppScopedUserID
	return rec
}

// Failure is what a failed call means for the connection. Exactly one of Rejected and
// Degraded is set.
type Failure struct {
	// Rejected is the Ready reason when the token needs a person (ReauthorizationRequired,
	// AccountActionRequired); nothing more is tried for the token.
	Rejected string
	// Degraded is the Degraded reason of a failure worth retrying (RateLimited,
	// InstagramUnavailable, ConfigurationError).
	Degraded string
	// Transient is true when the same call may succeed if repeated unchanged (throttling,
	// an outage); false for rejections and configuration errors.
	Transient bool
	// TooEarly is true when a renewal was refused only because the token is too young to
	// be renewed: the token is fine, and the refusal bounds its age.
	TooEarly bool
	// RetryAfter is how long the provider asked the caller to wait; zero when it did not say.
	RetryAfter time.Duration
	// Class is the provider's error class, a metric label.
	Class string
	// Message is the provider's own words for the failure, if it sent any; never a token,
	// code or secret.
	Message string
}
