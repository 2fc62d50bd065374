package oauthstate

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestTicketRoundTripAndDeterminism(t *testing.T) {
	s, _ := newTestSigner(t, testKey)
	again, _ := newTestSigner(t, testKey) // another replica with the same key
	ref := TicketRef{Namespace: "marketing", Name: "acme", UID: "6f1c2a4e-8b0d-4c55-9a43-1f0e5d9c7b21"}

	ticket := s.Ticket(ref)
	if ticket != s.Ticket(ref) || ticket != again.Ticket(ref) {
		t.Fatal("Ticket() is not deterministic for one ref and key")
	}
	if url.QueryEscape(ticket) != ticket {
		t.Errorf("ticket %q is not url-safe", ticket)
	}
	got, err := again.VerifyTicket(ticket)
	if err != nil || got != ref {
		t.Fatalf("VerifyTicket() = %+v, %v; want %+v", got, err, ref)
	}

	// Each field matters, and length prefixes keep "ab"+"c" apart from "a"+"bc".
	for _, other := range []TicketRef{
		{Namespace: "marketing", Name: "acme", UID: "another-uid"},
		{Namespace: "marketing", Name: "acme2", UID: ref.UID},
		{Namespace: "marketingacme", Name: "", UID: ref.UID},
		{Namespace: "marketin", Name: "gacme", UID: ref.UID},
	} {
		if s.Ticket(other) == ticket {
			t.Errorf("Ticket(%+v) equals Ticket(%+v)", other, ref)
		}
	}
}

func TestVerifyTicketRejects(t *testing.T) {
	s, _ := newTestSigner(t, testKey)
	foreign, _ := newTestSigner(t, otherKey)
	ref := TicketRef{Namespace: "ns", Name: "acme", UID: "uid-1"}
	ticket := s.Ticket(ref)
	state, _, _ := s.NewState("", "", FlowRedirect, ttl)
	payloadB64, macB64, _ := strings.Cut(ticket, ".")

	tests := []struct {
		name    string
		ticket  string
		wantErr error
	}{
		{name: "minted with another key", ticket: foreign.Ticket(ref), wantErr: ErrForged},
		{name: "state as ticket", ticket: state, wantErr: ErrForged},
		{name: "forged mac", ticket: payloadB64 + "." + flipFirst(macB64), wantErr: ErrForged},
		{name: "tampered ref", ticket: flipFirst(payloadB64) + "." + macB64, wantErr: ErrForged},
		{name: "truncated", ticket: ticket[:len(ticket)-2], wantErr: ErrMalformed},
		{name: "huge", ticket: strings.Repeat("A", MaxTicketLength+1), wantErr: ErrMalformed},
		{name: "empty", ticket: "", wantErr: ErrMalformed},
		{name: "query-escaped junk", ticket: "a%2Eb", wantErr: ErrMalformed},
		{name: "empty name", ticket: s.Ticket(TicketRef{Namespace: "ns", UID: "u"}), wantErr: ErrMalformed},
		{name: "empty uid", ticket: s.Ticket(TicketRef{Namespace: "ns", Name: "n"}), wantErr: ErrMalformed},
		{name: "namespace too long", ticket: s.Ticket(TicketRef{Namespace: strings.Repeat("n", 64), Name: "n", UID: "u"}), wantErr: ErrMalformed},
		{name: "signed trailing bytes", ticket: seal(s.ticketKey, append(appendRef([]byte{ticketVersion}, ref), 0)), wantErr: ErrMalformed},
		{name: "signed unknown version", ticket: seal(s.ticketKey, appendRef([]byte{2}, ref)), wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.VerifyTicket(tt.ticket)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyTicket() error = %v, want %v", err, tt.wantErr)
			}
			assertQuiet(t, err, tt.ticket, string(testKey), payloadB64, macB64)
		})
	}
}

func TestAuthorizationURL(t *testing.T) {
	for _, public := range []string{"https://ig.example.com", "https://ig.example.com/"} {
		if got, want := AuthorizationURL(public, "abc.def"), "https://ig.example.com/auth/instagram/start?ticket=abc.def"; got != want {
			t.Errorf("AuthorizationURL(%q) = %q, want %q", public, got, want)
		}
	}
	if got, want := AuthorizationURL("https://example.com/ig", "x"), "https://example.com/ig/auth/instagram/start?ticket=x"; got != want {
		t.Errorf("AuthorizationURL() with a path = %q, want %q", got, want)
	}
}
