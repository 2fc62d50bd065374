package oauthstate

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

const ttl = 10 * time.Minute

func TestStateRoundTrip(t *testing.T) {
	s, _ := newTestSigner(t, testKey)
	ticket := s.Ticket(TicketRef{Namespace: "marketing", Name: "acme", UID: "6f1c2a4e-8b0d-4c55-9a43-1f0e5d9c7b21"})
	cookie := NewBrowserCookieValue()

	tests := []struct {
		name                  string
		cookie, ticket, flow  string
		wantFlow, wantBrowser string
	}{
		{name: "bare", wantFlow: FlowRedirect},
		{name: "bound with ticket", cookie: cookie, ticket: ticket, flow: FlowRedirect, wantFlow: FlowRedirect, wantBrowser: "set"},
		{name: "json flow without cookie", ticket: ticket, flow: FlowJSON, wantFlow: FlowJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value, minted, err := s.NewState(tt.cookie, tt.ticket, tt.flow, ttl)
			if err != nil {
				t.Fatalf("NewState() error = %v", err)
			}
			got, err := s.VerifyState(value, tt.cookie)
			if err != nil {
				t.Fatalf("VerifyState() error = %v", err)
			}
			if got != minted {
				t.Fatalf("VerifyState() = %+v, want the minted claims %+v", got, minted)
			}
			if got.Ticket != tt.ticket || got.Flow != tt.wantFlow || (got.Browser != "") != (tt.wantBrowser != "") {
				t.Errorf("claims = %+v, want ticket %q, flow %q, browser bound %v", got, tt.ticket, tt.wantFlow, tt.wantBrowser != "")
			}
			if !got.IssuedAt.Equal(epoch) || !got.ExpiresAt.Equal(epoch.Add(ttl)) {
				t.Errorf("times = %v..%v, want %v..%v", got.IssuedAt, got.ExpiresAt, epoch, epoch.Add(ttl))
			}
			if n, _ := base64.RawURLEncoding.DecodeString(got.Nonce); len(n) != 16 {
				t.Errorf("nonce %q is not 128 bits", got.Nonce)
			}
			if len(value) >= 512 {
				t.Errorf("state is %d bytes, want well under 512", len(value))
			}
		})
	}
}

func TestStateNoncesDiffer(t *testing.T) {
	s, _ := newTestSigner(t, testKey)
	a, ca, _ := s.NewState("", "", "", ttl)
	b, cb, _ := s.NewState("", "", "", ttl)
	if a == b || ca.Nonce == cb.Nonce {
		t.Fatal("two states share a nonce")
	}
}

func TestStateWorstCaseFitsBound(t *testing.T) {
	s, _ := newTestSigner(t, testKey)
	ticket := s.Ticket(TicketRef{
		Namespace: strings.Repeat("n", maxNamespaceLength),
		Name:      strings.Repeat("a", maxNameLength),
		UID:       types.UID(strings.Repeat("u", maxUIDLength)),
	})
	value, _, err := s.NewState(NewBrowserCookieValue(), ticket, FlowJSON, ttl)
	if err != nil {
		t.Fatalf("NewState() error = %v", err)
	}
	if len(ticket) > MaxTicketLength || len(value) > MaxStateLength {
		t.Fatalf("ticket %d bytes (max %d), state %d bytes (max %d)", len(ticket), MaxTicketLength, len(value), MaxStateLength)
	}
	t.Logf("worst case: ticket %d bytes, state %d bytes", len(ticket), len(value))
}

func TestNewStateRejects(t *testing.T) {
	s, _ := newTestSigner(t, testKey)
	foreign, _ := newTestSigner(t, otherKey)
	ref := TicketRef{Namespace: "ns", Name: "n", UID: "u"}
	tests := []struct {
		name    string
		ticket  string
		flow    string
		ttl     time.Duration
		wantErr error
	}{
		{name: "unknown flow", flow: "popup", ttl: ttl},
		{name: "sub-second ttl", ttl: time.Millisecond},
		{name: "negative ttl", ttl: -ttl},
		{name: "ticket from another key", ticket: foreign.Ticket(ref), ttl: ttl, wantErr: ErrForged},
		{name: "garbage ticket", ticket: "not-a-ticket", ttl: ttl, wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.NewState("", tt.ticket, tt.flow, tt.ttl)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("NewState() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyStateRejects(t *testing.T) {
	s, clk := newTestSigner(t, testKey)
	foreign, _ := newTestSigner(t, otherKey)
	ahead, _ := NewSigner(testKey, clocktesting.NewFakeClock(epoch.Add(MaxClockSkew+time.Second)))
	slightlyAhead, _ := NewSigner(testKey, clocktesting.NewFakeClock(epoch.Add(MaxClockSkew)))
	cookie := NewBrowserCookieValue()
	ticket := s.Ticket(TicketRef{Namespace: "ns", Name: "acme", UID: "uid-1"})

	mint := func(signer *Signer, cookie, ticket string) string {
		v, _, err := signer.NewState(cookie, ticket, FlowRedirect, ttl)
		if err != nil {
			t.Fatalf("NewState() error = %v", err)
		}
		return v
	}
	bound := mint(s, cookie, ticket)
	payloadB64, macB64, _ := strings.Cut(bound, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(payloadB64)
	tampered := append([]byte(nil), payload...)
	tampered[2] ^= 0x01 // the issue time
	futureOK := mint(slightlyAhead, "", ticket)

	tests := []struct {
		name    string
		value   string
		cookie  string
		step    time.Duration
		wantErr error
	}{
		{name: "valid at expiry", value: bound, cookie: cookie, step: ttl},
		{name: "within clock skew", value: futureOK},
		{name: "expired", value: bound, cookie: cookie, step: ttl + time.Second, wantErr: ErrExpired},
		{name: "issued in the future", value: mint(ahead, "", ticket), wantErr: ErrNotYetValid},
		{name: "future is also expired", value: mint(ahead, "", ticket), wantErr: ErrExpired},
		{name: "wrong browser", value: bound, cookie: NewBrowserCookieValue(), wantErr: ErrWrongBrowser},
		{name: "missing cookie", value: bound, wantErr: ErrWrongBrowser},
		{name: "forged mac", value: payloadB64 + "." + flipFirst(macB64), cookie: cookie, wantErr: ErrForged},
		{name: "tampered claims", value: base64.RawURLEncoding.EncodeToString(tampered) + "." + macB64, cookie: cookie, wantErr: ErrForged},
		{name: "another key", value: mint(foreign, cookie, ""), cookie: cookie, wantErr: ErrForged},
		{name: "ticket as state", value: ticket, wantErr: ErrForged},
		{name: "truncated mac", value: bound[:len(bound)-4], cookie: cookie, wantErr: ErrMalformed},
		{name: "truncated to payload", value: payloadB64, cookie: cookie, wantErr: ErrMalformed},
		{name: "padded", value: bound + "=", cookie: cookie, wantErr: ErrMalformed},
		{name: "newline", value: bound[:5] + "\n" + bound[5:], cookie: cookie, wantErr: ErrMalformed},
		{name: "three parts", value: bound + ".AA", cookie: cookie, wantErr: ErrMalformed},
		{name: "empty", value: "", wantErr: ErrMalformed},
		{name: "huge", value: strings.Repeat("A", 1<<20) + "." + macB64, wantErr: ErrMalformed},
		{name: "signed garbage", value: seal(s.stateKey, []byte{stateVersion, 1, 2}), wantErr: ErrMalformed},
		{name: "signed unknown version", value: seal(s.stateKey, append([]byte{9}, payload[1:]...)), cookie: cookie, wantErr: ErrMalformed},
		{name: "signed trailing bytes", value: seal(s.stateKey, append(payload, 0)), cookie: cookie, wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.SetTime(epoch.Add(tt.step))
			_, err := s.VerifyState(tt.value, tt.cookie)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifyState() error = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyState() error = %v, want %v", err, tt.wantErr)
			}
			assertQuiet(t, err, tt.value, tt.cookie, string(testKey), payloadB64, macB64)
		})
	}
}

// flipFirst changes the first character of a base64url string to another valid one.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
