package signedrequest

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Algorithm is the only algorithm Meta uses, and the only one Parse accepts (in any case).
const Algorithm = "HMAC-SHA256"

// Payload is the JSON object inside a signed_request. Fields other than these are ignored.
type Payload struct {
	// Algorithm is the payload's "algorithm" as received; Parse has checked that it names
	// HMAC-SHA256, though not necessarily in upper case.
	Algorithm string `json:"algorithm"`
	// UserID is the user that removed the app or asked for deletion. Meta documents it as a
	// JSON string, but Instagram IDs are also seen as JSON numbers above 2^53, so both are
	// accepted and kept digit for digit.
	UserID string `json:"user_id"`
	// IssuedAt is the Unix time at which Meta issued the request.
	IssuedAt int64 `json:"issued_at"`
	// Expires is the Unix time given in "expires", when present (data-deletion requests).
	Expires int64 `json:"expires,omitempty"`
}

// errUserIDType is internal: Parse reports every decoding failure as ErrMalformed.
var errUserIDType = errors.New("user_id is neither a string nor an unsigned integer")

// UnmarshalJSON decodes a payload, accepting user_id as a string or as an integer number.
// A number is copied as its literal digits rather than decoded, because float64 would round
// IDs such as 27640875392278831. A null or absent user_id leaves UserID empty.
func (p *Payload) UnmarshalJSON(data []byte) error {
	var raw struct {
		Algorithm string          `json:"algorithm"`
		UserID    json.RawMessage `json:"user_id"`
		IssuedAt  int64           `json:"issued_at"`
		Expires   int64           `json:"expires"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	userID, err := decodeUserID(raw.UserID)
	if err != nil {
		return err
	}
	*p = Payload{Algorithm: raw.Algorithm, UserID: userID, IssuedAt: raw.IssuedAt, Expires: raw.Expires}
	return nil
}

// decodeUserID turns the raw user_id value into its string form. json.Unmarshal has already
// checked that raw is one well-formed JSON value.
func decodeUserID(raw json.RawMessage) (string, error) {
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return "", nil
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case isDigits(raw):
		return string(raw), nil
	default:
		// Negative, fractional or exponent numbers, booleans, objects: no ID looks like that.
		return "", errUserIDType
	}
}

// isDigits reports whether b is a non-empty run of ASCII digits.
func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
