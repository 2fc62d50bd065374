package main

import (
	"path/filepath"
	"testing"
)

func TestParseFlagsDerivesTheCallbackAddressFromALocalPublicURL(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "127.0.0.1:8082"},
		{[]string{"--public-url", "http://localhost:9000/"}, "127.0.0.1:9000"},
		{[]string{"--public-url", "http://127.0.0.1"}, "127.0.0.1:80"},
		// Behind a tunnel or proxy the public URL's port says nothing about the local one.
		{[]string{"--public-url", "https://ig.example.com"}, ":8082"},
		{[]string{"--public-url", "https://ig.example.com", "--callback-bind-address", "127.0.0.1:7000"}, "127.0.0.1:7000"},
	} {
		o, err := parseFlags(tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if o.callbackAddr != tc.want {
			t.Errorf("%v: callback address %q, want %q", tc.args, o.callbackAddr, tc.want)
		}
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", "")
	o, err := parseFlags([]string{"--bin-dir", "/opt/ig/bin", "--public-url", "http://127.0.0.1:8082/"})
	if err != nil {
		t.Fatal(err)
	}
	if o.publicURL != "http://127.0.0.1:8082" {
		t.Errorf("public URL %q keeps its trailing slash", o.publicURL)
	}
	if o.namespace != "default" || o.connectionNS != "default" {
		t.Errorf("namespaces %q/%q, want default/default", o.namespace, o.connectionNS)
	}
	if o.assetsDir != filepath.Join("/opt/ig/bin", "k8s") {
		t.Errorf("assets %q, want <bin-dir>/k8s", o.assetsDir)
	}
	t.Setenv("KUBEBUILDER_ASSETS", "/opt/assets")
	if o, _ = parseFlags(nil); o.assetsDir != "/opt/assets" {
		t.Errorf("assets %q, want KUBEBUILDER_ASSETS", o.assetsDir)
	}
}

func TestParseFlagsRejectsABadPublicURL(t *testing.T) {
	for _, bad := range []string{"127.0.0.1:8082", "ftp://x", "http://"} {
		if _, err := parseFlags([]string{"--public-url", bad}); err == nil {
			t.Errorf("--public-url %q accepted", bad)
		}
	}
}

func TestConfiguredKubeconfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", "")
	if kc, _ := configuredKubeconfig(); kc != "" {
		t.Fatalf("no KUBECONFIG and no ~/.kube/config, got %q", kc)
	}
	t.Setenv("KUBECONFIG", "/a:/b")
	if kc, src := configuredKubeconfig(); kc != "/a:/b" || src != "KUBECONFIG" {
		t.Fatalf("got %q from %q", kc, src)
	}
}
