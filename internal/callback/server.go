package callback

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/igconnect/igconnect/internal/httpstatus"
	"github.com/igconnect/igconnect/internal/metrics"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// Timeouts and limits of the server NewServer returns.
const (
	// ServerReadHeaderTimeout bounds reading a request's headers (slowloris).
	ServerReadHeaderTimeout = 5 * time.Second
	// ServerReadTimeout bounds reading a whole request; bodies are at most 64 KiB.
	ServerReadTimeout = 15 * time.Second
	// ServerWriteTimeout bounds handling and answering a request. A login may first wait
	// for the caches at start-up (CacheWaitTimeout), then makes three calls to Instagram
	// (10s each at most by default) and a few API writes, within loginTimeout.
	ServerWriteTimeout = CacheWaitTimeout + loginTimeout + 15*time.Second
	// ServerIdleTimeout closes idle keep-alive connections.
	ServerIdleTimeout = 2 * time.Minute
	// ServerMaxHeaderBytes bounds the request line and headers: a login URL is well under
	// 4 KiB, cookies included.
	ServerMaxHeaderBytes = 16 << 10
)

// Limits on what a request may carry.
const (
	// maxQueryBytes caps a query string: a callback carries a code (hundreds of bytes) and a
	// state (at most oauthstate.MaxStateLength).
	maxQueryBytes = 4 << 10
	// maxBodyBytes caps a POST body: a signed_request is a few hundred bytes, an exchange a
	// code and a state.
	maxBodyBytes = 64 << 10
	// loginTimeout bounds the work after a callback is accepted, and is detached from the
	// request: once Instagram has spent the code, a browser that gives up must not stop the
	// token from being stored.
	loginTimeout = 45 * time.Second
)

// NewServer returns an http.Server for h on addr with timeouts and header limits suited to a
// public endpoint: ServerReadHeaderTimeout (5s), ServerReadTimeout (15s), ServerWriteTimeout
// (80s), ServerIdleTimeout (2m) and ServerMaxHeaderBytes (16 KiB).
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ServerReadHeaderTimeout,
		ReadTimeout:       ServerReadTimeout,
		WriteTimeout:      ServerWriteTimeout,
		IdleTimeout:       ServerIdleTimeout,
		MaxHeaderBytes:    ServerMaxHeaderBytes,
	}
}

// server is the handler NewHandler returns.
type server struct {
	cfg Config
	// secrets writes the token Secrets, as the reconciler does.
	secrets       *tokensecret.Writer
	routes        map[string]route
	secureCookie  bool
	deletionCodes confirmations
	// cacheSynced is set once Config.WaitForCacheSync has returned true.
	cacheSynced atomic.Bool
}

// route is one endpoint: the methods it accepts, whether it answers failures as JSON,
// whether its outcomes count as logins in igconnect_logins_total, and whether it reads the
// manager's cache, and so must wait for it at start-up.
type route struct {
	methods []string
	json    bool
	login   bool
	cached  bool
	serve   func(w http.ResponseWriter, r *http.Request) *failure
}

// The callback server reads connections and Secrets (app Secrets included) in every
// namespace, creates connections, writes token Secrets (tokensecret.Writer: a create, then
// server-side applies and merge patches), and deletes both on Meta's data-deletion request.
// It never writes status.
// +kubebuilder:rbac:groups=instagram.igconnect.dev,resources=instagramconnections,verbs=get;list;create;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;patch;delete

// NewHandler validates cfg, fills its defaults and returns the callback server's handler.
func NewHandler(cfg Config) (http.Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &server{
		cfg:           cfg,
		secrets:       &tokensecret.Writer{Client: cfg.Client, Reader: cfg.APIReader},
		secureCookie:  strings.HasPrefix(cfg.PublicURL, "https://"),
		deletionCodes: confirmations{key: deletionKey(cfg.Signer)},
	}
	s.routes = map[string]route{
		StartPath:          {methods: []string{http.MethodGet}, serve: s.start},
		CallbackPath:       {methods: []string{http.MethodGet}, login: true, cached: true, serve: s.callback},
		ExchangePath:       {methods: []string{http.MethodPost}, json: true, login: true, cached: true, serve: s.exchange},
		DeauthorizePath:    {methods: []string{http.MethodPost}, json: true, cached: true, serve: s.deauthorize},
		DataDeletionPath:   {methods: []string{http.MethodPost}, json: true, cached: true, serve: s.dataDeletion},
		DeletionStatusPath: {methods: []string{http.MethodGet, http.MethodHead}, serve: s.deletionStatus},
		HealthzPath:        {methods: []string{http.MethodGet, http.MethodHead}, serve: probe},
		ReadyzPath:         {methods: []string{http.MethodGet, http.MethodHead}, serve: s.readyz},
	}
	return s, nil
}

// ServeHTTP routes by exact path, checks the method and the query's size, and logs one
// line per request.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	sw := &httpstatus.Recorder{ResponseWriter: w}
	rt, ok := s.routes[r.URL.Path]
	var f *failure
	switch {
	case !ok:
		f = errNotFound()
	case !allowed(rt.methods, r.Method):
		f = errMethodNotAllowed(strings.Join(rt.methods, ", "))
	case len(r.URL.RawQuery) > maxQueryBytes:
		f = errQueryTooLong()
	case rt.cached && !s.cacheReady(r.Context(), CacheWaitTimeout):
		f = errStarting()
	default:
		f = rt.serve(sw, r)
	}
	if f != nil {
		if rt.json {
			writeFailureJSON(sw, f)
		} else {
			writeFailurePage(sw, f)
		}
	}
	if rt.login && f != nil && f.code != codeMethodNotAllowed {
		metrics.Logins.WithLabelValues(f.code).Inc()
	}
	s.logRequest(r, sw.Status, f)
}

// logRequest logs the method, the path (never the query, which carries codes and states)
// and the outcome.
func (s *server) logRequest(r *http.Request, status int, f *failure) {
	kv := []any{"method", r.Method, "path", loggablePath(r.URL.Path), "status", status}
	if f == nil {
		s.cfg.Log.V(1).Info("Request served", kv...)
		return
	}
	kv = append(kv, "code", f.code)
	if f.cause != nil {
		kv = append(kv, "error", f.cause.Error())
	}
	if f.status >= 500 {
		s.cfg.Log.Error(nil, "Request failed", kv...)
		return
	}
	s.cfg.Log.Info("Request refused", kv...)
}

// loggablePath bounds and sanitises a path for the log: an unknown path is the client's
// text, so it is cut short and kept printable.
func loggablePath(p string) string {
	const maxLen = 128
	if len(p) > maxLen {
		p = p[:maxLen] + "…"
	}
	if !utf8.ValidString(p) {
		p = strings.ToValidUTF8(p, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '\uFFFD'
		}
		return r
	}, p)
}

// allowed reports whether method is one of methods.
func allowed(methods []string, method string) bool {
	for _, m := range methods {
		if m == method {
			return true
		}
	}
	return false
}

// probe answers the health and readiness probes. The server has no state of its own to be
// unready about: the API server and Instagram are checked on each request.
func probe(w http.ResponseWriter, _ *http.Request) *failure {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok\n"))
	return nil
}

// deletionKey derives the key that signs data-deletion confirmation codes from the shared
// state key, so every replica verifies every replica's codes without storage.
func deletionKey(signer *oauthstate.Signer) []byte {
	return signer.DeriveKey("igconnect/callback/data-deletion-confirmation/v1")
}
