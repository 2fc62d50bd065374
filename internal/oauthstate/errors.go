package oauthstate

import (
	"errors"
	"fmt"
)

// Sentinel errors, for use with errors.Is. Their messages are fixed texts, never built from
// the value, cookie or key, so the callback server may log them and show them to a person.
var (
	// ErrMalformed reports a value that is too long, not in the compact format, or whose
	// signed payload does not decode.
	ErrMalformed = errors.New("oauthstate: malformed value")
	// ErrForged reports a value whose signature does not match: tampered, minted with another
	// key, or minted for another purpose (a ticket presented as a state, or the reverse).
	ErrForged = errors.New("oauthstate: signature does not match")
	// ErrExpired reports a state past its expiry; the person should start the login again.
	ErrExpired = errors.New("oauthstate: state has expired")
	// ErrNotYetValid reports a state issued later than now plus MaxClockSkew, i.e. by a replica
	// whose clock is far ahead. It is also an ErrExpired: the remedy is the same.
	ErrNotYetValid = fmt.Errorf("%w: issued in the future", ErrExpired)
	// ErrWrongBrowser reports a state bound to a browser cookie other than the one presented.
	ErrWrongBrowser = errors.New("oauthstate: state was issued to another browser")
	// ErrReplayed reports a state nonce that ReplayGuard has already seen.
	ErrReplayed = errors.New("oauthstate: state has already been used")
)

// malformed wraps ErrMalformed with a fixed reason; the reason must never be built from input.
func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, reason)
}
