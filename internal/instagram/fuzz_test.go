package instagram

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fuzzers check the properties the rest of igconnect relies on, for any
// input a server could send: no panic, every failure an error of a known
// class with a bounded, single-line message, and no secret in any error.
// Seeds are the recorded bodies in testdata/responses plus the corpus in
// testdata/fuzz, so a plain `go test` replays them all.

// addRecordedBodies seeds f with every recorded response.
func addRecordedBodies(f *testing.F, add func(body []byte)) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "responses", "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no recorded bodies: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// extraSeeds are hand-picked edge cases for the decoders.
var extraSeeds = []string{
	``, `null`, `[]`, `{}`, `"x"`, `{"data":[]}`, `{"data":null}`, `{"data":[null]}`, `{"data":{"data":[{}]}}`,
	`{"access_token":"IGAAx","user_id":27640875392278831,"permissions":["a"]}`,
	`{"access_token":"IGAAx","user_id":"27640875392278831","permissions":"a,b"}`,
	`{"access_token":"IGAAx","user_id":1e400}`, `{"access_token":"IGAAx","expires_in":"1e9"}`,
	`{"access_token":"IGAAx","expires_in":-0}`, `{"access_token":"IGAAx","expires_in":"0x10"}`,
	`{"user_id":17841405793187218,"id":1}`, `{"user_id":" 1 "}`, "\xef\xbb\xbf{}", `{"access_token":"\u0000"}`,
}

func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	var de *decodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a decodeError", err, err)
	}
	if msg := err.Error(); !utf8.ValidString(msg) || len(msg) > 200 {
		t.Fatalf("bad decode error message %q", msg)
	}
}

func validToken(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) < 0
}

func checkList(t *testing.T, perms []string) {
	t.Helper()
	for _, p := range perms {
		if p == "" || strings.TrimSpace(p) != p {
			t.Fatalf("permission %q is empty or untrimmed", p)
		}
	}
}

func FuzzDecodeShortLived(f *testing.F) {
	addRecordedBodies(f, func(b []byte) { f.Add(b) })
	for _, s := range extraSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := decodeShortLived(body)
		if err != nil {
			checkDecodeErr(t, err)
			return
		}
		if !validToken(tok.AccessToken) || strings.TrimSpace(tok.UserID) != tok.UserID {
			t.Fatalf("accepted %#v", tok)
		}
		checkList(t, tok.Permissions)
		again, err := decodeShortLived(body)
		if err != nil || again.AccessToken != tok.AccessToken || again.UserID != tok.UserID {
			t.Fatal("decoding is not deterministic")
		}
	})
}

func FuzzDecodeLongLived(f *testing.F) {
	addRecordedBodies(f, func(b []byte) { f.Add(b) })
	for _, s := range extraSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := decodeLongLived(body)
		if err != nil {
			checkDecodeErr(t, err)
			return
		}
		if !validToken(tok.AccessToken) || tok.ExpiresIn < 0 || tok.ExpiresIn > maxExpiresIn || tok.ExpiresIn%time.Second != 0 {
			t.Fatalf("accepted %#v", tok)
		}
		checkList(t, tok.Permissions)
	})
}

func FuzzDecodeProfile(f *testing.F) {
	addRecordedBodies(f, func(b []byte) { f.Add(b) })
	for _, s := range extraSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeProfile(body)
		if err != nil {
			checkDecodeErr(t, err)
			return
		}
		if !isDigits(p.UserID) || strings.TrimSpace(p.ID) != p.ID {
			t.Fatalf("accepted %#v", p)
		}
	})
}

// secretMarker in a fuzzed body is replaced by the fuzzed secret, so the
// fuzzer can place a secret anywhere in a body without having to guess it.
const secretMarker = "@@"

// checkableSecret reports whether a secret is shaped like a real one (long,
// URL-safe, with a letter and a digit). Only for such secrets is "not in the
// error text" a meaningful property: a secret like "HTTP" or "Retry" would
// appear in igconnect's own wording.
func checkableSecret(s string) bool {
	if len(s) < 16 {
		return false
	}
	var letter, digit bool
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letter = true
		case r >= '0' && r <= '9':
			digit = true
		case r == '-' || r == '_':
		default:
			return false
		}
	}
	return letter && digit
}

var knownClasses = map[Class]bool{ClassReauthorize: true, ClassAccount: true, ClassConfiguration: true, ClassRetryLater: true}

// FuzzErrorResponse drives the part of the client that turns a response
// into a result or an *Error (envelope parsing, classification, decoding,
// redaction), for every endpoint.
func FuzzErrorResponse(f *testing.F) {
	const seedSecret = "IGAAsecretToken0123456789abcdef"
	addRecordedBodies(f, func(b []byte) {
		f.Add(400, b, seedSecret)
		f.Add(200, b, seedSecret)
	})
	for _, s := range []string{
		`{"error":{"message":"Invalid OAuth access token @@","type":"OAuthException","code":190,"fbtrace_id":"@@"}}`,
		`{"error_type":"OAuthException @@","code":400,"error_message":"Matching code @@ was not found"}`,
		`{"error":{"message":"@@\n@@\u0000@@","error_user_msg":"@@","error_user_title":"x@@y","code":"4","is_transient":"true"}}`,
		`{"meta":{"error_type":"OAuthAccessTokenException","error_message":"@@"}}`,
		`{"error":"invalid_request","error_description":"bad @@"}`,
		`{"error":{"message":"` + strings.Repeat("é", 290) + `@@"}}`,
		`{"access_token":"@@"`,
	} {
		f.Add(400, []byte(s), seedSecret)
		f.Add(200, []byte(s), seedSecret)
	}
	f.Add(502, []byte("<html>@@</html>"), seedSecret)
	f.Add(302, []byte(""), "")

	c := New(Config{})
	f.Fuzz(func(t *testing.T, status int, body []byte, secret string) {
		if status < 100 || status > 999 {
			return
		}
		if secret != "" {
			body = bytes.ReplaceAll(body, []byte(secretMarker), []byte(secret))
		}
		for _, ep := range []Endpoint{EndpointCodeExchange, EndpointTokenExchange, EndpointRefresh, EndpointProfile} {
			r := request{endpoint: ep, redact: newRedactor(secret)}
			decoders := map[Endpoint]func([]byte) error{
				EndpointCodeExchange:  func(b []byte) error { _, err := decodeShortLived(b); return err },
				EndpointTokenExchange: func(b []byte) error { _, err := decodeLongLived(b); return err },
				EndpointRefresh:       func(b []byte) error { _, err := decodeLongLived(b); return err },
				EndpointProfile:       func(b []byte) error { _, err := decodeProfile(b); return err },
			}
			err := c.interpret(r, status, Usage{}, body, decoders[ep])
			if err == nil {
				if status < 200 || status > 299 {
					t.Fatalf("HTTP %d accepted", status)
				}
				continue
			}
			var e *Error
			if !errors.As(err, &e) || !knownClasses[e.Class] || e.Endpoint != ep || e.HTTPStatus != status {
				t.Fatalf("bad error %#v", err)
			}
			text := err.Error()
			if !utf8.ValidString(text) || strings.ContainsFunc(text, unicode.IsControl) {
				t.Fatalf("error text not a clean single line: %q", text)
			}
			for _, field := range []string{e.Message, e.Type, e.UserTitle, e.UserMessage, e.FBTraceID} {
				if utf8.RuneCountInString(field) > maxMessageRunes+1 {
					t.Fatalf("field of %d runes", utf8.RuneCountInString(field))
				}
			}
			if checkableSecret(secret) && strings.Contains(text, secret) {
				t.Fatalf("secret %q leaked: %s", secret, text)
			}
		}
	})
}

// FuzzParseUsage checks that no header value can produce a negative or
// unbounded wait or percentage.
func FuzzParseUsage(f *testing.F) {
	f.Add(`{"call_count":28,"total_cputime":25,"total_time":25}`,
		`{"17841400000000001":[{"type":"instagram","call_count":28,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":0}]}`, "")
	f.Add(`{"call_count":"99.5"}`, `{"1":[{"estimated_time_to_regain_access":"7"}],"2":{"call_count":1e308}}`, "120")
	f.Add(``, `{"1":[null,{"estimated_time_to_regain_access":-3}]}`, "Thu, 20 Aug 2026 12:05:00 GMT")
	f.Add(`null`, `[]`, "99999999999999999999")
	f.Add(`{"call_count":NaN}`, `{"1":"x"}`, "-5")
	now := time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, app, buc, retryAfter string) {
		h := http.Header{}
		h.Set(headerAppUsage, app)
		h.Set(headerBusinessUseCaseUsage, buc)
		h.Set(headerRetryAfter, retryAfter)
		u := parseUsage(h, now)
		if u.RetryAfter < 0 || u.RetryAfter > maxRetryAfter {
			t.Fatalf("RetryAfter %s", u.RetryAfter)
		}
		if m := u.MaxPercent(); m < 0 || m > maxUsageValue {
			t.Fatalf("MaxPercent %d", m)
		}
		if u.App != nil && (u.App.CallCount < 0 || u.App.TotalCPUTime < 0 || u.App.TotalTime < 0) {
			t.Fatalf("negative app usage %+v", *u.App)
		}
		for _, entries := range u.BusinessUseCase {
			for _, e := range entries {
				if e.EstimatedTimeToRegainAccess < 0 || e.EstimatedTimeToRegainAccess > maxUsageValue || e.CallCount < 0 {
					t.Fatalf("bad BUC entry %+v", e)
				}
			}
		}
	})
}
