package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// LoginResult is the logins scenario's outcome.
type LoginResult struct {
	N int
	// Existing is how many connections the namespace held before the logins.
	Existing int
	// Wall is from the first login's start to the last one's result page.
	Wall time.Duration
	// P50, P99 are the logins' latencies through the callback server; SandboxP50 and
	// SandboxP99 those of the same flow straight against the sandbox (authorize page,
	// consent, code exchange, long-lived exchange, /me) with the same concurrency.
	P50, P99, SandboxP50, SandboxP99 time.Duration
	// Failed counts logins that did not end on the success page.
	Failed int
	// Created counts the connections the logins created; Duplicates those added more than
	// once, deleted or missing.
	Created, Duplicates int
	// Calls is the sandbox's call count per endpoint during the logins.
	Calls map[string]int
}

// logins runs Logins concurrent logins through the callback server, each with its own
// cookie jar and sandbox account, after measuring the sandbox's own time for the same flow.
func (b *bench) logins(ctx context.Context) error {
	n := b.cfg.Logins
	r := &LoginResult{N: n}
	b.res.Logins = r
	if b.mgr == nil {
		if err := b.startManager(ctx); err != nil {
			return err
		}
	}
	r.Existing = len(b.watch.connections(nsIdle))
	accts := make([]sandbox.Account, n)
	if err := parallel(ctx, n, setupWorkers, func(ctx context.Context, i int) (err error) {
		accts[i], err = b.sbc.AddAccount(ctx, sandbox.Account{})
		return err
	}); err != nil {
		return err
	}

	// The sandbox's own share, through the same Instagram client the manager uses.
	redirect := b.mgr.PublicURL + "/auth/instagram/callback"
	direct, err := concurrently(n, func(i int) error { return b.directLogin(ctx, accts[i], redirect) })
	if err != nil {
		return fmt.Errorf("straight against the sandbox: %w", err)
	}
	r.SandboxP50, r.SandboxP99 = percentile(direct, 50), percentile(direct, 99)
	b.logf("logins: straight against the sandbox p50 %s p99 %s", r.SandboxP50, r.SandboxP99)

	if err := b.sbc.ResetCalls(ctx); err != nil {
		return err
	}
	var failedMu sync.Mutex
	var failures []error
	start := time.Now()
	lat, _ := concurrently(n, func(i int) error {
		if err := b.browserLogin(ctx, accts[i]); err != nil {
			failedMu.Lock()
			failures = append(failures, err)
			failedMu.Unlock()
		}
		return nil
	})
	r.Wall = time.Since(start)
	r.Failed = len(failures)
	r.P50, r.P99 = percentile(lat, 50), percentile(lat, 99)
	b.logf("logins: %d in %s, p50 %s p99 %s, %d failed", n, r.Wall.Round(time.Millisecond), r.P50, r.P99, r.Failed)
	if r.Failed > 0 {
		return fmt.Errorf("%d of %d logins failed, e.g.: %w", r.Failed, n, failures[0])
	}
	if r.Calls, err = b.sbc.Calls(ctx); err != nil {
		return err
	}

	// Every login created its account's connection, once; the reconciler then makes it Ready.
	total := r.Existing + n
	if _, err := b.watch.waitAll(ctx, nsIdle, total, b.cfg.Timeout, isReady, nil); err != nil {
		return err
	}
	for _, a := range accts {
		added, deleted := b.watch.history(nsIdle, "ig-"+a.UserID)
		if added == 1 && deleted == 0 {
			r.Created++
		} else {
			r.Duplicates++
		}
	}
	return nil
}

// concurrently runs fn(i) for every i in [0,n) at once, released together, and returns each
// call's duration.
func concurrently(n int, fn func(i int) error) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	errs := make([]error, n)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-release
			start := time.Now()
			errs[i] = fn(i)
			lat[i] = time.Since(start)
		})
	}
	close(release)
	wg.Wait()
	return lat, errors.Join(errs...)
}

// browserLogin logs in as a browser does: the start page redirects to the consent page, Allow
// redirects to the callback, which shows the result page.
func (b *bench) browserLogin(ctx context.Context, acct sandbox.Account) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	hc := &http.Client{Jar: jar, Timeout: b.cfg.Timeout}
	defer hc.CloseIdleConnections()
	consent, err := get(ctx, hc, b.mgr.StartURL())
	if err != nil {
		return err
	}
	final, err := allow(ctx, hc, consent, acct.Username)
	if err != nil {
		return err
	}
	if final.StatusCode != http.StatusOK || final.Request.URL.Path != "/auth/instagram/callback" {
		return fmt.Errorf("login of @%s ended with HTTP %d at %s", acct.Username, final.StatusCode, final.Request.URL.Path)
	}
	return nil
}

// directLogin does what one login asks of the sandbox, without the callback server.
func (b *bench) directLogin(ctx context.Context, acct sandbox.Account, redirect string) error {
	ig := instagram.New(instagram.Config{AuthorizeURL: b.sb.URL + "/oauth/authorize", APIURL: b.sb.URL,
		GraphURL: b.sb.URL})
	hc := &http.Client{Timeout: b.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	consent, err := get(ctx, hc, ig.AuthorizeURL(sandbox.DefaultClientID, redirect,
		[]string{"instagram_business_basic"}, "bench-state"))
	if err != nil {
		return err
	}
	resp, err := allow(ctx, hc, consent, acct.Username)
	if err != nil {
		return err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return fmt.Errorf("consent answered HTTP %d without a code", resp.StatusCode)
	}
	app := instagram.App{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret}
	short, err := ig.ExchangeCode(ctx, app, redirect, loc.Query().Get("code"))
	if err != nil {
		return err
	}
	long, err := ig.ExchangeForLongLived(ctx, app, short.AccessToken)
	if err != nil {
		return err
	}
	_, err = ig.Profile(ctx, long.AccessToken)
	return err
}

// get fetches u and reads the body, keeping the response for its final URL.
func get(ctx context.Context, hc *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return do(hc, req)
}

// allow posts Allow on the consent page consent for the account, with the dialog's
// parameters as the page's form carries them.
func allow(ctx context.Context, hc *http.Client, consent *http.Response, account string) (*http.Response, error) {
	if consent.StatusCode != http.StatusOK || consent.Request.URL.Path != "/oauth/authorize" {
		return nil, fmt.Errorf("expected the consent page, got HTTP %d at %s", consent.StatusCode, consent.Request.URL.Path)
	}
	form := consent.Request.URL.Query()
	form.Set("decision", "allow")
	form.Set("account", account)
	action := *consent.Request.URL
	action.RawQuery = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(hc, req)
}

// do sends req and reads the whole body, as a browser would before the next step.
func do(hc *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return nil, err
	}
	return resp, nil
}
