package signedrequest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// MaxLength bounds the signed_request Parse will look at. Real values are a few hundred
// bytes; the bound keeps a hostile POST from costing more than one small HMAC per secret.
const MaxLength = 8 << 10

// Parse verifies value against each of secrets and returns its payload. Empty secrets are
// skipped. The HMAC is checked before the payload is decoded, so unauthenticated JSON is never
// parsed. Parse does not judge issued_at or expires: the deauthorize and deletion actions are
// idempotent, and Meta does not document that every payload carries an expiry.
//
// Errors wrap ErrTooLong, ErrMalformed, ErrBadSignature, ErrUnsupportedAlgorithm,
// ErrMissingUserID or ErrNoSecret.
func Parse(value string, secrets ...string) (Payload, error) {
	if len(value) > MaxLength {
		return Payload{}, ErrTooLong
	}
	sigB64, payloadB64, ok := strings.Cut(value, ".")
	if !ok || strings.Contains(payloadB64, ".") {
		return Payload{}, malformed("want two dot-separated parts")
	}
	sig, err := decodeSegment(sigB64)
	if err != nil {
		return Payload{}, malformed("signature is not base64")
	}
	if len(sig) != sha256.Size {
		return Payload{}, ErrBadSignature
	}
	if err := verify(sig, payloadB64, secrets); err != nil {
		return Payload{}, err
	}

	body, err := decodeSegment(payloadB64)
	if err != nil {
		return Payload{}, malformed("payload is not base64")
	}
	var p Payload
	// The json error is dropped on purpose: its text can quote bytes of the payload.
	if err := json.Unmarshal(body, &p); err != nil {
		return Payload{}, malformed("payload is not the expected JSON object")
	}
	if !strings.EqualFold(p.Algorithm, Algorithm) {
		return Payload{}, ErrUnsupportedAlgorithm
	}
	if p.UserID == "" {
		return Payload{}, ErrMissingUserID
	}
	return p, nil
}

// verify checks sig against the HMAC of payloadB64 under each non-empty secret. The segment
// is tried as received and in its other padding form, because it is not known whether Meta
// signs before or after padding; either way the signer had to hold the secret. Every candidate
// is tried even after a match, so the time taken does not tell which one matched.
func verify(sig []byte, payloadB64 string, secrets []string) error {
	forms := []string{payloadB64, otherPadding(payloadB64)}
	tried, matched := false, false
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		tried = true
		for _, form := range forms {
			if hmac.Equal(sig, mac(secret, form)) {
				matched = true
			}
		}
	}
	switch {
	case !tried:
		return ErrNoSecret
	case !matched:
		return ErrBadSignature
	}
	return nil
}

// otherPadding returns s without its '=' padding if it has any, else s with standard padding.
func otherPadding(s string) string {
	if trimmed := strings.TrimRight(s, "="); trimmed != s {
		return trimmed
	}
	return s + strings.Repeat("=", (4-len(s)%4)%4)
}

// mac is the signature Meta computes: HMAC-SHA256 keyed by the app secret over the payload
// segment as transmitted (base64, not the decoded JSON).
func mac(secret, payloadB64 string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(payloadB64))
	return h.Sum(nil)
}

// decodeSegment decodes base64 in either alphabet, with or without '=' padding. Meta's own
// sample maps "-_" to "+/" and decodes leniently, and one report says its signatures carry a
// trailing "=". Characters outside both alphabets are rejected explicitly because Go's decoder
// would otherwise skip CR and LF.
func decodeSegment(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	for i := 0; i < len(s); i++ {
		if !isBase64Char(s[i]) {
			return nil, base64.CorruptInputError(i)
		}
	}
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

// isBase64Char reports whether c belongs to the standard or the URL-safe alphabet.
func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '+' || c == '/'
}
