package callback

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// Data-deletion confirmation codes carry their own record, signed, so that the status page
// can be served by any replica, at any later time, without storage:
//
//	base32(version | unix seconds (8) | connections deleted (2) | random (4) | HMAC (12))
//
// Base32 without padding is upper-case letters and digits only, as Meta expects of a
// confirmation code, and survives being read aloud or retyped. 96 bits of MAC cannot be
// guessed; the random part makes every code unique, even for two requests in one second.
const (
	confirmationVersion = 1
	confirmationPayload = 1 + 8 + 2 + 4
	confirmationMAC     = 12
)

var confirmationEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// confirmations mints and verifies confirmation codes with a key all replicas share.
type confirmations struct {
	key []byte
}

// deletionRecord is what a confirmation code says.
type deletionRecord struct {
	// At is when the deletion was done, to the second.
	At time.Time
	// Connections is how many connections were deleted (capped at 65535).
	Connections int
}

// mint returns the code for rec.
func (c confirmations) mint(rec deletionRecord) string {
	b := make([]byte, confirmationPayload, confirmationPayload+confirmationMAC)
	b[0] = confirmationVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(rec.At.Unix()))
	binary.BigEndian.PutUint16(b[9:11], uint16(min(max(rec.Connections, 0), 0xffff)))
	_, _ = rand.Read(b[11:15])
	b = append(b, c.mac(b)...)
	return confirmationEncoding.EncodeToString(b)
}

// verify returns the record a code carries, or false for a code this key did not sign.
func (c confirmations) verify(code string) (deletionRecord, bool) {
	if len(code) != confirmationEncoding.EncodedLen(confirmationPayload+confirmationMAC) {
		return deletionRecord{}, false
	}
	b, err := confirmationEncoding.DecodeString(strings.ToUpper(code))
	if err != nil || len(b) != confirmationPayload+confirmationMAC || b[0] != confirmationVersion {
		return deletionRecord{}, false
	}
	if !hmac.Equal(b[confirmationPayload:], c.mac(b[:confirmationPayload])) {
		return deletionRecord{}, false
	}
	return deletionRecord{
		At:          time.Unix(int64(binary.BigEndian.Uint64(b[1:9])), 0).UTC(),
		Connections: int(binary.BigEndian.Uint16(b[9:11])),
	}, true
}

// mac is the truncated HMAC-SHA256 of a payload.
func (c confirmations) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write(payload)
	return h.Sum(nil)[:confirmationMAC]
}
