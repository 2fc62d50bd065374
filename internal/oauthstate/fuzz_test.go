package oauthstate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Each fuzz target checks two things per input: the input as a value from the network, which
// exercises size and format checks, and the input as a payload signed with the right key,
// which reaches the binary decoder the MAC otherwise guards. Committed corpora are in
// testdata/fuzz.

// FuzzVerifyState: VerifyState never panics, fails only with its sentinels and quietly, and
// what it accepts is well formed.
func FuzzVerifyState(f *testing.F) {
	s, clk := newTestSigner(f, testKey)
	ticket := s.Ticket(TicketRef{Namespace: "marketing", Name: "acme", UID: "6f1c2a4e-8b0d-4c55-9a43-1f0e5d9c7b21"})
	for _, seed := range []struct{ cookie, ticket, flow string }{
		{"", "", FlowRedirect}, {"cookie-value", ticket, FlowRedirect}, {"", ticket, FlowJSON},
	} {
		v, _, _ := s.NewState(seed.cookie, seed.ticket, seed.flow, ttl)
		f.Add(v, seed.cookie)
	}
	f.Add(ticket, "")
	f.Add("..", "")
	f.Fuzz(func(t *testing.T, value, cookie string) {
		clk.SetTime(epoch)
		for _, v := range []string{value, seal(s.stateKey, []byte(value))} {
			claims, err := s.VerifyState(v, cookie)
			if err != nil {
				checkFailure(t, err, v, ErrMalformed, ErrForged, ErrExpired, ErrWrongBrowser)
				continue
			}
			if claims.Flow != FlowRedirect && claims.Flow != FlowJSON || len(claims.Nonce) != 22 ||
				claims.ExpiresAt.Before(epoch) || claims.IssuedAt.After(epoch.Add(MaxClockSkew)) {
				t.Fatalf("VerifyState() accepted %+v", claims)
			}
			if claims.Ticket != "" {
				if _, err := s.VerifyTicket(claims.Ticket); err != nil {
					t.Fatalf("accepted state carries a bad ticket: %v", err)
				}
			}
			clk.SetTime(claims.ExpiresAt.Add(time.Second))
			if _, err := s.VerifyState(v, cookie); !errors.Is(err, ErrExpired) {
				t.Fatalf("VerifyState() after expiry error = %v, want ErrExpired", err)
			}
			clk.SetTime(epoch)
		}
	})
}

// FuzzVerifyTicket: VerifyTicket never panics, fails only with its sentinels and quietly, and
// accepts only the canonical ticket of the ref it returns.
func FuzzVerifyTicket(f *testing.F) {
	s, _ := newTestSigner(f, testKey)
	f.Add(s.Ticket(TicketRef{Namespace: "marketing", Name: "acme", UID: "6f1c2a4e-8b0d-4c55-9a43-1f0e5d9c7b21"}))
	f.Add(s.Ticket(TicketRef{Namespace: strings.Repeat("n", 63), Name: strings.Repeat("a", 253), UID: "u"}))
	state, _, _ := s.NewState("", "", FlowRedirect, ttl)
	f.Add(state)
	f.Add("AQJucwJuYQF1.")
	f.Fuzz(func(t *testing.T, value string) {
		for _, v := range []string{value, seal(s.ticketKey, []byte(value))} {
			ref, err := s.VerifyTicket(v)
			if err != nil {
				checkFailure(t, err, v, ErrMalformed, ErrForged)
				continue
			}
			if got := s.Ticket(ref); got != v {
				t.Fatalf("VerifyTicket() accepted %q, but the ticket of %+v is %q", v, ref, got)
			}
		}
	})
}

// checkFailure fails t unless err matches one of want and does not repeat a long input.
func checkFailure(t *testing.T, err error, value string, want ...error) {
	t.Helper()
	for _, w := range want {
		if errors.Is(err, w) {
			if len(value) > 100 && strings.Contains(err.Error(), value) {
				t.Fatalf("error %q repeats the input", err)
			}
			return
		}
	}
	t.Fatalf("error %v matches none of %v", err, want)
}
