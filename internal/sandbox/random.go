package sandbox

import (
	"crypto/rand"
	"encoding/base64"
)

// randomString returns n random bytes as unpadded base64url, so the result is
// safe in a query string and in a fragment-free redirect.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return base64.RawURLEncoding.EncodeToString(b)
}

// newAccessToken returns a fresh token: the IGAA prefix of Instagram Login
// tokens, then 48 random bytes (64 characters).
func newAccessToken() string { return "IGAA" + randomString(48) }

// newCode returns a fresh authorization code in the AQ… style of real codes.
func newCode() string { return "AQ" + randomString(48) }

// newTraceID returns a random fbtrace_id, as every Graph error carries one.
func newTraceID() string { return "A" + randomString(16) }
