// Package sandbox is a local stand-in for the Instagram Platform (Business
// Login for Instagram): the authorize dialog of www.instagram.com, the code
// exchange of api.instagram.com and the token and profile endpoints of
// graph.instagram.com, all served by one http.Handler.
//
// It exists so that tests, benchmarks, end-to-end tests and `make run` can
// drive the whole login and token lifecycle without Instagram. It answers
// like the real API — exact bodies, both error envelopes, the `#_` fragment,
// the numeric user_id above 2^53 — because a fake that is kinder than the real
// thing hides the bugs it is meant to catch. Where the real behaviour is
// unknown the sandbox picks one and says so in the doc comment of the handler
// concerned.
//
// Tests steer it through Go methods in-process, or through the JSON control
// API under /sandbox/ (see control.go) when it runs as its own process
// (cmd/instagram-sandbox).
package sandbox

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
)

// Endpoint names, used for call counts and to aim faults. They name what a
// client does, not a path, because one endpoint may answer on several paths
// (with and without a Graph version prefix).
const (
	// EndpointAuthorize is GET and POST /oauth/authorize (www.instagram.com).
	EndpointAuthorize = "authorize"
	// EndpointCodeExchange is POST /oauth/access_token (api.instagram.com).
	EndpointCodeExchange = "code_exchange"
	// EndpointTokenExchange is GET /access_token (graph.instagram.com),
	// short-lived to long-lived.
	EndpointTokenExchange = "token_exchange"
	// EndpointRefresh is GET /refresh_access_token (graph.instagram.com).
	EndpointRefresh = "refresh"
	// EndpointProfile is GET /{version}/me (graph.instagram.com).
	EndpointProfile = "profile"
)

// endpoint indexes the per-endpoint counters so that counting is an atomic
// add with no map and no lock.
type endpoint int

const (
	epAuthorize endpoint = iota
	epCodeExchange
	epTokenExchange
	epRefresh
	epProfile
	numEndpoints
)

// endpointNames maps an endpoint index to its exported name.
var endpointNames = [numEndpoints]string{
	EndpointAuthorize, EndpointCodeExchange, EndpointTokenExchange, EndpointRefresh, EndpointProfile,
}

// Endpoints returns the endpoint names in a stable order.
func Endpoints() []string {
	return append([]string(nil), endpointNames[:]...)
}

// endpointByName resolves an exported endpoint name.
func endpointByName(name string) (endpoint, bool) {
	for i, n := range endpointNames {
		if n == name {
			return endpoint(i), true
		}
	}
	return 0, false
}

// Sandbox is the fake Instagram Platform. It is an http.Handler; every method
// is safe for concurrent use. Create it with New.
type Sandbox struct {
	opts    Options
	clock   clock.Clock
	control http.Handler

	// calls are counted outside mu so that counting never contends.
	calls [numEndpoints]atomic.Int64

	// mu guards everything below. Every request holds it only for map
	// lookups and updates, never across I/O or random generation.
	mu         sync.Mutex
	offset     time.Duration
	apps       []*App
	appsByID   map[string]*App
	accounts   []*account
	byUserID   map[string]*account
	byScopedID map[string]*account
	byUsername map[string]*account
	tokens     map[string]*token
	codes      map[string]*authCode
	// issuedCodes keeps every code ever issued, for IssuedSecrets: codes leave
	// codes once exchanged or expired, but must still be found by a leak scan.
	issuedCodes []string
	seq         uint64
	faults      faultSet
	usage       *Usage
	shapes      ResponseShapes
	hangRelease chan struct{}

	// hangStarted, when set (by this package's tests), is called each time a
	// request starts hanging, so a test can wait for it without sleeping.
	hangStarted func()
}

// New returns a sandbox configured by opts (see Options for the defaults).
// It panics on an invalid configuration — an app without ID or secret, a
// duplicate app ID, or an account AddAccount would reject — because that is a
// programming error in the test or command that builds it.
func New(opts Options) *Sandbox {
	opts = opts.withDefaults()
	s := &Sandbox{
		opts:        opts,
		clock:       opts.Clock,
		appsByID:    map[string]*App{},
		byUserID:    map[string]*account{},
		byScopedID:  map[string]*account{},
		byUsername:  map[string]*account{},
		tokens:      map[string]*token{},
		codes:       map[string]*authCode{},
		hangRelease: make(chan struct{}),
	}
	for i := range opts.Apps {
		app := opts.Apps[i]
		app.RedirectURIs = append([]string(nil), app.RedirectURIs...)
		switch {
		case app.ClientID == "" || app.ClientSecret == "":
			panic("sandbox: every app needs a ClientID and a ClientSecret")
		case s.appsByID[app.ClientID] != nil:
			panic("sandbox: duplicate app ClientID " + app.ClientID)
		}
		s.apps = append(s.apps, &app)
		s.appsByID[app.ClientID] = &app
	}
	for _, a := range opts.Accounts {
		s.AddAccount(a)
	}
	s.control = s.controlHandler()
	return s
}

// Apps returns the registered apps, secrets included: the sandbox's secrets
// are test values, and tests need them to call the token endpoints.
func (s *Sandbox) Apps() []App {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]App, 0, len(s.apps))
	for _, a := range s.apps {
		c := *a
		c.RedirectURIs = append([]string(nil), a.RedirectURIs...)
		out = append(out, c)
	}
	return out
}

// ServeHTTP routes a request to the control API, an Instagram endpoint, the
// index page, or Graph's answer for an unknown path.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/sandbox" || strings.HasPrefix(p, "/sandbox/") {
		s.control.ServeHTTP(w, r)
		return
	}
	if p == "/" {
		s.serveIndex(w, r)
		return
	}
	ep, h, ok := s.route(p)
	if !ok {
		writeGraphError(w, http.StatusBadRequest, graphError{
			Message: "Unknown path components: " + p,
			Code:    2500,
		})
		return
	}
	s.calls[ep].Add(1)
	s.serveEndpoint(w, r, ep, h)
}

// versionSegment matches a Graph API version such as v25.0.
var versionSegment = regexp.MustCompile(`^v[0-9]+(\.[0-9]+)?$`)

// route maps a path to its endpoint. Graph paths may carry a /vNN.N prefix,
// as some clients send one even on the unversioned token endpoints; a
// trailing slash is tolerated as Instagram tolerates it.
func (s *Sandbox) route(p string) (endpoint, http.HandlerFunc, bool) {
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	switch p {
	case "/oauth/authorize":
		return epAuthorize, s.handleAuthorize, true
	case "/oauth/access_token":
		return epCodeExchange, s.handleCodeExchange, true
	}
	if rest, ok := strings.CutPrefix(p, "/"); ok {
		if seg, tail, found := strings.Cut(rest, "/"); found && versionSegment.MatchString(seg) {
			p = "/" + tail
		}
	}
	switch p {
	case "/access_token":
		return epTokenExchange, s.handleTokenExchange, true
	case "/refresh_access_token":
		return epRefresh, s.handleRefresh, true
	case "/me":
		return epProfile, s.handleProfile, true
	}
	return 0, nil, false
}

// Calls returns how many requests each endpoint has received since the
// sandbox started or ResetCalls, keyed by endpoint name (every name present).
// Every request counts, including rejected and faulted ones, because a test
// asserting "no Instagram call was made" must see those too.
func (s *Sandbox) Calls() map[string]int {
	out := make(map[string]int, numEndpoints)
	for i := range s.calls {
		out[endpointNames[i]] = int(s.calls[i].Load())
	}
	return out
}

// CallCount returns the count for one endpoint name, or 0 for an unknown name.
func (s *Sandbox) CallCount(name string) int {
	ep, ok := endpointByName(name)
	if !ok {
		return 0
	}
	return int(s.calls[ep].Load())
}

// ResetCalls sets every endpoint's count to zero.
func (s *Sandbox) ResetCalls() {
	for i := range s.calls {
		s.calls[i].Store(0)
	}
}
