package sandbox

import (
	"time"

	"k8s.io/utils/clock"
)

// The default app is what a sandbox serves when Options.Apps is empty, so that
// `make run` and most tests need no configuration at all. The ID is numeric
// like a real Instagram App ID; the secret says what it is, so that nobody
// mistakes it for a real credential.
const (
	// DefaultClientID is the Instagram App ID of the app a sandbox registers
	// when Options.Apps is empty.
	DefaultClientID = "990000000000001"
	// DefaultClientSecret is the Instagram App Secret of that default app.
	DefaultClientSecret = "igconnect-sandbox-client-secret"
	// DefaultAppName is the display name the consent page shows for an app
	// that has no Name.
	DefaultAppName = "igconnect sandbox app"
)

// The default lifetimes are Instagram's documented ones (platform notes §1-§4).
const (
	// DefaultCodeTTL is how long an authorization code can be exchanged.
	DefaultCodeTTL = time.Hour
	// DefaultShortLivedTTL is the lifetime of a token from the code exchange.
	DefaultShortLivedTTL = time.Hour
	// DefaultLongLivedTTL is the lifetime of a long-lived or refreshed token.
	DefaultLongLivedTTL = 60 * 24 * time.Hour
	// DefaultMinRefreshAge is the minimum age of a token before a refresh.
	DefaultMinRefreshAge = 24 * time.Hour
)

// App is an Instagram app registered with the sandbox: the Instagram App ID
// and secret a client presents on the authorize page and the token endpoints.
type App struct {
	// ClientID is the Instagram App ID (digits, by convention).
	ClientID string `json:"client_id"`
	// ClientSecret is the Instagram App Secret.
	ClientSecret string `json:"client_secret"`
	// Name is shown on the consent page; empty means DefaultAppName.
	Name string `json:"name,omitempty"`
	// RedirectURIs, when not empty, are the only redirect_uri values the
	// authorize page accepts, compared exactly as Instagram does. Empty
	// accepts any absolute http(s) URI, which suits tests on random ports.
	RedirectURIs []string `json:"redirect_uris,omitempty"`
}

// Options configures a Sandbox. The zero value is usable: real clock,
// Instagram's lifetimes, one app (DefaultClientID) and one account
// (username sandbox_business).
type Options struct {
	// Clock is the sandbox's time source; nil means the real clock. Tests
	// inject a k8s.io/utils/clock/testing.FakeClock to step over lifetimes.
	Clock clock.Clock
	// CodeTTL is how long an authorization code stays exchangeable; zero
	// means DefaultCodeTTL.
	CodeTTL time.Duration
	// ShortLivedTTL is the lifetime of code-exchange tokens; zero means
	// DefaultShortLivedTTL.
	ShortLivedTTL time.Duration
	// LongLivedTTL is the lifetime of long-lived and refreshed tokens and the
	// expires_in they report; zero means DefaultLongLivedTTL.
	LongLivedTTL time.Duration
	// MinRefreshAge is how old a long-lived token must be before a refresh;
	// zero means DefaultMinRefreshAge. Use a tiny positive value such as
	// time.Nanosecond to all but disable the rule.
	MinRefreshAge time.Duration
	// Apps are the registered apps; empty means one app with DefaultClientID
	// and DefaultClientSecret.
	Apps []App
	// Accounts are the Instagram professional accounts that can log in;
	// empty means one default account. Blank fields are filled as AddAccount
	// does.
	Accounts []Account
}

// withDefaults returns o with every zero field replaced by its default.
func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.CodeTTL <= 0 {
		o.CodeTTL = DefaultCodeTTL
	}
	if o.ShortLivedTTL <= 0 {
		o.ShortLivedTTL = DefaultShortLivedTTL
	}
	if o.LongLivedTTL <= 0 {
		o.LongLivedTTL = DefaultLongLivedTTL
	}
	if o.MinRefreshAge <= 0 {
		o.MinRefreshAge = DefaultMinRefreshAge
	}
	if len(o.Apps) == 0 {
		o.Apps = []App{{ClientID: DefaultClientID, ClientSecret: DefaultClientSecret}}
	}
	if len(o.Accounts) == 0 {
		o.Accounts = []Account{{}}
	}
	return o
}
