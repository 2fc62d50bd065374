package callback

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// Paths of the callback server's endpoints.
const (
	StartPath          = oauthstate.StartPath
	CallbackPath       = "/auth/instagram/callback"
	ExchangePath       = "/auth/instagram/exchange"
	DeauthorizePath    = "/auth/instagram/deauthorize"
	DataDeletionPath   = "/auth/instagram/data-deletion"
	DeletionStatusPath = "/auth/instagram/data-deletion/status"
	HealthzPath        = "/healthz"
	ReadyzPath         = "/readyz"
)

// cookiePath scopes the browser-binding cookie to the login endpoints: it is needed by the
// callback and the exchange and by nothing else the host may serve.
const cookiePath = "/auth/instagram"

// DefaultStateTTL is how long a login may take from the start endpoint to the callback:
// long enough to type a password and pass a second factor, short enough that a leaked
// callback URL is soon useless.
const DefaultStateTTL = 10 * time.Minute

// Bounds on Config.StateTTL. Instagram's codes live an hour, so a longer state buys nothing.
const (
	MinStateTTL = time.Minute
	MaxStateTTL = time.Hour
)

// Instagram is what the callback server needs from the Instagram Platform;
// *instagram.Client implements it.
type Instagram interface {
	// AuthorizeURL returns the authorization window's URL for the app, redirect URI, scopes
	// and state.
	AuthorizeURL(clientID, redirectURI string, scopes []string, state string) string
	// ExchangeCode trades an authorization code for a short-lived token.
	ExchangeCode(ctx context.Context, app instagram.App, redirectURI, code string) (instagram.ShortLivedToken, error)
	// ExchangeForLongLived trades a short-lived token for a long-lived one.
	ExchangeForLongLived(ctx context.Context, app instagram.App, shortLived string) (instagram.LongLivedToken, error)
	// Profile returns the account a token belongs to.
	Profile(ctx context.Context, token string) (instagram.Profile, error)
}

var _ Instagram = (*instagram.Client)(nil)

// Config configures the callback server's handler. The zero values of the optional fields
// get the defaults documented on each.
type Config struct {
	// Client writes connections, and token Secrets through tokensecret.Writer. It is the
	// manager's client; its scheme must know InstagramConnection.
	Client client.Client
	// APIReader reads from the API server directly. Every read a login acts on goes through
	// it: the manager's cache holds only igconnect-labelled Secrets, and a login must not act
	// on a stale copy.
	APIReader client.Reader
	// Cache, when set, is the manager's cache with UserIDIndex registered (IndexConnections).
	// A login without a ticket then finds the connections pinned to its account through the
	// index, in O(1), and reads only those from the API server, instead of listing every
	// connection of ConnectionNamespace from the API server on every login. Meta's
	// deauthorize and data-deletion callbacks list the connections from it too, and read
	// only the matching ones from the API server; a verified request that matches none in
	// the cache is matched against the API server. Nil lists from the API server.
	Cache client.Reader
	// WaitForCacheSync, when set, is the manager cache's WaitForCacheSync, and must be set
	// whenever Client or Cache read from that cache. The manager starts its HTTP servers
	// before its caches, so at start-up a request that reads the cache waits for the
	// caches (at most CacheWaitTimeout) instead of failing on a cache that is not started,
	// and /readyz answers 503 until they have synced. Nil means reads need no waiting.
	WaitForCacheSync func(ctx context.Context) bool
	// Instagram is the Instagram Platform client of the default Login; unused when Login is set.
	Instagram Instagram
	// Login is the login the server completes: its consent dialog, code exchange and
	// errors. Nil means Instagram Login over Instagram, assuming TokenLifetime.
	Login login.Login
	// Credentials resolves a connection's Instagram app; its Default is the operator's own
	// app, used for logins without a ticket and for verifying Meta's signed requests.
	Credentials *appcreds.Resolver
	// Signer mints and verifies states and tickets. All replicas must share its key.
	Signer *oauthstate.Signer
	// Replay refuses a state that was already used on this replica.
	Replay *oauthstate.ReplayGuard
	// Clock stamps tokens with their issue and expiry times; nil means the real clock.
	Clock clock.PassiveClock
	// TokenLifetime is how long a token Instagram sends without expires_in is assumed to
	// live (its expiry is then marked estimated); default tokensecret.DefaultTokenLifetime.
	// Give it the reconciler's Policy.TokenLifetime, so that both assume the same.
	TokenLifetime time.Duration
	// PublicURL is the server's external base URL, e.g. https://ig.example.com. It decides
	// the cookie's Secure flag and the deletion status URL given to Meta. Required.
	PublicURL string
	// RedirectURL is the redirect_uri registered with Meta; default
	// PublicURL+"/auth/instagram/callback". For the JSON flow it is the front end's page.
	RedirectURL string
	// ConnectionNamespace is where a login without a ticket finds or creates the account's
	// connection; default "default". With WatchNamespaces it must be one of them.
	ConnectionNamespace string
	// WatchNamespaces, when set, are the only namespaces the server reads connections in, as
	// the manager's namespaced Roles allow (--watch-namespaces): Meta's callbacks list the
	// connections of each in turn, never of the cluster, and a ticket for a connection
	// elsewhere is refused without a read. Nil means every namespace.
	WatchNamespaces []string
	// SuccessURL, when set, is where a browser is sent after a successful login instead of
	// the result page. It is fixed configuration, never taken from a request, so the
	// server cannot be used as an open redirect.
	SuccessURL string
	// DefaultScopes are requested by a login without a ticket; default
	// [instagram_business_basic].
	DefaultScopes []string
	// StateTTL is how long a login may take; default DefaultStateTTL, between MinStateTTL
	// and MaxStateTTL.
	StateTTL time.Duration
	// Log receives one line per request (method, path, status, failure code), never a query.
	Log logr.Logger
}

// missingDependencies lists the collaborators cfg lacks: the server refuses to start without
// them rather than fail on the first request.
func (cfg Config) missingDependencies() []error {
	var errs []error
	missing := func(name string) { errs = append(errs, fmt.Errorf("callback: Config.%s is required", name)) }
	if cfg.Client == nil {
		missing("Client")
	} else if _, _, err := cfg.Client.Scheme().ObjectKinds(&igv1.InstagramConnection{}); err != nil {
		errs = append(errs, errors.New("callback: Config.Client's scheme does not know InstagramConnection"))
	}
	if cfg.APIReader == nil {
		missing("APIReader")
	}
	if cfg.Instagram == nil && cfg.Login == nil {
		missing("Instagram (or Login)")
	}
	if cfg.Credentials == nil {
		missing("Credentials")
	} else if cfg.Credentials.Reader == nil {
		missing("Credentials.Reader")
	}
	if cfg.Signer == nil {
		missing("Signer")
	}
	if cfg.Replay == nil {
		missing("Replay")
	}
	return errs
}

// withDefaults validates cfg and returns it with its defaults filled in.
func (cfg Config) withDefaults() (Config, error) {
	errs := cfg.missingDependencies()
	missing := func(name string) { errs = append(errs, fmt.Errorf("callback: Config.%s is required", name)) }
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = tokensecret.DefaultTokenLifetime
	}
	if cfg.TokenLifetime < 0 {
		errs = append(errs, errors.New("callback: Config.TokenLifetime must not be negative"))
	}
	if cfg.Login == nil && cfg.Instagram != nil {
		policy := login.DefaultPolicy()
		policy.TokenLifetime = cfg.TokenLifetime
		cfg.Login = login.NewInstagram(loginCalls{cfg.Instagram}, policy)
	}

	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.PublicURL == "" {
		missing("PublicURL")
	} else if err := checkURL("PublicURL", cfg.PublicURL, false); err != nil {
		errs = append(errs, err)
	}
	if cfg.RedirectURL == "" && cfg.PublicURL != "" {
		cfg.RedirectURL = cfg.PublicURL + CallbackPath
	}
	if err := checkURL("RedirectURL", cfg.RedirectURL, true); err != nil && cfg.PublicURL != "" {
		errs = append(errs, err)
	}
	if cfg.SuccessURL != "" {
		if err := checkURL("SuccessURL", cfg.SuccessURL, true); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.ConnectionNamespace == "" {
		cfg.ConnectionNamespace = "default"
	}
	if msgs := validation.IsDNS1123Label(cfg.ConnectionNamespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("callback: Config.ConnectionNamespace %q is not a namespace name: %s",
			cfg.ConnectionNamespace, strings.Join(msgs, "; ")))
	}
	if len(cfg.WatchNamespaces) > 0 && !slices.Contains(cfg.WatchNamespaces, cfg.ConnectionNamespace) {
		errs = append(errs, fmt.Errorf("callback: Config.ConnectionNamespace %q is not one of Config.WatchNamespaces (%s)",
			cfg.ConnectionNamespace, strings.Join(cfg.WatchNamespaces, ", ")))
	}
	cfg.WatchNamespaces = slices.Clone(cfg.WatchNamespaces)
	if len(cfg.DefaultScopes) == 0 {
		cfg.DefaultScopes = []string{string(igv1.ScopeBasic)}
	}
	cfg.DefaultScopes = append([]string(nil), cfg.DefaultScopes...)
	if cfg.StateTTL == 0 {
		cfg.StateTTL = DefaultStateTTL
	}
	if cfg.StateTTL < MinStateTTL || cfg.StateTTL > MaxStateTTL {
		errs = append(errs, fmt.Errorf("callback: Config.StateTTL must lie between %s and %s", MinStateTTL, MaxStateTTL))
	}
	return cfg, errors.Join(errs...)
}

// checkURL requires an absolute http(s) URL without a fragment (a fragment cannot be a
// redirect target's part that a server sees) and, unless query is allowed, without a query.
func checkURL(field, raw string, query bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("callback: Config.%s is not a URL", field)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("callback: Config.%s must be an absolute http or https URL", field)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("callback: Config.%s must not have a fragment", field)
	case !query && u.RawQuery != "":
		return fmt.Errorf("callback: Config.%s must not have a query", field)
	case u.User != nil:
		return fmt.Errorf("callback: Config.%s must not carry credentials", field)
	}
	return nil
}

// loginCalls is the server's Instagram client as Instagram Login's: the server completes
// logins and never refreshes a token.
type loginCalls struct{ Instagram }

// RefreshToken is never called by the callback server.
func (loginCalls) RefreshToken(context.Context, string) (instagram.LongLivedToken, error) {
	return instagram.LongLivedToken{}, errors.New("callback: the callback server does not refresh tokens")
}
