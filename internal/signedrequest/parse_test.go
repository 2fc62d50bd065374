package signedrequest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

const (
	secret      = "0123456789abcdef0123456789abcdef"
	otherSecret = "fedcba9876543210fedcba9876543210"
)

// signRaw signs an arbitrary payload body with secret, for the shapes Sign cannot produce
// (numeric user_id, bad JSON, missing fields).
func signRaw(body string) string {
	return signSegment(secret, base64.RawURLEncoding.EncodeToString([]byte(body)))
}

// signSegment signs a payload segment as given, so a value can pass the HMAC check and still
// carry a segment that is not base64.
func signSegment(key, segment string) string {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(segment))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)) + "." + segment
}

// toStdAlphabet rewrites a value into the standard base64 alphabet with padding, keeping the
// signature valid (the HMAC covers the payload segment as transmitted, so it is recomputed).
func toStdAlphabet(key, body string) string {
	payloadB64 := base64.StdEncoding.EncodeToString([]byte(body))
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(payloadB64))
	return base64.StdEncoding.EncodeToString(h.Sum(nil)) + "." + payloadB64
}

func TestParse(t *testing.T) {
	// The user_id length makes the payload need padding, so the padding cases mean something.
	deletion := Payload{Algorithm: "HMAC-SHA256", UserID: "2184710", IssuedAt: 1291836800, Expires: 1291840400}
	valid := Sign(secret, deletion)
	if !strings.HasSuffix(SignPadded(secret, deletion), "=") {
		t.Fatal("test payload encodes without padding; change its user_id length")
	}
	sig, payloadB64, _ := strings.Cut(valid, ".")
	// A body whose standard base64 holds '+' and '/', so the std-alphabet case tests them.
	stdBody := `{"algorithm":"HMAC-SHA256","user_id":"17841400000000001","issued_at":1700000000,"x":"???>>>"}`
	if !strings.ContainsAny(toStdAlphabet(secret, stdBody), "+/") {
		t.Fatal("std-alphabet test body encodes without '+' or '/'")
	}

	tests := []struct {
		name    string
		value   string
		secrets []string
		want    Payload
		wantErr error
	}{
		{name: "valid unpadded", value: valid, secrets: []string{secret}, want: deletion},
		{name: "valid padded", value: SignPadded(secret, deletion), secrets: []string{secret}, want: deletion},
		{name: "padding added after signing", value: sig + "=." + payloadB64 + "=", secrets: []string{secret}, want: deletion},
		{
			name: "standard alphabet", value: toStdAlphabet(secret, stdBody), secrets: []string{secret},
			want: Payload{Algorithm: "HMAC-SHA256", UserID: "17841400000000001", IssuedAt: 1700000000},
		},
		{name: "padding stripped after signing", value: strings.ReplaceAll(SignPadded(secret, deletion), "=", ""), secrets: []string{secret}, want: deletion},
		{name: "wrong secret", value: valid, secrets: []string{otherSecret}, wantErr: ErrBadSignature},
		{name: "second secret matches", value: valid, secrets: []string{otherSecret, secret}, want: deletion},
		{name: "empty secrets skipped", value: valid, secrets: []string{"", secret}, want: deletion},
		{name: "no secret", value: valid, wantErr: ErrNoSecret},
		{name: "only empty secret", value: Sign("", deletion), secrets: []string{""}, wantErr: ErrNoSecret},
		{
			name: "algorithm mismatch", secrets: []string{secret}, wantErr: ErrUnsupportedAlgorithm,
			value: Sign(secret, Payload{Algorithm: "HMAC-SHA1", UserID: "1"}),
		},
		{
			name: "lower-case algorithm", secrets: []string{secret},
			value: Sign(secret, Payload{Algorithm: "hmac-sha256", UserID: "1", IssuedAt: 5}),
			want:  Payload{Algorithm: "hmac-sha256", UserID: "1", IssuedAt: 5},
		},
		{
			name: "tampered payload", secrets: []string{secret}, wantErr: ErrBadSignature,
			value: sig + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"algorithm":"HMAC-SHA256","user_id":"1"}`)),
		},
		{name: "tampered signature", value: "A" + valid[1:], secrets: []string{secret}, wantErr: ErrBadSignature},
		{name: "short signature", value: sig[:40] + "." + payloadB64, secrets: []string{secret}, wantErr: ErrBadSignature},
		{name: "too long", value: valid + strings.Repeat("A", MaxLength), secrets: []string{secret}, wantErr: ErrTooLong},
		{name: "empty", value: "", secrets: []string{secret}, wantErr: ErrMalformed},
		{name: "one part", value: payloadB64, secrets: []string{secret}, wantErr: ErrMalformed},
		{name: "three parts", value: valid + ".x", secrets: []string{secret}, wantErr: ErrMalformed},
		{name: "bad base64 signature", value: "**." + payloadB64, secrets: []string{secret}, wantErr: ErrMalformed},
		{name: "newline in signature", value: sig[:10] + "\n" + sig[10:] + "." + payloadB64, secrets: []string{secret}, wantErr: ErrMalformed},
		{name: "payload altered to bad base64", value: signRaw("x")[:44] + "!!!!", secrets: []string{secret}, wantErr: ErrBadSignature},
		{name: "signed bad base64 payload", value: signSegment(secret, "!!!!"), secrets: []string{secret}, wantErr: ErrMalformed},
		{name: "signed payload with bad base64 length", value: signSegment(secret, "A"), secrets: []string{secret}, wantErr: ErrMalformed},
		{name: "bad JSON", value: signRaw(`{"algorithm":`), secrets: []string{secret}, wantErr: ErrMalformed},
		{name: "JSON array", value: signRaw(`[1,2]`), secrets: []string{secret}, wantErr: ErrMalformed},
		{
			name: "numeric user_id beyond 2^53 kept exact", secrets: []string{secret},
			value: signRaw(`{"algorithm":"HMAC-SHA256","user_id":27640875392278831,"issued_at":1634206592}`),
			want:  Payload{Algorithm: "HMAC-SHA256", UserID: "27640875392278831", IssuedAt: 1634206592},
		},
		{
			name: "Basic Display deauthorize sample", secrets: []string{secret},
			value: signRaw(`{"user_id":"0","algorithm":"HMAC-SHA256","issued_at":1634206592}`),
			want:  Payload{Algorithm: "HMAC-SHA256", UserID: "0", IssuedAt: 1634206592},
		},
		{
			name: "fractional user_id", secrets: []string{secret}, wantErr: ErrMalformed,
			value: signRaw(`{"algorithm":"HMAC-SHA256","user_id":1.5}`),
		},
		{
			name: "negative user_id", secrets: []string{secret}, wantErr: ErrMalformed,
			value: signRaw(`{"algorithm":"HMAC-SHA256","user_id":-1}`),
		},
		{
			name: "missing user_id", secrets: []string{secret}, wantErr: ErrMissingUserID,
			value: signRaw(`{"algorithm":"HMAC-SHA256","issued_at":1}`),
		},
		{
			name: "null user_id", secrets: []string{secret}, wantErr: ErrMissingUserID,
			value: signRaw(`{"algorithm":"HMAC-SHA256","user_id":null}`),
		},
		{
			name: "issued_at as string", secrets: []string{secret}, wantErr: ErrMalformed,
			value: signRaw(`{"algorithm":"HMAC-SHA256","user_id":"1","issued_at":"1"}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.value, tt.secrets...)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse() error = %v, want %v", err, tt.wantErr)
				}
				assertQuiet(t, err, tt.value, tt.secrets)
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if got != tt.want {
				t.Fatalf("Parse() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMissingUserIDIsMalformed(t *testing.T) {
	if !errors.Is(ErrMissingUserID, ErrMalformed) {
		t.Fatal("ErrMissingUserID should also match ErrMalformed")
	}
}

func TestSignForms(t *testing.T) {
	p := Payload{UserID: "42", IssuedAt: 1}
	unpadded, padded := Sign(secret, p), SignPadded(secret, p)
	if strings.Contains(unpadded, "=") {
		t.Errorf("Sign() = %q, want no padding", unpadded)
	}
	if !strings.Contains(padded, "=") {
		t.Errorf("SignPadded() = %q, want padding", padded)
	}
	for _, v := range []string{unpadded, padded} {
		got, err := Parse(v, secret)
		if err != nil || got.Algorithm != Algorithm || got.UserID != "42" {
			t.Errorf("Parse(%q) = %+v, %v; want algorithm filled and user 42", v, got, err)
		}
	}
}

// assertQuiet fails if an error message repeats the input or a secret.
func assertQuiet(t *testing.T, err error, value string, secrets []string) {
	t.Helper()
	msg := err.Error()
	if len(value) > 8 && strings.Contains(msg, value) {
		t.Errorf("error %q echoes the input", msg)
	}
	if sig, payload, ok := strings.Cut(value, "."); ok {
		for _, part := range []string{sig, payload} {
			if len(part) > 8 && strings.Contains(msg, part) {
				t.Errorf("error %q echoes part of the input", msg)
			}
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q contains a secret", msg)
		}
	}
}
