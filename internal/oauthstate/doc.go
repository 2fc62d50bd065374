// Package oauthstate signs and verifies the values that carry trust across the OAuth login:
// the OAuth state parameter, the connection tickets shown in status.authorizationURL, and the
// browser-binding cookie. It also loads the signing key that every replica must share.
//
// One key is given to NewSigner; it derives a separate HMAC key per purpose, so a ticket can
// never be presented as a state, nor a state as a ticket. Both are compact
// base64url(payload) "." base64url(HMAC-SHA256) strings with a binary payload. They are signed,
// not encrypted: they hold no secret, and the browser binding is stored as a keyed hash.
//
// The package never logs; its errors never contain a value, cookie or key.
package oauthstate
