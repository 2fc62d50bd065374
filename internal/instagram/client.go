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
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// userAgent identifies igconnect to Instagram and in server logs.
const userAgent = "igconnect (+https://igconnect.dev)"

// Parameter names that several requests below share: the grant a token request asks for, and
// the token a request presents.
const (
	paramGrantType   = "grant_type"
	paramAccessToken = "access_token"
)

// ExchangeCode trades an authorization code for a short-lived token
// (POST <APIURL>/oauth/access_token, form-encoded as production clients do).
// redirectURI must be the one used for the authorize step. A trailing "#_",
// which Instagram appends to the redirect and which is not part of the code,
// is stripped, as is surrounding whitespace from a pasted code.
func (c *Client) ExchangeCode(ctx context.Context, app App, redirectURI, code string) (ShortLivedToken, error) {
	raw := code
	code = normalizeCode(code)
	r := request{
		endpoint: EndpointCodeExchange,
		method:   http.MethodPost,
		base:     c.apiURL,
		path:     []string{"oauth", "access_token"},
		form: url.Values{
			"client_id":     {app.ClientID},
			"client_secret": {app.ClientSecret},
			paramGrantType:  {"authorization_code"},
			"redirect_uri":  {redirectURI},
			"code":          {code},
		},
		redact: newRedactor(app.ClientSecret, code, raw),
	}
	if err := checkApp(r, app); err != nil {
		return ShortLivedToken{}, err
	}
	if redirectURI == "" {
		return ShortLivedToken{}, r.localError(ClassConfiguration, "redirect URI is empty")
	}
	if code == "" {
		return ShortLivedToken{}, r.localError(ClassReauthorize, "authorization code is empty")
	}
	var tok ShortLivedToken
	err := c.call(ctx, r, func(b []byte) (err error) {
		tok, err = decodeShortLived(b)
		return err
	})
	if err != nil {
		return ShortLivedToken{}, err
	}
	return tok, nil
}

// ExchangeForLongLived trades a short-lived token for a long-lived one of
// about 60 days (GET <GraphURL>/access_token?grant_type=ig_exchange_token).
// It must run server-side: the request carries the app secret.
func (c *Client) ExchangeForLongLived(ctx context.Context, app App, shortLived string) (LongLivedToken, error) {
	shortLived = strings.TrimSpace(shortLived)
	r := request{
		endpoint: EndpointTokenExchange,
		method:   http.MethodGet,
		base:     c.graphURL,
		path:     []string{"access_token"},
		query: url.Values{
			paramGrantType:   {"ig_exchange_token"},
			"client_secret":  {app.ClientSecret},
			paramAccessToken: {shortLived},
		},
		redact: newRedactor(app.ClientSecret, shortLived),
	}
	if err := checkApp(r, app); err != nil {
		return LongLivedToken{}, err
	}
	return c.longLived(ctx, r, shortLived)
}

// RefreshToken extends a long-lived token by 60 days from now
// (GET <GraphURL>/refresh_access_token?grant_type=ig_refresh_token; only GET
// works). Instagram refuses tokens under 24 hours old and cannot revive an
// expired one (code 190/463, ClassReauthorize). Store the returned token:
// whether the old string stays valid is undocumented.
func (c *Client) RefreshToken(ctx context.Context, longLived string) (LongLivedToken, error) {
	longLived = strings.TrimSpace(longLived)
	r := request{
		endpoint: EndpointRefresh,
		method:   http.MethodGet,
		base:     c.graphURL,
		path:     []string{"refresh_access_token"},
		query: url.Values{
			paramGrantType:   {"ig_refresh_token"},
			paramAccessToken: {longLived},
		},
		redact: newRedactor(longLived),
	}
	return c.longLived(ctx, r, longLived)
}

func (c *Client) longLived(ctx context.Context, r request, token string) (LongLivedToken, error) {
	if token == "" {
		return LongLivedToken{}, r.localError(ClassReauthorize, "access token is empty")
	}
	var tok LongLivedToken
	err := c.call(ctx, r, func(b []byte) (err error) {
		tok, err = decodeLongLived(b)
		return err
	})
	if err != nil {
		return LongLivedToken{}, err
	}
	return tok, nil
}

// Profile returns the token's /me (GET <GraphURL>/<GraphVersion>/me with
// fields user_id, username, name, account_type). Profile.UserID is the
// professional account id and the one to key a connection on. It doubles as
// the cheapest check that a token still works.
func (c *Client) Profile(ctx context.Context, token string) (Profile, error) {
	token = strings.TrimSpace(token)
	r := request{
		endpoint: EndpointProfile,
		method:   http.MethodGet,
		base:     c.graphURL,
		path:     []string{c.graphVersion, "me"},
		query: url.Values{
			"fields":         {"user_id,username,name,account_type"},
			paramAccessToken: {token},
		},
		redact: newRedactor(token),
	}
	if token == "" {
		return Profile{}, r.localError(ClassReauthorize, "access token is empty")
	}
	var p Profile
	err := c.call(ctx, r, func(b []byte) (err error) {
		p, err = decodeProfile(b)
		return err
	})
	if err != nil {
		return Profile{}, err
	}
	return p, nil
}

// normalizeCode strips what a redirect or a paste adds to a code.
func normalizeCode(code string) string {
	code = strings.TrimSpace(code)
	code = strings.TrimSuffix(code, "#_")
	return strings.TrimSpace(code)
}

func checkApp(r request, app App) error {
	if strings.TrimSpace(app.ClientID) == "" || strings.TrimSpace(app.ClientSecret) == "" {
		return r.localError(ClassConfiguration, "Instagram app client ID or client secret is empty")
	}
	return nil
}

// request is one call to Instagram, as the call machinery needs it.
type request struct {
	endpoint Endpoint
	method   string
	base     string
	path     []string
	query    url.Values
	form     url.Values
	// redact removes this request's secrets from anything returned.
	redact redactor
}

// localError is a failure detected before any request was sent.
func (r request) localError(class Class, msg string) *Error {
	return &Error{Class: class, Endpoint: r.endpoint, Message: r.redact.clean(msg)}
}

// call sends r, reads and decodes the response with decode, and reports the
// request to the Observer exactly once, with the final outcome (a 200 whose
// body cannot be decoded is a failure, not a success).
func (c *Client) call(ctx context.Context, r request, decode func([]byte) error) error {
	// Waiting for the rate limit is not part of the call's timeout: a paced call
	// is slow because igconnect chose to be, not because Instagram is.
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return r.localError(ClassRetryLater, "waiting for the Instagram call-rate limit: "+err.Error())
		}
	}
	// The per-call timeout also covers reading the body, which
	// http.Client.Timeout alone would not for a caller-supplied client.
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newHTTPRequest(ctx, r)
	if err != nil {
		return err
	}

	start := time.Now()
	status, usage, err := c.send(req, r, decode)
	c.observe(r.endpoint, status, usage, err, time.Since(start))
	return err
}

// newHTTPRequest builds the request. The base URL is parsed on its own and
// the query attached afterwards, so that a parse error can never quote a
// token or secret.
func (c *Client) newHTTPRequest(ctx context.Context, r request) (*http.Request, error) {
	base, err := url.Parse(r.base)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, r.localError(ClassConfiguration, fmt.Sprintf("invalid Instagram base URL %q", stripURL(r.base)))
	}
	u := base.JoinPath(r.path...)
	u.RawQuery = r.query.Encode()
	u.Fragment, u.RawFragment = "", ""

	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, r.localError(ClassConfiguration, "cannot build request: "+err.Error())
	}
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// send performs the request and turns everything that can go wrong into an
// *Error: transport failures, oversized or unreadable bodies, error
// envelopes (even under a 2xx status) and undecodable success bodies.
func (c *Client) send(req *http.Request, r request, decode func([]byte) error) (int, Usage, error) {
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, Usage{}, c.networkError(r, 0, Usage{}, err)
	}
	defer func() { _ = resp.Body.Close() }()

	status := resp.StatusCode
	usage := parseUsage(resp.Header, c.clock.Now())
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return status, usage, c.networkError(r, status, usage, err)
	}
	if int64(len(body)) > c.maxBytes {
		return status, usage, c.responseError(r, status, usage, ClassRetryLater,
			fmt.Sprintf("response body exceeds the %d-byte limit", c.maxBytes))
	}

	return status, usage, c.interpret(r, status, usage, body, decode)
}

// interpret turns a complete response into nil or an *Error. It is separate
// from send so that it can be fuzzed without a network.
func (c *Client) interpret(r request, status int, usage Usage, body []byte, decode func([]byte) error) error {
	if status < 200 || status > 299 {
		if a, ok := parseErrorBody(body); ok {
			return c.apiError(r, status, usage, a)
		}
		msg := fmt.Sprintf("unexpected HTTP %d without an Instagram error body", status)
		if status >= 300 && status <= 399 {
			msg = fmt.Sprintf("unexpected redirect (HTTP %d); check the configured Instagram URLs", status)
		}
		e := c.responseError(r, status, usage, ClassRetryLater, msg)
		e.Transient = status >= 500
		return e
	}
	if derr := decode(body); derr != nil {
		// Graph has been known to answer errors with 200; an envelope wins
		// over "malformed" because it says what actually went wrong.
		if a, ok := parseErrorBody(body); ok {
			return c.apiError(r, status, usage, a)
		}
		return c.responseError(r, status, usage, ClassRetryLater,
			"malformed response from Instagram: "+derr.Error())
	}
	return nil
}

// networkError wraps a failure that left no usable response.
func (c *Client) networkError(r request, status int, usage Usage, err error) *Error {
	msg := "network error"
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		msg = "request canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		// The caller's deadline may have been the shorter one, so no limit
		// is quoted here.
		msg = "request timed out"
	case status != 0:
		msg = "reading the response failed"
	}
	return &Error{
		Class:      ClassRetryLater,
		Endpoint:   r.endpoint,
		HTTPStatus: status,
		Message:    msg,
		Transient:  true,
		RetryAfter: usage.RetryAfter,
		Usage:      usage,
		err:        sanitizeNetErr(err, r.redact),
	}
}

// responseError is a failure igconnect diagnosed from a response.
func (c *Client) responseError(r request, status int, usage Usage, class Class, msg string) *Error {
	return &Error{
		Class:      class,
		Endpoint:   r.endpoint,
		HTTPStatus: status,
		Message:    r.redact.clean(msg),
		RetryAfter: usage.RetryAfter,
		Usage:      usage,
	}
}

// apiError is a failure Instagram reported in an error envelope.
func (c *Client) apiError(r request, status int, usage Usage, a apiError) *Error {
	return &Error{
		Class:       classify(r.endpoint, a),
		Endpoint:    r.endpoint,
		HTTPStatus:  status,
		Code:        a.Code,
		Subcode:     a.Subcode,
		Type:        r.redact.clean(a.Type),
		Message:     r.redact.clean(a.Message),
		UserTitle:   r.redact.clean(a.UserTitle),
		UserMessage: r.redact.clean(a.UserMessage),
		Transient:   a.Transient,
		RetryAfter:  usage.RetryAfter,
		Usage:       usage,
		FBTraceID:   r.redact.clean(a.FBTraceID),
	}
}
