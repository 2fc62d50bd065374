package main

import (
	"slices"
	"strings"
	"testing"
)

func TestWatchNamespacesFlag(t *testing.T) {
	pod := env(map[string]string{"POD_NAMESPACE": "igconnect-system"})
	parse := func(args ...string) (options, error) {
		o, _, err := parseOptions(append([]string{"--public-url", "https://ig.example.com"}, args...), pod)
		return o, err
	}

	o, err := parse()
	if err != nil || o.watchNamespaces != nil || cacheNamespaces(o.watchNamespaces) != nil {
		t.Fatalf("without the flag: %v, watched %v; want every namespace (nil)", err, o.watchNamespaces)
	}

	o, err = parse("--watch-namespaces", " team-a, team-b ")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.watchNamespaces, []string{"team-a", "team-b"}) {
		t.Errorf("watched %q", o.watchNamespaces)
	}
	if o.connectionNamespace != "team-a" || o.namespace != "igconnect-system" {
		t.Errorf("connection namespace %q, own namespace %q: want the first watched one and the pod's",
			o.connectionNamespace, o.namespace)
	}
	if c := cacheNamespaces(o.watchNamespaces); len(c) != 2 {
		t.Errorf("cache namespaces %v", c)
	} else if _, ok := c["team-b"]; !ok {
		t.Errorf("cache namespaces %v lack team-b", c)
	}

	o, err = parse("--watch-namespaces=team-a,team-b", "--connection-namespace=team-b")
	if err != nil || o.connectionNamespace != "team-b" {
		t.Errorf("an explicit watched connection namespace: %v, %q", err, o.connectionNamespace)
	}
}

func TestWatchNamespacesFlagRefusesBadInput(t *testing.T) {
	for value, want := range map[string][]string{
		"team-a,,team-b":                {"entry 2 is empty"},
		"team-a,":                       {"entry 2 is empty"},
		"team-a,team-a":                 {`"team-a" is listed twice`},
		"Team_A,team-b":                 {`"Team_A" is not a namespace name`},
		"a.b":                           {`"a.b" is not a namespace name`},
		"ok," + strings.Repeat("x", 64): {"is not a namespace name", "63"},
		"team-a,team-a,BAD":             {"listed twice", `"BAD" is not a namespace name`},
	} {
		_, _, err := parseOptions([]string{"--public-url", "https://ig.example.com", "--watch-namespaces", value},
			env(nil))
		if err == nil {
			t.Errorf("--watch-namespaces %q accepted", value)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("--watch-namespaces %q: error %q does not say %q", value, err, w)
			}
		}
	}
}

func TestConnectionNamespaceMustBeWatched(t *testing.T) {
	_, _, err := parseOptions([]string{"--public-url", "https://ig.example.com", "--watch-namespaces", "team-a,team-b",
		"--connection-namespace", "igconnect-system"}, env(nil))
	want := `--connection-namespace "igconnect-system" must be one of --watch-namespaces (team-a, team-b)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one saying %s", err, want)
	}
}
