package oauthstate

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"k8s.io/utils/clock"
)

// MinKeyLength is the shortest signing key accepted: 256 bits, the HMAC-SHA256 block output.
const MinKeyLength = 32

// Purposes for deriving one HMAC key per kind of value from the shared key. Distinct keys,
// rather than prefixes on one key, make cross-use impossible by construction.
const (
	purposeState   = "igconnect/oauthstate/state/v1"
	purposeTicket  = "igconnect/oauthstate/ticket/v1"
	purposeBrowser = "igconnect/oauthstate/browser/v1"
	purposeDerive  = "igconnect/oauthstate/derive/v1"
)

// Signer mints and verifies states and tickets. It is safe for concurrent use. Replicas that
// must accept each other's values need the same key.
type Signer struct {
	stateKey   []byte
	ticketKey  []byte
	browserKey []byte
	deriveRoot []byte
	clk        clock.PassiveClock
}

// NewSigner returns a Signer for key, which must be at least MinKeyLength bytes. clk decides
// issue and expiry times; pass clock.RealClock{} in production and a fake clock in tests.
func NewSigner(key []byte, clk clock.PassiveClock) (*Signer, error) {
	if len(key) < MinKeyLength {
		return nil, fmt.Errorf("oauthstate: signing key must be at least %d bytes", MinKeyLength)
	}
	if clk == nil {
		return nil, errors.New("oauthstate: a clock is required")
	}
	return &Signer{
		stateKey:   deriveKey(key, purposeState),
		ticketKey:  deriveKey(key, purposeTicket),
		browserKey: deriveKey(key, purposeBrowser),
		deriveRoot: deriveKey(key, purposeDerive),
		clk:        clk,
	}, nil
}

// DeriveKey returns a key for another use of the shared secret (for example the callback's
// data-deletion confirmation codes), the same on every replica and independent of the keys
// that sign states, tickets and browser bindings: knowing it reveals none of them.
func (s *Signer) DeriveKey(purpose string) []byte {
	return deriveKey(s.deriveRoot, purpose)
}

// deriveKey returns HMAC-SHA256(key, purpose), a per-purpose key independent of the others.
func deriveKey(key []byte, purpose string) []byte {
	return mac(key, []byte(purpose))
}

// mac returns HMAC-SHA256(key, data).
func mac(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}
