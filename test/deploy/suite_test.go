/*
Copyright 2026 The igconnect Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package deploy

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// repoRoot is the repository, seen from this package's directory (where go test runs).
var repoRoot = filepath.Join("..", "..")

var (
	testEnv   *envtest.Environment
	k8sClient client.Client
	warnings  = &warningRecorder{}
	ctx       context.Context
	cancel    context.CancelFunc
)

func TestDeploy(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Deployment manifests")
}

var _ = BeforeSuite(func() {
	ctx, cancel = context.WithCancel(context.Background())
	// The CRD is installed first, for real, as `make deploy` would find it after `make
	// install`; the rendered objects, the CRD among them, are then applied on top.
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(repoRoot, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start the control plane: run `make envtest` or set KUBEBUILDER_ASSETS")

	// Keep the API server's warnings: PodSecurity admission answers a workload that would
	// violate the namespace's policy with a warning, not a refusal.
	cfg.WarningHandlerWithContext = warnings
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(igv1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	cancel()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// warningRecorder keeps the warnings the API server sends (the Warning response header).
type warningRecorder struct {
	mu   sync.Mutex
	seen []string
}

// HandleWarningHeaderWithContext records one warning.
func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

// take returns the warnings recorded since the last call and forgets them.
func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.seen
	w.seen = nil
	return out
}

// podSecurityWarnings returns those of warnings that PodSecurity admission sent.
func podSecurityWarnings(warnings []string) []string {
	var out []string
	for _, w := range warnings {
		if strings.Contains(w, "PodSecurity") {
			out = append(out, w)
		}
	}
	return out
}
