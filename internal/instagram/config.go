/*
Copyright 2026 The igconnect Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package instagram

import (
	"context"
	"math"
	"net/http"
	"strings"
	"time"

	"k8s.io/utils/clock"
)

// Defaults used by New for the zero values of Config.
const (
	// DefaultAuthorizeURL is the authorization window. The www host is used
	// because api.instagram.com/oauth/authorize stopped redirecting in
	// August 2026 and now shows "Sorry, this page isn't available".
	DefaultAuthorizeURL = "https://www.instagram.com/oauth/authorize"
	// DefaultAPIURL is the host of the code exchange, which did not move.
	DefaultAPIURL = "https://api.instagram.com"
	// DefaultGraphURL is the host of the token endpoints and of /me.
	// Instagram User tokens are not valid on graph.facebook.com.
	DefaultGraphURL = "https://graph.instagram.com"
	// DefaultGraphVersion is the Graph API version used for /me. It is the
	// version Meta's own SDK pins; the token endpoints are unversioned.
	DefaultGraphVersion = "v25.0"
	// DefaultTimeout bounds each call, including reading the response body.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxResponseBytes bounds every response body. Real bodies are a
	// few hundred bytes; the limit only protects against a misbehaving or
	// hostile server.
	DefaultMaxResponseBytes int64 = 1 << 20
)

// Config configures a Client. The zero value is usable and talks to the real
// Instagram Platform; tests and `make run` point the URLs at the sandbox.
type Config struct {
	// AuthorizeURL is the authorization window. Default DefaultAuthorizeURL.
	// Query parameters already present (for example force_reauth=true) are
	// kept.
	AuthorizeURL string
	// APIURL is the base URL of the code exchange. Default DefaultAPIURL.
	APIURL string
	// GraphURL is the base URL of the token endpoints and /me. Default
	// DefaultGraphURL.
	GraphURL string
	// GraphVersion is the version path segment used for /me. Default
	// DefaultGraphVersion.
	GraphVersion string
	// HTTPClient sends the requests. Default: a client with Timeout that does
	// not follow redirects (Instagram's token endpoints never redirect, and a
	// followed redirect would turn a POST into a GET and hide the problem).
	// A caller-supplied client is used as is.
	HTTPClient *http.Client
	// Timeout bounds each call, on top of any deadline of the caller's
	// context. Default DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes bounds each response body; a larger body is an error
	// of class ClassRetryLater, never silently truncated. Default
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Observer, if set, is called once per HTTP request, after the response
	// has been decoded, for metrics and pacing. It is called synchronously
	// and possibly concurrently, so it must be quick and safe for concurrent
	// use.
	Observer func(CallInfo)
	// Clock converts an HTTP-date Retry-After into a duration. Default the
	// real clock; tests that use a fake clock elsewhere pass it here so that
	// both agree on "now".
	Clock clock.PassiveClock
	// Limiter, when set, paces every request: Wait is called before each one, so
	// the operator never exceeds the call rate it was configured with, however many
	// reconciles or logins run at once. *rate.Limiter (golang.org/x/time/rate)
	// implements it.
	Limiter Limiter
}

// Limiter paces requests; Wait blocks until the next request may be sent.
type Limiter interface {
	Wait(ctx context.Context) error
}

// App holds the credentials of an Instagram app. These are the Instagram App
// ID and Instagram App Secret from "API setup with Instagram login", not the
// Meta App ID and secret: the Meta values are rejected with "Invalid
// platform app".
type App struct {
	// ClientID is the Instagram App ID, a numeric string.
	ClientID string
	// ClientSecret is the Instagram App Secret. It is sent only to
	// Instagram and never appears in an error.
	ClientSecret string
}

// Client talks to the Instagram Platform. Create it with New; it is safe for
// concurrent use.
type Client struct {
	authorizeURL string
	apiURL       string
	graphURL     string
	graphVersion string
	httpClient   *http.Client
	timeout      time.Duration
	maxBytes     int64
	observer     func(CallInfo)
	clock        clock.PassiveClock
	limiter      Limiter
}

// New returns a Client for cfg, with defaults for its zero fields. It does
// not validate the URLs: a malformed one makes each call fail with
// ClassConfiguration, which is where the caller already handles errors.
func New(cfg Config) *Client {
	c := &Client{
		authorizeURL: orDefault(cfg.AuthorizeURL, DefaultAuthorizeURL),
		apiURL:       orDefault(cfg.APIURL, DefaultAPIURL),
		graphURL:     orDefault(cfg.GraphURL, DefaultGraphURL),
		graphVersion: strings.Trim(orDefault(cfg.GraphVersion, DefaultGraphVersion), "/"),
		httpClient:   cfg.HTTPClient,
		timeout:      cfg.Timeout,
		maxBytes:     cfg.MaxResponseBytes,
		observer:     cfg.Observer,
		clock:        cfg.Clock,
		limiter:      cfg.Limiter,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxResponseBytes
	}
	// The reader takes one byte more than the limit to detect an oversize
	// body; keep that from overflowing.
	c.maxBytes = min(c.maxBytes, math.MaxInt64-1)
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{
			Timeout: c.timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return c
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return strings.TrimSpace(v)
}
