// Package makefile tests the Makefile's own promises, by running make on it.
package makefile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stub writes an igconnect-dev into dir that, when run, leaves a file behind: the proof that
// something started the stack.
func stub(t *testing.T, dir string) (marker string) {
	t.Helper()
	marker = filepath.Join(dir, "igconnect-dev-ran")
	script := "#!/bin/sh\necho started > " + marker + "\n"
	if err := os.WriteFile(filepath.Join(dir, "igconnect-dev"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return marker
}

func makeDryRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-n"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDryRunOfRunOnlyPrints runs `make -n run` on the repository's Makefile with a bin folder
// that already holds an igconnect-dev (as after an earlier `make run`): make must print the
// build and start commands and run none of them.
func TestDryRunOfRunOnlyPrints(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on PATH")
	}
	// Read by the test itself so that `go test`'s cache is invalidated when the Makefile
	// changes (make's own reads are invisible to it).
	if _, err := os.ReadFile("../../Makefile"); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	marker := stub(t, bin)

	out := makeDryRun(t, "../..", "run", "LOCALBIN="+bin)

	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("`make -n run` started igconnect-dev; it must only print. Output:\n%s", out)
	}
	entries, err := os.ReadDir(bin)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("`make -n run` wrote into the bin folder: %v", names)
	}
	for _, want := range []string{"go build", filepath.Join(bin, "manager"), filepath.Join(bin, "igconnect-dev") + " --bin-dir"} {
		if !strings.Contains(out, want) {
			t.Errorf("`make -n run` does not print %q:\n%s", want, out)
		}
	}
}

// TestDryRunRunsLinesNamingMake shows the trap the run target avoids, so that the test above
// cannot pass for the wrong reason: make runs a recipe line that names $(MAKE) even under -n,
// and the stub notices.
func TestDryRunRunsLinesNamingMake(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on PATH")
	}
	dir := t.TempDir()
	marker := stub(t, dir)
	mk := "run:\n\t./igconnect-dev --make \"$(MAKE)\"\n"
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	makeDryRun(t, dir, "run")
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("a recipe line naming $(MAKE) did not run under make -n; the check above proves nothing")
	}
}
