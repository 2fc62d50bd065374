package oauthstate

import (
	"bytes"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef")
	otherKey = []byte("fedcba9876543210fedcba9876543210")
	// epoch is the fake clocks' start; whole seconds, like the claims.
	epoch = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
)

// newTestSigner returns a Signer on a fake clock at epoch, and the clock.
func newTestSigner(t testing.TB, key []byte) (*Signer, *clocktesting.FakeClock) {
	t.Helper()
	clk := clocktesting.NewFakeClock(epoch)
	s, err := NewSigner(key, clk)
	if err != nil {
		t.Fatalf("NewSigner() error = %v", err)
	}
	return s, clk
}

func TestNewSignerRejects(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	if _, err := NewSigner(testKey[:31], clk); err == nil {
		t.Error("NewSigner() with a 31-byte key succeeded")
	}
	if _, err := NewSigner(nil, clk); err == nil {
		t.Error("NewSigner() with no key succeeded")
	}
	if _, err := NewSigner(testKey, nil); err == nil {
		t.Error("NewSigner() with no clock succeeded")
	}
}

// assertQuiet fails if an error message repeats any of secrets (values, cookies, keys).
func assertQuiet(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) > 8 && strings.Contains(err.Error(), s) {
			t.Errorf("error %q repeats sensitive input", err)
		}
	}
}

func TestDeriveKeyIsStablePerPurposeAndIndependent(t *testing.T) {
	a, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"), clocktesting.NewFakeClock(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"), clocktesting.NewFakeClock(time.Now()))
	other, _ := NewSigner([]byte("fedcba9876543210fedcba9876543210"), clocktesting.NewFakeClock(time.Now()))
	k := a.DeriveKey("p")
	if !bytes.Equal(k, b.DeriveKey("p")) {
		t.Error("two replicas with one key must derive the same key")
	}
	if bytes.Equal(k, a.DeriveKey("q")) || bytes.Equal(k, other.DeriveKey("p")) {
		t.Error("derived keys must differ per purpose and per root key")
	}
	for _, internal := range [][]byte{a.stateKey, a.ticketKey, a.browserKey} {
		if bytes.Equal(k, internal) {
			t.Error("a derived key must not equal an internal key")
		}
	}
}
