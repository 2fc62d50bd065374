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
	"errors"
	"fmt"
	"strings"
	"time"
)

// Class tells the caller what to do about a failed call. The values are the
// reasons the rest of igconnect shows to users, so they are stable strings.
type Class string

// The four classes every failure falls into.
const (
	// ClassReauthorize: the token or code is unusable (expired, revoked,
	// password changed, permission removed, code reused). Retrying cannot
	// help; a person must log in again.
	ClassReauthorize Class = "ReauthorizationRequired"
	// ClassAccount: the Instagram account itself needs attention (checkpoint,
	// unconfirmed user). A person must log in on Instagram to fix it; then
	// the same token may work again.
	ClassAccount Class = "AccountActionRequired"
	// ClassConfiguration: the app credentials, redirect URI or request are
	// wrong. Retrying with the same configuration cannot help.
	ClassConfiguration Class = "ConfigurationError"
	// ClassRetryLater: throttling, Instagram-side trouble, a network problem
	// or a response igconnect could not understand. Retry with backoff, no
	// sooner than Error.RetryAfter.
	ClassRetryLater Class = "RetryLater"
)

// Error is the only error type the Client returns. Every string field has
// had the request's token, code and client secret removed, and the message
// is shortened and stripped of control characters, so an Error can go into
// logs, events and status as is.
type Error struct {
	// Class is what the caller should do next.
	Class Class
	// Endpoint is the call that failed.
	Endpoint Endpoint
	// HTTPStatus is the response status, or 0 when no response arrived.
	HTTPStatus int
	// Code is Instagram's error code (Graph "code", or the legacy envelope's
	// "code", which mirrors the HTTP status there); 0 when absent.
	Code int
	// Subcode is the Graph "error_subcode"; 0 when absent.
	Subcode int
	// Type is the error type, such as "OAuthException".
	Type string
	// Message describes the failure: Instagram's message, or igconnect's own
	// description when Instagram sent none.
	Message string
	// UserTitle is Graph's error_user_title, meant for end users; usually
	// empty.
	UserTitle string
	// UserMessage is Graph's error_user_msg, meant for end users; usually
	// empty.
	UserMessage string
	// Transient is Instagram's is_transient flag; it is also true when no
	// response arrived at all (network error, timeout) and for a 5xx without
	// an error body.
	Transient bool
	// RetryAfter is how long Instagram asked the caller to wait (the longer
	// of Retry-After and the business-use-case estimated_time_to_regain_access),
	// or 0.
	RetryAfter time.Duration
	// Usage is what the response's rate-limit headers said.
	Usage Usage
	// FBTraceID is Meta's trace id, useful in a bug report to Meta.
	FBTraceID string

	// err is the sanitized cause for network-level failures.
	err error
}

// Error formats the failure on one line, for example
// `instagram refresh: HTTP 400: OAuthException (#190/463): Error validating
// access token: Session has expired (fbtrace_id A1b2C3) [ReauthorizationRequired]`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("instagram ")
	if e.Endpoint != "" {
		b.WriteString(string(e.Endpoint))
	} else {
		b.WriteString("call")
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Type != "" || e.Code != 0 {
		b.WriteString(": ")
		b.WriteString(e.Type)
		if e.Code != 0 {
			if e.Type != "" {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "(#%d", e.Code)
			if e.Subcode != 0 {
				fmt.Fprintf(&b, "/%d", e.Subcode)
			}
			b.WriteByte(')')
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	if e.FBTraceID != "" {
		fmt.Fprintf(&b, " (fbtrace_id %s)", e.FBTraceID)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	fmt.Fprintf(&b, " [%s]", e.Class)
	return b.String()
}

// Unwrap returns the sanitized network error behind a failure that had no
// usable response, so errors.Is(err, context.Canceled) and
// errors.Is(err, context.DeadlineExceeded) work. It is nil for errors that
// Instagram reported.
func (e *Error) Unwrap() error { return e.err }

// ClassOf returns the Class of err. Errors that are not an *Error (which the
// Client never returns, but wrappers might) are ClassRetryLater, because an
// unknown failure must not make a person log in again; use
// errors.Is(err, context.Canceled) to tell a cancellation apart. ClassOf(nil)
// is "".
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Class != "" {
		return e.Class
	}
	return ClassRetryLater
}

// RetryAfterOf returns how long Instagram asked the caller to wait before the
// next attempt, or 0 when err is not an *Error or Instagram did not say.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// IsRefreshTooEarly reports whether err is Instagram refusing to refresh a token because it
// is under 24 hours old. The token is fine, and the refusal tells its age: it was issued
// within the last 24 hours. That is what an operator importing a token of unknown age needs
// to know, so it is told apart from other failures worth retrying.
func IsRefreshTooEarly(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Endpoint == EndpointRefresh && isTooEarlyMessage(e.Message)
}
