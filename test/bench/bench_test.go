package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSmoke runs every scenario at a tiny scale, so that `make test` keeps the benchmark
// working; `make bench` runs it at full scale. Timing figures are not judged here, since
// they depend on the machine; call counts, idle writes, expiries and logins are exact and
// are.
func TestSmoke(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{
		Scenarios:    map[string]bool{},
		N:            20,
		IdleN:        20,
		IdleWindow:   3 * time.Second,
		Logins:       20,
		FloorWorkers: 8,
		Rounds:       1,
		BinDir:       envOr("IGCONNECT_BIN", filepath.Join(root, "bin")),
		Assets:       envOr("KUBEBUILDER_ASSETS", filepath.Join(root, "bin", "k8s")),
		CRDDir:       filepath.Join(root, "config", "crd", "bases"),
		RBACDir:      filepath.Join(root, "config", "rbac"),
		WorkDir:      t.TempDir(),
		Timeout:      2 * time.Minute,
		Quiet:        !testing.Verbose(),
	}
	for _, s := range allScenarios {
		cfg.Scenarios[s] = true
	}
	for _, dir := range []string{cfg.BinDir, cfg.Assets} {
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("%v: run `make build envtest` (or `make test`), or set IGCONNECT_BIN and KUBEBUILDER_ASSETS", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := run(ctx, cfg)
	if res != nil {
		t.Log("\n" + res.Table())
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Failures() {
		t.Errorf("goal missed: %s", f)
	}
	if res.Conv == nil || res.Refresh == nil || res.Idle == nil || res.Logins == nil {
		t.Fatal("a scenario reported nothing")
	}
}
