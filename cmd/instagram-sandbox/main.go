// Command instagram-sandbox runs the igconnect Instagram sandbox
// (internal/sandbox) as its own process, so that end-to-end tests and
// `make run` can point the manager at a stand-in for the Instagram Platform.
//
// It prints "sandbox listening on http://ADDR" on stdout once it accepts
// connections (with --listen 127.0.0.1:0 the kernel picks the port, and a
// parent process reads it from that line), logs one line per request to
// stderr (method, path and status only: tokens travel in query strings and
// are never logged), and shuts down cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/igconnect/igconnect/internal/httpstatus"
	"github.com/igconnect/igconnect/internal/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "instagram-sandbox:", err)
		os.Exit(1)
	}
}

// accountFlags collects repeated --account username[:userID] values.
type accountFlags []sandbox.Account

// String shows the flag's value in usage output.
func (a *accountFlags) String() string {
	parts := make([]string, len(*a))
	for i, acc := range *a {
		parts[i] = acc.Username + ":" + acc.UserID
	}
	return strings.Join(parts, ",")
}

// Set parses one username[:userID] value, checking what sandbox.New would
// otherwise panic on.
func (a *accountFlags) Set(v string) error {
	username, userID, _ := strings.Cut(v, ":")
	if username == "" {
		return errors.New("want username or username:userID")
	}
	if userID != "" && strings.Trim(userID, "0123456789") != "" {
		return fmt.Errorf("user ID %q is not all digits", userID)
	}
	for _, acc := range *a {
		if acc.Username == username || (userID != "" && acc.UserID == userID) {
			return fmt.Errorf("account %q given twice", v)
		}
	}
	*a = append(*a, sandbox.Account{Username: username, UserID: userID})
	return nil
}

// run parses args, serves the sandbox until ctx ends, and shuts it down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("instagram-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9090", "address to listen on; port 0 picks a free port")
	clientID := fs.String("client-id", sandbox.DefaultClientID, "the Instagram App ID the sandbox accepts")
	clientSecret := fs.String("client-secret", sandbox.DefaultClientSecret, "the Instagram App Secret the sandbox accepts")
	codeTTL := fs.Duration("code-ttl", sandbox.DefaultCodeTTL, "how long an authorization code can be exchanged")
	shortTTL := fs.Duration("short-lived-ttl", sandbox.DefaultShortLivedTTL, "lifetime of a code-exchange token")
	longTTL := fs.Duration("long-lived-ttl", sandbox.DefaultLongLivedTTL, "lifetime of a long-lived or refreshed token")
	minRefresh := fs.Duration("min-refresh-age", sandbox.DefaultMinRefreshAge, "minimum token age before a refresh")
	var accounts accountFlags
	fs.Var(&accounts, "account", "an account that can log in, username or username:userID (repeatable; default one sandbox_business account)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for name, d := range map[string]time.Duration{"code-ttl": *codeTTL, "short-lived-ttl": *shortTTL,
		"long-lived-ttl": *longTTL, "min-refresh-age": *minRefresh} {
		if d <= 0 {
			return fmt.Errorf("--%s must be positive, got %s", name, d)
		}
	}
	if *clientID == "" || *clientSecret == "" {
		return errors.New("--client-id and --client-secret must not be empty")
	}

	sb := sandbox.New(sandbox.Options{
		CodeTTL:       *codeTTL,
		ShortLivedTTL: *shortTTL,
		LongLivedTTL:  *longTTL,
		MinRefreshAge: *minRefresh,
		Apps:          []sandbox.App{{ClientID: *clientID, ClientSecret: *clientSecret}},
		Accounts:      accounts,
	})
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	// Request contexts derive from base, which is cancelled on shutdown so
	// that requests held by a hang fault end instead of delaying the exit.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	// No write timeout: the hang fault holds a response on purpose, until the client gives
	// up or the sandbox stops. Reading a request is bounded: Instagram's requests are small.
	srv := &http.Server{
		Handler:           logRequests(sb, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// This line is the readiness handshake for whoever started the sandbox; if stdout is gone
	// the server still serves, and the log line below says where.
	_, _ = fmt.Fprintf(stdout, "sandbox listening on http://%s\n", ln.Addr())
	logger.Info("igconnect Instagram sandbox (not Instagram) started",
		"url", "http://"+ln.Addr().String()+"/", "client_id", *clientID, "accounts", len(sb.Accounts()))

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	cancelBase()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logRequests logs each request's method, path, status and duration. Never
// the query string or body: they carry tokens, codes and secrets.
func logRequests(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &httpstatus.Recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.Status,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}
