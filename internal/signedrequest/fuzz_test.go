package signedrequest

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary values and secrets to Parse. Parse must not panic, must fail only
// with its documented sentinels and without echoing the value, and whatever it accepts must
// survive a Sign/Parse round trip unchanged. The committed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(Sign(secret, Payload{UserID: "218471", IssuedAt: 1291836800, Expires: 1291840400}), secret)
	f.Add(SignPadded(secret, Payload{UserID: "2184710", IssuedAt: 1291836800}), secret)
	f.Add(signRaw(`{"algorithm":"HMAC-SHA256","user_id":27640875392278831,"issued_at":1634206592}`), secret)
	f.Add(toStdAlphabet(secret, `{"algorithm":"hmac-sha256","user_id":"0","x":"???>>>"}`), secret)
	f.Add(Sign(secret, Payload{UserID: "1"}), otherSecret)
	f.Add("a.b", "")
	f.Add(".", secret)
	f.Fuzz(func(t *testing.T, value, key string) {
		p, err := Parse(value, key)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("Parse() error %v matches no sentinel", err)
			}
			if len(value) > 100 && strings.Contains(err.Error(), value) {
				t.Fatalf("Parse() error %q echoes the input", err)
			}
			if len(key) > 8 && strings.Contains(err.Error(), key) {
				t.Fatalf("Parse() error %q contains the secret", err)
			}
			return
		}
		if p.UserID == "" || !strings.EqualFold(p.Algorithm, Algorithm) {
			t.Fatalf("Parse() accepted %+v", p)
		}
		again, err := Parse(Sign(key, p), key)
		if err != nil || again != p {
			t.Fatalf("re-signed payload: Parse() = %+v, %v; want %+v", again, err, p)
		}
	})
}

// FuzzRoundTrip checks that Parse(Sign(s, p), s) returns p for any payload, or the one error
// the payload deserves. Strings that are not valid UTF-8 are skipped: encoding/json replaces
// invalid bytes with U+FFFD, so no JSON transport could carry them unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add(secret, "", "218471", int64(1291836800), int64(1291840400))
	f.Add(secret, "hmac-sha256", "27640875392278831", int64(-1), int64(0))
	f.Add(secret, "HMAC-SHA1", "1", int64(0), int64(0))
	f.Add("", "", "1", int64(0), int64(0))
	f.Add(secret, "", "", int64(0), int64(0))
	f.Add(secret, "", "<\"\\\u2028>", int64(1)<<62, int64(-1)<<63)
	f.Fuzz(func(t *testing.T, key, alg, userID string, issuedAt, expires int64) {
		if !utf8.ValidString(alg) || !utf8.ValidString(userID) {
			t.Skip("not representable in JSON")
		}
		want := Payload{Algorithm: alg, UserID: userID, IssuedAt: issuedAt, Expires: expires}
		if want.Algorithm == "" {
			want.Algorithm = Algorithm
		}
		for _, v := range []string{Sign(key, want), SignPadded(key, want)} {
			got, err := Parse(v, key)
			var wantErr error
			switch {
			case len(v) > MaxLength:
				wantErr = ErrTooLong
			case key == "":
				wantErr = ErrNoSecret
			case !strings.EqualFold(want.Algorithm, Algorithm):
				wantErr = ErrUnsupportedAlgorithm
			case userID == "":
				wantErr = ErrMissingUserID
			}
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					t.Fatalf("Parse() error = %v, want %v", err, wantErr)
				}
				continue
			}
			if err != nil || got != want {
				t.Fatalf("Parse() = %+v, %v; want %+v", got, err, want)
			}
		}
	})
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrTooLong, ErrMalformed, ErrBadSignature, ErrUnsupportedAlgorithm, ErrNoSecret} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
