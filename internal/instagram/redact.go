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
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// redactedText replaces a secret wherever it would have appeared.
const redactedText = "[REDACTED]"

// maxMessageRunes bounds every message copied from a response. Messages end
// up in conditions and events, which are small, and a hostile server could
// otherwise send a megabyte of "message".
const maxMessageRunes = 300

// redactor removes the secrets of one request (token, code, client secret)
// from text. Instagram has been seen echoing request values in messages,
// and net/http puts the whole URL, query and all, into its errors, so every
// string that leaves this package passes through a redactor.
type redactor struct {
	forms []string
}

// newRedactor returns a redactor for the given secrets, in their raw form and
// in the escaped forms they take in a URL or a form body.
func newRedactor(secrets ...string) redactor {
	seen := map[string]bool{}
	var forms []string
	for _, s := range secrets {
		for _, f := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if f != "" && !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	// Longest first, so a secret that contains another is removed whole.
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	return redactor{forms: forms}
}

// redact replaces every known secret in s.
func (r redactor) redact(s string) string {
	for _, f := range r.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, redactedText)
		}
	}
	return s
}

// clean makes text from a response or a Go error fit for a log line: secrets
// removed, invalid UTF-8 and control characters (newlines would allow log
// injection) replaced, and the length bounded. Secrets are removed before
// truncating so that a cut can never leave half a secret behind.
func (r redactor) clean(s string) string {
	s = r.redact(s)
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return ' '
		}
		return c
	}, s)
	s = strings.TrimSpace(r.redact(s))
	if utf8.RuneCountInString(s) > maxMessageRunes {
		s = string([]rune(s)[:maxMessageRunes]) + "…"
	}
	return s
}

// netError is a network-level failure with secrets removed from its text.
// It keeps the cause so that errors.Is(err, context.Canceled) and net.Error
// checks still work; the cause's URL has its query stripped, so even code
// that unwraps down to the *url.Error does not see the token.
type netError struct {
	msg   string
	cause error
}

func (e *netError) Error() string { return e.msg }
func (e *netError) Unwrap() error { return e.cause }

// sanitizeNetErr wraps a transport or body-read error for return to callers.
func sanitizeNetErr(err error, r redactor) error {
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = &url.Error{Op: ue.Op, URL: stripURL(ue.URL), Err: scrub(ue.Err, r)}
	}
	return &netError{msg: r.clean(cause.Error()), cause: scrub(cause, r)}
}

// scrub returns err unchanged when nothing in its chain mentions a secret,
// which is the normal case and keeps errors.As working on it. Otherwise (a
// RoundTripper that quotes the request URL, say) it returns a redacted
// stand-in that keeps only what callers test for: cancellation and
// deadline.
func scrub(err error, r redactor) error {
	if err == nil || !leaks(err, r, 0) {
		return err
	}
	var cause error
	switch {
	case errors.Is(err, context.Canceled):
		cause = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		cause = context.DeadlineExceeded
	}
	return &netError{msg: r.clean(err.Error()), cause: cause}
}

// leaks reports whether err or anything it wraps has a secret in its text.
func leaks(err error, r redactor, depth int) bool {
	if err == nil {
		return false
	}
	if depth > 32 { // a cycle or absurd nesting: assume the worst
		return true
	}
	if msg := err.Error(); r.redact(msg) != msg {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return leaks(u.Unwrap(), r, depth+1)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if leaks(e, r, depth+1) {
				return true
			}
		}
	}
	return false
}

// stripURL removes the parts of a URL that can carry credentials: the query
// (access_token, client_secret), the fragment and any userinfo.
func stripURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable URL]"
	}
	u.RawQuery, u.ForceQuery = "", false
	u.Fragment, u.RawFragment = "", ""
	u.User = nil
	return u.String()
}
