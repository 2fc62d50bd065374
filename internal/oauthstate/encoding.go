package oauthstate

import "encoding/binary"

// The payloads are binary rather than JSON to keep states short enough for every hop of the
// OAuth redirect. Variable-length fields are prefixed with their length (uvarint), so no
// field can run into the next.

// appendField appends a length-prefixed field.
func appendField(b []byte, field string) []byte {
	b = binary.AppendUvarint(b, uint64(len(field)))
	return append(b, field...)
}

// reader decodes a payload. The first failure sticks: later reads return zero values, and the
// caller checks ok once at the end. Varints must be minimal, so that a payload has exactly one
// encoding and a ticket exactly one string form.
type reader struct {
	b   []byte
	bad bool
}

// byte reads one byte.
func (r *reader) byte() byte {
	if r.bad || len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// varint reads a signed varint.
func (r *reader) varint() int64 {
	if r.bad {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 || n != len(binary.AppendVarint(nil, v)) {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

// field reads a length-prefixed field of at most maxLen bytes.
func (r *reader) field(maxLen int) string {
	if r.bad {
		return ""
	}
	n, w := binary.Uvarint(r.b)
	if w <= 0 || w != len(binary.AppendUvarint(nil, n)) || n > uint64(maxLen) || n > uint64(len(r.b)-w) {
		r.bad = true
		return ""
	}
	f := string(r.b[w : w+int(n)])
	r.b = r.b[w+int(n):]
	return f
}

// ok reports whether every read succeeded and the whole payload was consumed; trailing bytes
// mean a payload this code did not write.
func (r *reader) ok() bool {
	return !r.bad && len(r.b) == 0
}
