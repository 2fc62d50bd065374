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
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/igconnect/igconnect/test/deploy/deploycheck"
)

// repoRoot is the repository, seen from this package's directory (where go test runs).
var repoRoot = filepath.Join("..", "..")

var (
	env    *deploycheck.Env
	ctx    context.Context
	cancel context.CancelFunc
)

func TestDeploy(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Deployment manifests")
}

var _ = BeforeSuite(func() {
	ctx, cancel = context.WithCancel(context.Background())
	// The CRD is installed first, for real, as `make deploy` would find it after `make
	// install`; the rendered objects, the CRD among them, are then applied on top.
	var err error
	env, err = deploycheck.StartEnv(filepath.Join(repoRoot, "config", "crd", "bases"))
	Expect(err).NotTo(HaveOccurred(), "start the control plane: run `make envtest` or set KUBEBUILDER_ASSETS")
})

var _ = AfterSuite(func() {
	cancel()
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})
