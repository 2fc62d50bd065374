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
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// apiError is what an error body said, before classification.
type apiError struct {
	Type        string
	Message     string
	UserTitle   string
	UserMessage string
	FBTraceID   string
	Code        int
	Subcode     int
	Transient   bool
	// legacy is set for the flat envelope of api.instagram.com, whose "code"
	// merely repeats the HTTP status and must not be read as a Graph code.
	legacy bool
}

// parseErrorBody reads either error envelope:
//
//	Graph (graph.instagram.com):
//	  {"error":{"message","type","code","error_subcode","is_transient","fbtrace_id"}}
//	legacy flat (api.instagram.com):
//	  {"error_type":"OAuthException","code":400,"error_message":"..."}
//
// plus two shapes seen from older Instagram and generic OAuth servers:
// {"meta":{"error_type","code","error_message"}} and
// {"error":"invalid_request","error_description":"..."}. It never fails on a
// wrongly typed field: an error body is parsed to explain a failure, and a
// half-understood explanation beats none. ok is false when the body is not
// an error envelope at all.
func parseErrorBody(body []byte) (a apiError, ok bool) {
	b := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(body), []byte("\xef\xbb\xbf")))
	top := objectFields(b)
	if top == nil {
		return apiError{}, false
	}
	if raw, found := top["error"]; found {
		if g := objectFields(raw); g != nil {
			a = apiError{
				Type:        looseString(g["type"]),
				Message:     looseString(g["message"]),
				UserTitle:   looseString(g["error_user_title"]),
				UserMessage: looseString(g["error_user_msg"]),
				FBTraceID:   looseString(g["fbtrace_id"]),
				Code:        looseInt(g["code"]),
				Subcode:     looseInt(g["error_subcode"]),
				Transient:   looseBool(g["is_transient"]),
			}
		} else if s := looseString(raw); s != "" {
			a = apiError{Type: s, Message: firstNonEmpty(looseString(top["error_description"]), looseString(top["error_message"]))}
		}
	}
	if a == (apiError{}) {
		legacy := top
		if m := objectFields(top["meta"]); m != nil {
			if _, has := m["error_type"]; has {
				legacy = m
			}
		}
		_, hasType := legacy["error_type"]
		_, hasMsg := legacy["error_message"]
		if hasType || hasMsg {
			a = apiError{
				Type:    looseString(legacy["error_type"]),
				Message: looseString(legacy["error_message"]),
				Code:    looseInt(legacy["code"]),
				legacy:  true,
			}
		}
	}
	if a.Type == "" && a.Message == "" && a.Code == 0 {
		return apiError{}, false
	}
	return a, true
}

// classify decides what the caller should do about an error Instagram
// reported. It goes by message first where Instagram's codes are
// ambiguous (the code exchange answers everything with code 400; a bad
// client secret comes back as code 1, which otherwise means "retry"), then
// by code and subcode, never by HTTP status alone.
func classify(ep Endpoint, a apiError) Class {
	msg := strings.ToLower(a.Message)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(msg, s) {
				return true
			}
		}
		return false
	}
	switch {
	// A refresh before the token is 24h old (the sandbox's documented
	// answer, code 100): the token is fine, it is only too early.
	case isTooEarlyMessage(msg):
		return ClassRetryLater
	// Meta App credentials used instead of the Instagram ones, or a wrong
	// secret: no retry can fix it.
	case has("invalid platform app", "error validating client secret", "invalid client secret",
		"error validating application", "invalid application id", "invalid client id"):
		return ClassConfiguration
	// The code is unusable. "Error validating verification code. Please make
	// sure your redirect_uri is identical ..." is what Instagram says both for
	// a bad or expired code and for a redirect mismatch; either way this code
	// is spent and a person has to log in again.
	case ep == EndpointCodeExchange && has("matching code was not found", "already used",
		"code has been used", "code has expired", "code was already", "invalid authorization code",
		"invalid verification code", "error validating verification code"):
		return ClassReauthorize
	case has("redirect_uri", "redirect uri", "client_id", "client_secret", "invalid scope"):
		return ClassConfiguration
	// Seen refreshing a dead token; GET is the only method igconnect sends.
	case has("unsupported request - method type"):
		return ClassReauthorize
	}
	if a.Transient {
		return ClassRetryLater
	}
	if !a.legacy {
		switch c := a.Code; {
		case c == 190 && (a.Subcode == 459 || a.Subcode == 464):
			return ClassAccount
		case c == 190, c == 102, c == 10, c >= 200 && c <= 299:
			return ClassReauthorize
		case c == 100, c == 101:
			return ClassConfiguration
		case c == 1, c == 2, c == 4, c == 17, c == 32, c == 341, c == 368, c == 613,
			c >= 80000 && c <= 80014: // the business-use-case throttles; 80002 is Instagram's
			return ClassRetryLater
		}
	}
	// Without a known code, the token-rejection wording of the legacy API and
	// of Graph still means the token is dead.
	if strings.EqualFold(a.Type, "OAuthAccessTokenException") ||
		has("invalid oauth access token", "error validating access token", "access_token provided is invalid",
			"access token provided is invalid") {
		return ClassReauthorize
	}
	// Unknown: retry with backoff rather than demand a login for a failure
	// that may be Instagram's.
	return ClassRetryLater
}

// objectFields decodes raw as a JSON object, or returns nil.
func objectFields(raw json.RawMessage) map[string]json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil
	}
	return m
}

// looseString reads a string, or the literal text of a number or boolean.
func looseString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	case '{', '[', 'n':
		return ""
	default:
		return string(raw)
	}
}

// looseInt reads an integer sent as a number or a numeric string; anything
// else, or a value outside int32, is 0 (no code).
func looseInt(raw json.RawMessage) int {
	n, err := strconv.ParseInt(strings.TrimSpace(looseString(raw)), 10, 32)
	if err != nil {
		return 0
	}
	return int(n)
}

// looseBool reads true, "true" or 1 as true.
func looseBool(raw json.RawMessage) bool {
	switch strings.ToLower(strings.TrimSpace(looseString(raw))) {
	case "true", "1":
		return true
	}
	return false
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// isTooEarlyMessage reports whether an error message is the refusal to refresh a token that
// is under 24 hours old.
func isTooEarlyMessage(msg string) bool {
	msg = strings.ToLower(msg)
	return strings.Contains(msg, "less than 24 hours old") || strings.Contains(msg, "cannot be refreshed yet")
}
