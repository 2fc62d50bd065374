package oauthstate

import (
	"crypto/rand"
	"encoding/base64"
)

// BrowserCookieName is the cookie that binds a state to the browser that started the login,
// so a state (or a callback URL) lifted from one browser is refused in another.
const BrowserCookieName = "igconnect_oauth"

// browserHashLength is how much of the keyed hash a state keeps: 128 bits cannot be matched
// without the key and keep the state short.
const browserHashLength = 16

// NewBrowserCookieValue returns a fresh random value (256 bits, base64url) for the
// BrowserCookieName cookie.
func NewBrowserCookieValue() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// browserHash is what a state stores for a cookie: a keyed, truncated HMAC. Keyed so that the
// readable state discloses nothing usable about the cookie.
func (s *Signer) browserHash(cookie string) []byte {
	return mac(s.browserKey, []byte(cookie))[:browserHashLength]
}

// randomBytes returns n bytes from crypto/rand, which does not fail on supported platforms
// (it crashes the program rather than return predictable bytes).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
