package oauthstate

import (
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// Path and query parameter of the callback server's start endpoint, which a ticket opens.
const (
	StartPath   = "/auth/instagram/start"
	TicketParam = "ticket"
)

// Bounds on a ticket's fields: Kubernetes' own limits for namespace (DNS label) and name (DNS
// subdomain), and generous room for a UID (a UUID in practice).
const (
	maxNamespaceLength = 63
	maxNameLength      = 253
	maxUIDLength       = 64
)

// MaxTicketLength bounds the tickets VerifyTicket will look at. The longest legitimate ticket
// (a 63-byte namespace, a 253-byte name and a 64-byte UID) is about 560 bytes;
// a typical one about 120.
const MaxTicketLength = 1024

// ticketVersion leads every ticket payload so the format can change without ambiguity.
const ticketVersion = 1

// TicketRef names the connection a ticket authorizes a login for. The UID pins one incarnation
// of the object: a ticket for a deleted connection does not open a later one of the same name.
type TicketRef struct {
	Namespace string
	Name      string
	UID       types.UID
}

// Ticket returns the ticket for ref: its fields and an HMAC over their length-prefixed
// encoding, in url-safe base64. It is deterministic for a given ref and key, so the reconciler
// can recompute it on every reconcile without changing status; it cannot be guessed or altered
// without the key. A ref beyond Kubernetes' length limits yields a ticket VerifyTicket refuses.
func (s *Signer) Ticket(ref TicketRef) string {
	return seal(s.ticketKey, appendRef([]byte{ticketVersion}, ref))
}

// VerifyTicket checks t and returns the connection it names. Errors wrap ErrMalformed or
// ErrForged. The caller must still check that the object exists with the returned UID.
func (s *Signer) VerifyTicket(t string) (TicketRef, error) {
	payload, err := open(s.ticketKey, t, MaxTicketLength)
	if err != nil {
		return TicketRef{}, err
	}
	r := reader{b: payload}
	if r.byte() != ticketVersion {
		return TicketRef{}, malformed("unknown ticket version")
	}
	ref, ok := readRef(&r)
	if !ok || !r.ok() {
		return TicketRef{}, malformed("ticket payload does not decode")
	}
	return ref, nil
}

// AuthorizationURL returns the link a person follows to authorize the connection a ticket
// names: <publicURL>/auth/instagram/start?ticket=<ticket>. A trailing slash on publicURL is
// ignored, so both spellings of the flag give the same status.
func AuthorizationURL(publicURL, ticket string) string {
	return strings.TrimRight(publicURL, "/") + StartPath + "?" + TicketParam + "=" + url.QueryEscape(ticket)
}

// appendRef appends ref's fields, each length-prefixed so no two refs share an encoding.
func appendRef(b []byte, ref TicketRef) []byte {
	b = appendField(b, ref.Namespace)
	b = appendField(b, ref.Name)
	return appendField(b, string(ref.UID))
}

// readRef reads a ref written by appendRef and checks that every field is present and within
// Kubernetes' limits.
func readRef(r *reader) (TicketRef, bool) {
	ref := TicketRef{
		Namespace: r.field(maxNamespaceLength),
		Name:      r.field(maxNameLength),
		UID:       types.UID(r.field(maxUIDLength)),
	}
	ok := !r.bad && ref.Namespace != "" && ref.Name != "" && ref.UID != ""
	return ref, ok
}
