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
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxExpiresIn rejects lifetimes no Instagram token has. Long-lived tokens
// live 60 days; a value of years is garbage, and trusting it would stop the
// reconciler from ever refreshing.
const maxExpiresIn = 10 * 365 * 24 * time.Hour

// decodeError is a 2xx body igconnect could not use. Its text names the
// problem and the field but never quotes a value, since the body may carry a
// fresh token.
type decodeError struct{ msg string }

func (e *decodeError) Error() string { return e.msg }

func malformed(format string, args ...any) error {
	return &decodeError{msg: fmt.Sprintf(format, args...)}
}

// rawToken holds the fields of the three token responses before the
// tolerant conversions. RawMessage lets each field be checked by name, so
// error messages say which field was wrong.
type rawToken struct {
	AccessToken json.RawMessage `json:"access_token"`
	UserID      json.RawMessage `json:"user_id"`
	Permissions json.RawMessage `json:"permissions"`
	TokenType   json.RawMessage `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

// rawProfile holds the /me fields before conversion.
type rawProfile struct {
	ID          json.RawMessage `json:"id"`
	UserID      json.RawMessage `json:"user_id"`
	Username    json.RawMessage `json:"username"`
	Name        json.RawMessage `json:"name"`
	AccountType json.RawMessage `json:"account_type"`
}

// decodeShortLived decodes the code exchange response. Meta's guide shows
// it wrapped in data[] with a string user_id and comma-separated
// permissions; the endpoint reference and production clients read it flat
// with a numeric user_id and an array. All of these are accepted.
func decodeShortLived(body []byte) (ShortLivedToken, error) {
	var r rawToken
	if err := decodeResult(body, &r, "access_token"); err != nil {
		return ShortLivedToken{}, err
	}
	tok, err := tokenField(r.AccessToken)
	if err != nil {
		return ShortLivedToken{}, err
	}
	uid, err := idField("user_id", r.UserID)
	if err != nil {
		return ShortLivedToken{}, err
	}
	perms, err := permissionsField(r.Permissions)
	if err != nil {
		return ShortLivedToken{}, err
	}
	return ShortLivedToken{AccessToken: tok, UserID: uid, Permissions: perms}, nil
}

// decodeLongLived decodes the long-lived exchange and refresh responses.
func decodeLongLived(body []byte) (LongLivedToken, error) {
	var r rawToken
	if err := decodeResult(body, &r, "access_token"); err != nil {
		return LongLivedToken{}, err
	}
	tok, err := tokenField(r.AccessToken)
	if err != nil {
		return LongLivedToken{}, err
	}
	typ, err := stringField("token_type", r.TokenType)
	if err != nil {
		return LongLivedToken{}, err
	}
	exp, err := secondsField("expires_in", r.ExpiresIn)
	if err != nil {
		return LongLivedToken{}, err
	}
	perms, err := permissionsField(r.Permissions)
	if err != nil {
		return LongLivedToken{}, err
	}
	return LongLivedToken{AccessToken: tok, TokenType: typ, ExpiresIn: exp, Permissions: perms}, nil
}

// decodeProfile decodes /me. user_id is required and must be digits: it is
// the identity igconnect keys connections on, so a profile without it is
// useless and must not be mistaken for a success.
func decodeProfile(body []byte) (Profile, error) {
	var r rawProfile
	if err := decodeResult(body, &r, "user_id", "id", "username"); err != nil {
		return Profile{}, err
	}
	var p Profile
	var err error
	if p.ID, err = idField("id", r.ID); err != nil {
		return Profile{}, err
	}
	if p.UserID, err = idField("user_id", r.UserID); err != nil {
		return Profile{}, err
	}
	if p.UserID == "" {
		return Profile{}, malformed("profile has no user_id")
	}
	if !isDigits(p.UserID) {
		return Profile{}, malformed("profile user_id is not a decimal id")
	}
	if p.Username, err = stringField("username", r.Username); err != nil {
		return Profile{}, err
	}
	if p.Name, err = stringField("name", r.Name); err != nil {
		return Profile{}, err
	}
	if p.AccountType, err = stringField("account_type", r.AccountType); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// decodeResult finds the result object (the body itself, or data[0] when
// the body is wrapped and has none of the keys at top level) and decodes it
// into v.
func decodeResult(body []byte, v any, keys ...string) error {
	b := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(body), []byte("\xef\xbb\xbf")))
	if len(b) == 0 {
		return malformed("empty response body")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return describeJSONError(err)
	}
	if top == nil {
		return malformed("response body is JSON null")
	}
	obj := json.RawMessage(b)
	if !hasAny(top, keys) {
		if data, ok := top["data"]; ok {
			var err error
			if obj, err = unwrapData(data); err != nil {
				return err
			}
		}
	}
	if err := json.Unmarshal(obj, v); err != nil {
		return describeJSONError(err)
	}
	return nil
}

func hasAny(m map[string]json.RawMessage, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// unwrapData returns data[0], or data itself when it is an object.
func unwrapData(data json.RawMessage) (json.RawMessage, error) {
	d := bytes.TrimSpace(data)
	if len(d) == 0 {
		return nil, malformed("data is empty")
	}
	switch d[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(d, &items); err != nil {
			return nil, describeJSONError(err)
		}
		if len(items) == 0 {
			return nil, malformed("data is an empty list")
		}
		return items[0], nil
	case '{':
		return d, nil
	default:
		return nil, malformed("data is neither a list nor an object")
	}
}

// describeJSONError turns a JSON error into a message without any part of
// the input.
func describeJSONError(err error) error {
	var de *decodeError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &de):
		return de
	case errors.As(err, &syn) && strings.Contains(syn.Error(), "unexpected end"):
		return malformed("truncated JSON")
	case errors.As(err, &syn):
		return malformed("invalid JSON at offset %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return malformed("field %q is a JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	case errors.As(err, &typ):
		return malformed("response is a JSON %s, want an object", typ.Value)
	default:
		return malformed("invalid JSON")
	}
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// stringField reads an optional string.
func stringField(name string, raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", malformed("%s is not a string", name)
	}
	return s, nil
}

// tokenField reads the required access_token. A token is opaque, but one
// that is empty or contains spaces or control characters cannot be sent
// back to Instagram and would corrupt the Secret, so it is rejected.
func tokenField(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", malformed("response has no access_token")
	}
	s, err := stringField("access_token", raw)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", malformed("access_token is empty")
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", malformed("access_token contains whitespace or control characters")
	}
	return s, nil
}

// idField reads an id sent as a JSON string or as a JSON integer. A number
// is kept as its literal digits: through float64, 27640875392278831 would
// become ...832.
func idField(name string, raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	if raw[0] == '"' {
		s, err := stringField(name, raw)
		return strings.TrimSpace(s), err
	}
	if isDigits(string(raw)) {
		return string(raw), nil
	}
	return "", malformed("%s is neither a string nor a non-negative integer", name)
}

// permissionsField reads permissions as a JSON array of strings (restfb's
// fixture, since 2025) or a comma-separated string (Meta's guide). nil means
// absent; an empty list means "none".
func permissionsField(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		s, err := stringField("permissions", raw)
		if err != nil {
			return nil, err
		}
		return splitScopes(s), nil
	}
	var items []string
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, malformed("permissions is neither a list of strings nor a string")
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out, nil
}

// splitScopes splits on commas and whitespace: the authorize step accepts
// both, so a server may echo either.
func splitScopes(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if out == nil {
		out = []string{}
	}
	return out
}

// secondsField reads a lifetime in seconds sent as a JSON number or a
// numeric string. Absent means unknown (0).
func secondsField(name string, raw json.RawMessage) (time.Duration, error) {
	if isNull(raw) {
		return 0, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		var err error
		if s, err = stringField(name, raw); err != nil {
			return 0, err
		}
		if s = strings.TrimSpace(s); s == "" {
			return 0, nil
		}
	}
	var secs float64
	if isDigits(s) {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, malformed("%s is out of range", name)
		}
		secs = float64(n)
	} else {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, malformed("%s is not a number of seconds", name)
		}
		secs = f
	}
	if secs < 0 {
		return 0, malformed("%s is negative", name)
	}
	if secs > maxExpiresIn.Seconds() {
		return 0, malformed("%s is out of range", name)
	}
	return time.Duration(secs) * time.Second, nil
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
