package e2e

import (
	"os"
	"path/filepath"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/oauthstate"
)

// leakScan gathers, from every stack of the suite, what AfterSuite's leak scan needs that a
// stack's cleanup would destroy: the secrets its sandbox issued (the sandbox keeps them in
// memory), its state key, and its connections (deleted with the stack).
var leakScan = struct {
	mu      sync.Mutex
	scanner devenv.LeakScanner
	texts   map[string]string
}{texts: map[string]string{}}

// collectForLeakScan runs first in a stack's cleanup (startStack registers it last).
func collectForLeakScan(s *stack) {
	issued, err := s.sb.Control.Issued(ctx)
	Expect(err).NotTo(HaveOccurred(), "list the secrets the sandbox issued")
	texts, err := devenv.ClusterTexts(ctx, k8s)
	Expect(err).NotTo(HaveOccurred())
	key := &corev1.Secret{}
	keyErr := k8s.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "igconnect-state-key"}, key)
	leakScan.mu.Lock()
	defer leakScan.mu.Unlock()
	leakScan.scanner.AddIssued(issued)
	if keyErr == nil {
		leakScan.scanner.Add("state key", string(key.Data[oauthstate.SecretKey]))
	}
	for source, text := range texts {
		leakScan.texts[source+" (before "+s.ns+" ended)"] = text
	}
}

// No token, code, app secret or state key may appear in any manager's log, in any event,
// or in any connection (spec, annotations, status) of the whole suite.
var _ = AfterSuite(func() {
	texts, err := devenv.ClusterTexts(ctx, k8s)
	Expect(err).NotTo(HaveOccurred())
	logs, err := filepath.Glob(filepath.Join(workDir, "*manager*.log"))
	Expect(err).NotTo(HaveOccurred())
	for _, path := range logs {
		b, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		texts["log "+filepath.Base(path)] = string(b)
	}
	leakScan.mu.Lock()
	defer leakScan.mu.Unlock()
	for source, text := range leakScan.texts {
		texts[source] = text
	}
	leaks := leakScan.scanner.ScanAll(texts)
	GinkgoWriter.Printf("leak scan: %d texts (%d manager logs), %d secret values, %d findings\n", len(texts),
		len(logs), leakScan.scanner.Values, len(leaks))
	Expect(leaks).To(BeEmpty(), "secrets found in logs, events or connections")
})
