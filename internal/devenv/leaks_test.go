package devenv

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/igconnect/igconnect/internal/sandbox"
)

// TestLeakScannerFindsEveryForm: a secret is found raw, URL-escaped, and base64-encoded at
// every offset (a Secret's data in JSON), and a report never repeats it.
func TestLeakScannerFindsEveryForm(t *testing.T) {
	token := "IGAA" + strings.Repeat("Zm9vYmFy-_", 6) + "xyz"
	secret := "app secret/with+plus"
	s := NewLeakScanner(sandbox.IssuedSecrets{Tokens: []string{token}, AppSecrets: []string{secret}})
	if s.Values != 2 {
		t.Fatalf("Values = %d, want 2", s.Values)
	}
	texts := map[string]string{
		"raw":     "line one\nrefreshing with access_token=" + token + " now\n",
		"escaped": "client_secret=" + url.QueryEscape(secret),
	}
	for pad := range 3 {
		b, err := json.Marshal(&corev1.Secret{Data: map[string][]byte{"t": []byte(strings.Repeat("x", pad) + token + "tail")}})
		if err != nil {
			t.Fatal(err)
		}
		texts["secret-json-"+string(rune('0'+pad))] = string(b)
	}
	leaks := s.ScanAll(texts)
	found := map[string]string{}
	for _, l := range leaks {
		found[l.Source] = l.Encoding
		if strings.Contains(l.String(), token) || strings.Contains(l.String(), secret) {
			t.Errorf("the report repeats the secret: %s", l)
		}
	}
	want := map[string]string{"raw": "raw", "escaped": "url-escaped", "secret-json-0": "base64",
		"secret-json-1": "base64", "secret-json-2": "base64"}
	for src, enc := range want {
		if found[src] != enc {
			t.Errorf("%s: found %q, want %q (all: %v)", src, found[src], enc, leaks)
		}
	}
	if l := s.Scan("raw", texts["raw"]); len(l) != 1 || l[0].Line != 2 || l[0].Kind != "token" {
		t.Errorf("raw scan = %v, want one token on line 2", l)
	}
	if l := s.Scan("clean", "IGAA is a prefix; "+token[:20]+" is only part of it"); len(l) != 0 {
		t.Errorf("false positives: %v", l)
	}
	if s.Scanned != 7 || s.Bytes == 0 {
		t.Errorf("Scanned %d texts (%d bytes), want 7", s.Scanned, s.Bytes)
	}
}

// TestLeakScannerIgnoresShortValues: values too short to be secrets would match anything.
func TestLeakScannerIgnoresShortValues(t *testing.T) {
	s := &LeakScanner{}
	s.Add("code", "abc", "", "abcdefg")
	if s.Values != 0 || len(s.Scan("x", "abcdefg abc")) != 0 {
		t.Fatalf("short values scanned: %d", s.Values)
	}
}
