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

package image

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/igconnect/igconnect/internal/devenv"
)

// unpackedManager writes the manager of this machine's platform, as its layer holds it, to
// a file and returns its path.
func unpackedManager() string {
	GinkgoHelper()
	pi, ok := readImages(buildA)["linux/"+runtime.GOARCH]
	if !ok {
		Skip("the image has no manager for linux/" + runtime.GOARCH + ", this machine's platform")
	}
	path := filepath.Join(GinkgoT().TempDir(), "manager")
	Expect(os.WriteFile(path, pi.files["manager"].data, 0o755)).To(Succeed())
	return path
}

var _ = Describe("the manager unpacked from its layer", func() {
	It("starts and prints its flags with --help", func() {
		out, err := exec.CommandContext(ctx, unpackedManager(), "--help").CombinedOutput()
		// flag's --help ends the program with status 2 after the usage; a binary that does not
		// run here (wrong platform, a missing loader) fails to start instead.
		var exit *exec.ExitError
		if err != nil {
			Expect(errors.As(err, &exit)).To(BeTrue(), "the manager did not start: %v\n%s", err, out)
			Expect(exit.ExitCode()).To(Equal(2), string(out))
		}
		Expect(string(out)).To(ContainSubstring("-health-probe-bind-address"))
		Expect(string(out)).To(ContainSubstring("-instagram-api-url"))
	})

	It("makes an imported token's connection Ready against the local control plane", func() {
		const ns = "image-binary"
		createNamespace(ns)
		sb := startSandbox(ns)
		mgr, err := devenv.StartManager(ctx, devenv.ManagerOptions{
			Binary:      unpackedManager(),
			Kubeconfig:  controlPlane.KubeconfigPath,
			LogFile:     filepath.Join(workDir, ns+"-manager.log"),
			Namespace:   ns,
			SandboxURL:  sb.URL,
			MetricsAddr: "0",
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			Expect(mgr.Stop()).To(Succeed())
			Expect(mgr.ExitErr()).NotTo(HaveOccurred(), "the manager should exit cleanly on SIGTERM")
		})
		expectImportedTokenReady(ns, sb)
	})
})
