package oauthstate

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"time"
)

// Flows a state can be issued for; the callback uses it to answer with a page or with JSON.
const (
	FlowRedirect = "redirect"
	FlowJSON     = "json"
)

// MaxStateLength bounds the states VerifyState will look at. A bare state is under 90 bytes,
// one with a browser binding and a typical ticket under 180; the longest possible ticket
// fields (see MaxTicketLength) bring it to about 620.
const MaxStateLength = 1024

// MaxClockSkew is how far in the future a state's issue time may lie, to allow for replicas
// whose clocks differ slightly.
const MaxClockSkew = time.Minute

// nonceLength is 128 bits: enough that nonces never collide in a ReplayGuard.
const nonceLength = 16

// stateVersion leads every state payload so the format can change without ambiguity.
const stateVersion = 1

// flows maps the flow code stored in a payload to its name; code 0 is unused.
var flows = []string{1: FlowRedirect, 2: FlowJSON}

// StateClaims is what a state carries. Times have whole-second precision.
type StateClaims struct {
	// Nonce is random and unique per state; feed it to ReplayGuard.Use.
	Nonce string
	// IssuedAt is when NewState ran, by the Signer's clock.
	IssuedAt time.Time
	// ExpiresAt is when the state stops being accepted.
	ExpiresAt time.Time
	// Browser is the keyed hash of the binding cookie, base64url; empty when the state is not
	// bound to a browser (the JSON flow of a front end may have no cookie).
	Browser string
	// Ticket is the connection ticket the login was started with, or empty.
	Ticket string
	// Flow is FlowRedirect or FlowJSON.
	Flow string
}

// NewState mints a state for ttl (at least a second). If browserCookie is not empty, the state
// is bound to it and VerifyState will want the same cookie. If ticket is not empty it must be
// a valid ticket: the state keeps only the connection it names and VerifyState re-derives the
// ticket, which keeps states short. An empty flow means FlowRedirect. It returns the value to
// put in the authorize URL and the claims VerifyState will return for it.
func (s *Signer) NewState(browserCookie, ticket, flow string, ttl time.Duration) (string, StateClaims, error) {
	if flow == "" {
		flow = FlowRedirect
	}
	flowCode := slices.Index(flows, flow)
	if flowCode < 1 {
		return "", StateClaims{}, errors.New("oauthstate: flow must be " + FlowRedirect + " or " + FlowJSON)
	}
	if ttl < time.Second {
		return "", StateClaims{}, errors.New("oauthstate: state lifetime must be at least a second")
	}
	var ref TicketRef
	if ticket != "" {
		var err error
		if ref, err = s.VerifyTicket(ticket); err != nil {
			return "", StateClaims{}, err
		}
	}
	var browser []byte
	if browserCookie != "" {
		browser = s.browserHash(browserCookie)
	}
	nonce := randomBytes(nonceLength)
	now := s.clk.Now()
	issuedAt, expiresAt := now.Unix(), now.Add(ttl).Unix()

	b := []byte{stateVersion, byte(flowCode)}
	b = binary.AppendVarint(b, issuedAt)
	b = binary.AppendVarint(b, expiresAt)
	b = appendField(b, string(nonce))
	b = appendField(b, string(browser))
	if ticket != "" {
		b = appendRef(append(b, 1), ref)
	} else {
		b = append(b, 0)
	}
	// VerifyTicket decodes strictly, so ticket is already the canonical form that
	// decodeState re-derives from ref.
	return seal(s.stateKey, b), StateClaims{
		Nonce:     base64.RawURLEncoding.EncodeToString(nonce),
		IssuedAt:  time.Unix(issuedAt, 0).UTC(),
		ExpiresAt: time.Unix(expiresAt, 0).UTC(),
		Browser:   base64.RawURLEncoding.EncodeToString(browser),
		Ticket:    ticket,
		Flow:      flow,
	}, nil
}

// VerifyState checks a state and returns its claims. It checks, in order: size and format,
// the signature (constant time), expiry and issue time against the Signer's clock, and, if the
// state is bound to a browser, that browserCookie is that browser's cookie (constant time).
// Errors wrap ErrMalformed, ErrForged, ErrExpired (ErrNotYetValid) or ErrWrongBrowser.
// Replays are the caller's to stop, with ReplayGuard, after VerifyState succeeds.
func (s *Signer) VerifyState(value, browserCookie string) (StateClaims, error) {
	payload, err := open(s.stateKey, value, MaxStateLength)
	if err != nil {
		return StateClaims{}, err
	}
	claims, err := s.decodeState(payload)
	if err != nil {
		return StateClaims{}, err
	}
	now := s.clk.Now()
	switch {
	case now.After(claims.ExpiresAt):
		return StateClaims{}, ErrExpired
	case claims.IssuedAt.After(now.Add(MaxClockSkew)):
		return StateClaims{}, ErrNotYetValid
	}
	if claims.Browser != "" {
		// An absent cookie hashes to something else, so it fails here too.
		want, _ := base64.RawURLEncoding.DecodeString(claims.Browser)
		if !hmac.Equal(want, s.browserHash(browserCookie)) {
			return StateClaims{}, ErrWrongBrowser
		}
	}
	return claims, nil
}

// decodeState decodes a signed state payload into claims.
func (s *Signer) decodeState(payload []byte) (StateClaims, error) {
	r := reader{b: payload}
	if r.byte() != stateVersion {
		return StateClaims{}, malformed("unknown state version")
	}
	flowCode := r.byte()
	issuedAt, expiresAt := r.varint(), r.varint()
	nonce := r.field(nonceLength)
	browser := r.field(browserHashLength)
	var ticket string
	switch r.byte() {
	case 0:
	case 1:
		ref, ok := readRef(&r)
		if !ok {
			return StateClaims{}, malformed("state ticket does not decode")
		}
		ticket = s.Ticket(ref)
	default:
		r.bad = true
	}
	flow := ""
	if int(flowCode) < len(flows) {
		flow = flows[flowCode]
	}
	if !r.ok() || flow == "" || len(nonce) != nonceLength || (browser != "" && len(browser) != browserHashLength) {
		return StateClaims{}, malformed("state payload does not decode")
	}
	return StateClaims{
		Nonce:     base64.RawURLEncoding.EncodeToString([]byte(nonce)),
		IssuedAt:  time.Unix(issuedAt, 0).UTC(),
		ExpiresAt: time.Unix(expiresAt, 0).UTC(),
		Browser:   base64.RawURLEncoding.EncodeToString([]byte(browser)),
		Ticket:    ticket,
		Flow:      flow,
	}, nil
}
