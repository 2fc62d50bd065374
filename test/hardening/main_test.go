// Package hardening is igconnect's fault and abuse suite. It runs the built bin/manager and
// bin/instagram-sandbox as processes against local control planes (internal/devenv) and
// does to them what production will: Instagram answering 5xx, hanging, throttling, sending
// broken bodies, revoking tokens; the manager killed mid-refresh; a leader dying; the API
// server going away; hostile requests on the callback server and hostile objects on the
// API. After each scenario it checks that every connection is consistent and no token was
// lost, and at the end it scans every log, event and status for secrets.
//
// It prints a summary of what it did, which RELIABILITY.md quotes. Run it with
//
//	make build envtest && KUBEBUILDER_ASSETS=$PWD/bin/k8s go test ./test/hardening/ -v -count=1
//
// IGCONNECT_LONG=1 runs more kill waves, more connections and the slow variants.
// IGCONNECT_HARDENING_REPORT=<file> also writes the summary to that file.
package hardening

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

var (
	// repoRoot is the repository's top folder.
	repoRoot = filepath.Clean(filepath.Join("..", ".."))
	// binDir holds manager and instagram-sandbox.
	binDir string
	// assetsDir holds etcd and kube-apiserver.
	assetsDir string
	// long is true under IGCONNECT_LONG=1.
	long = os.Getenv("IGCONNECT_LONG") == "1"
	// workRoot holds every cluster's kubeconfig and every process's log.
	workRoot string
)

func TestMain(m *testing.M) {
	flag.Parse()
	// The scenarios spend most of their time waiting for timers of the processes under
	// test, so they run side by side even on two cores; -parallel on the command line wins.
	if !flagSet("test.parallel") {
		_ = flag.Set("test.parallel", "8")
	}
	// The suite's own clients log nothing; the processes under test log to their files.
	ctrllog.SetLogger(logr.Discard())
	binDir = os.Getenv("IGCONNECT_BIN")
	if binDir == "" {
		binDir = filepath.Join(repoRoot, "bin")
	}
	binDir, _ = filepath.Abs(binDir)
	assetsDir = os.Getenv("KUBEBUILDER_ASSETS")
	if assetsDir == "" {
		assetsDir, _ = filepath.Abs(filepath.Join(repoRoot, "bin", "k8s"))
	}
	var err error
	workRoot, err = os.MkdirTemp("", "igconnect-hardening-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	// Each test that starts a cluster scans it for leaks when it ends (cluster.scanForLeaks).
	code := m.Run()
	summary := report.summary(time.Since(start))
	fmt.Print(summary)
	if path := os.Getenv("IGCONNECT_HARDENING_REPORT"); path != "" {
		_ = os.WriteFile(path, []byte(summary), 0o644)
	}
	if code == 0 {
		_ = os.RemoveAll(workRoot)
	} else {
		fmt.Printf("logs kept in %s\n", workRoot)
	}
	os.Exit(code)
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// requireBinaries fails t unless the binaries and the control plane are there.
func requireBinaries(t *testing.T) {
	t.Helper()
	for _, p := range []string{filepath.Join(binDir, "manager"), filepath.Join(binDir, "instagram-sandbox"),
		filepath.Join(assetsDir, "kube-apiserver"), filepath.Join(assetsDir, "etcd")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: run `make build envtest` (or `make test`), or set IGCONNECT_BIN and "+
				"KUBEBUILDER_ASSETS", p)
		}
	}
}

// testContext returns a context that ends with the test or after d.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// pick returns short in the default run and longer under IGCONNECT_LONG=1.
func pick[T any](short, longer T) T {
	if long {
		return longer
	}
	return short
}
