package signedrequest

import (
	"errors"
	"fmt"
)

// Sentinel errors returned by Parse, for use with errors.Is. Their messages are fixed texts:
// they never contain the value being parsed nor any secret, so a caller may log or show them.
var (
	// ErrTooLong reports a value longer than MaxLength; nothing else was looked at.
	ErrTooLong = errors.New("signed_request is too long")
	// ErrMalformed reports a value that is not two base64 segments around a dot, or whose
	// payload is not the expected JSON.
	ErrMalformed = errors.New("signed_request is malformed")
	// ErrBadSignature reports a signature that is not 32 bytes or matches none of the secrets.
	ErrBadSignature = errors.New("signed_request signature does not match")
	// ErrUnsupportedAlgorithm reports a correctly signed payload that names an algorithm other
	// than HMAC-SHA256.
	ErrUnsupportedAlgorithm = errors.New("signed_request algorithm is not HMAC-SHA256")
	// ErrMissingUserID reports a correctly signed payload without a user_id. It is also an
	// ErrMalformed, so callers that only distinguish "bad input" need not know it.
	ErrMissingUserID = fmt.Errorf("%w: no user_id", ErrMalformed)
	// ErrNoSecret reports that Parse was given no non-empty secret. It is a configuration
	// error, not bad input: an empty HMAC key would let anyone forge a request.
	ErrNoSecret = errors.New("signed_request: no app secret configured")
)

// malformed wraps ErrMalformed with a fixed reason; the reason must never be built from input.
func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, reason)
}
