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

package helm

import (
	"context"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/igconnect/igconnect/test/deploy/deploycheck"
)

var (
	// repoRoot is the repository, seen from this package's directory (where go test runs).
	repoRoot = filepath.Join("..", "..")
	chartDir = filepath.Join(repoRoot, "charts", "igconnect")
)

var (
	env    *deploycheck.Env
	ctx    context.Context
	cancel context.CancelFunc
)

func TestHelm(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Helm chart")
}

var _ = BeforeSuite(func() {
	ctx, cancel = context.WithCancel(context.Background())
	// Besides igconnect's CRD, stand-ins for the Prometheus Operator's ServiceMonitor and
	// PrometheusRule (testdata/monitoring-crds: their names and versions, any content), so
	// that the API server takes those objects; their content is checked by the tests.
	var err error
	env, err = deploycheck.StartEnv(filepath.Join(repoRoot, "config", "crd", "bases"),
		filepath.Join("testdata", "monitoring-crds"))
	Expect(err).NotTo(HaveOccurred(), "start the control plane: run `make envtest` or set KUBEBUILDER_ASSETS")
})

var _ = AfterSuite(func() {
	cancel()
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// createNamespaces creates each namespace for real, unless it exists, the release namespace
// enforcing the restricted Pod Security Standard as docs/install.md tells users to label it.
// (Specs of different containers may use the same namespaces, in random order.)
func createNamespaces(release string, others ...string) {
	for _, name := range append([]string{release}, others...) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if name == release {
			ns.Labels = deploycheck.RestrictedNamespaceLabels
		}
		err := env.Client.Create(ctx, ns)
		ExpectWithOffset(1, client.IgnoreAlreadyExists(err)).To(Succeed(), "create namespace %s", name)
	}
}
