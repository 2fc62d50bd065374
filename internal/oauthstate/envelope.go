package oauthstate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// The compact signed format shared by states and tickets:
// base64url(payload) "." base64url(HMAC-SHA256(purpose key, payload)), unpadded.

var b64 = base64.RawURLEncoding.Strict()

// seal signs payload with key and returns the compact form.
func seal(key, payload []byte) string {
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(mac(key, payload))
}

// open checks that value is at most maxLen bytes, is in the compact form and carries key's
// MAC, then returns the payload. Decoding is strict (no padding, no stray CR/LF, canonical
// trailing bits) so that each payload has exactly one string form; that keeps tickets stable
// and lets callers compare them as strings.
func open(key []byte, value string, maxLen int) ([]byte, error) {
	if len(value) > maxLen {
		return nil, malformed("too long")
	}
	payloadB64, macB64, ok := strings.Cut(value, ".")
	if !ok || !isBase64URL(payloadB64) || !isBase64URL(macB64) {
		return nil, malformed("not in the signed format")
	}
	payload, err := b64.DecodeString(payloadB64)
	if err != nil {
		return nil, malformed("payload is not base64url")
	}
	sig, err := b64.DecodeString(macB64)
	if err != nil || len(sig) != sha256.Size {
		return nil, malformed("signature is not a base64url HMAC-SHA256")
	}
	if !hmac.Equal(sig, mac(key, payload)) {
		return nil, ErrForged
	}
	return payload, nil
}

// isBase64URL reports whether s holds only the unpadded base64url alphabet. Go's decoder would
// silently skip CR and LF, so they are refused here.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if !inBase64URLAlphabet(s[i]) {
			return false
		}
	}
	return true
}

func inBase64URLAlphabet(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
