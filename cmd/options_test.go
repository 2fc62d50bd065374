package main

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseOptionsDefaults(t *testing.T) {
	o, _, err := parseOptions([]string{"--public-url", "https://ig.example.com/"}, env(map[string]string{"POD_NAMESPACE": "igconnect-system"}))
	if err != nil {
		t.Fatal(err)
	}
	if o.redirectURL != "https://ig.example.com/auth/instagram/callback" {
		t.Errorf("redirect URL = %q, want the public URL's callback path", o.redirectURL)
	}
	if o.namespace != "igconnect-system" || o.connectionNamespace != "igconnect-system" {
		t.Errorf("namespaces = %q/%q, want the pod's", o.namespace, o.connectionNamespace)
	}
	if o.callbackAddr != ":8082" || o.minRefreshAge.Hours() != 24 || o.validateInterval.Hours() != 24 ||
		o.rolloutRestartMinInterval.Minutes() != 1 {
		t.Errorf("defaults differ from the contract: callback %q, min refresh age %v, validate interval %v, rollout restart interval %v",
			o.callbackAddr, o.minRefreshAge, o.validateInterval, o.rolloutRestartMinInterval)
	}
}

func TestParseOptionsReportsEveryProblemWithoutSecrets(t *testing.T) {
	_, _, err := parseOptions([]string{"--public-url", "ig.example.com", "--min-refresh-age", "0s",
		"--max-concurrent-reconciles", "0", "--validate-interval", "10s", "--rollout-restart-min-interval", "0s"},
		env(map[string]string{"INSTAGRAM_CLIENT_SECRET": "very-secret-value"}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"--public-url must be an absolute http(s) URL", "--min-refresh-age",
		"--max-concurrent-reconciles", "--validate-interval must be 0 (off) or at least 1m0s, got 10s",
		"--rollout-restart-min-interval", "INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "very-secret-value") {
		t.Error("the error leaks the app secret")
	}
}
