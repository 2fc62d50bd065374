package signedrequest

import (
	"encoding/base64"
	"encoding/json"
)

// Sign mints a signed_request the way Meta does, with unpadded base64url segments. An empty
// p.Algorithm is filled with "HMAC-SHA256"; any other value is kept, so tests can mint
// payloads that Parse must refuse. It exists for tests and the sandbox, not for production.
func Sign(secret string, p Payload) string {
	return sign(secret, p, base64.RawURLEncoding)
}

// SignPadded is Sign with '=' padding on both segments, the other form seen from Meta.
func SignPadded(secret string, p Payload) string {
	return sign(secret, p, base64.URLEncoding)
}

func sign(secret string, p Payload, enc *base64.Encoding) string {
	if p.Algorithm == "" {
		p.Algorithm = Algorithm
	}
	// Marshal cannot fail: Payload holds only strings and integers.
	body, _ := json.Marshal(p)
	payloadB64 := enc.EncodeToString(body)
	return enc.EncodeToString(mac(secret, payloadB64)) + "." + payloadB64
}
