package observability

import (
	"os"
	"os/exec"
	"testing"
)

// promtool returns the path of Prometheus's promtool. Where it is missing the test is
// skipped with a way to get it, except in CI (CI=true), where .ci/run installs it and a
// missing promtool is a failure, not a silent pass.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("promtool is not on PATH; .ci/run installs it (Debian package prometheus)")
	}
	t.Skip("promtool is not on PATH, so the alert rules and dashboard queries are not run: " +
		"apt-get install --no-install-recommends prometheus (Debian) provides it")
	return ""
}

// runPromtool runs promtool with args in dir and fails the test with its output.
func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %v: %v\n%s", args, err, out)
	}
	return string(out)
}
