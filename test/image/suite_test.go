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
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
)

// What the suite's builds are given, and the labels must then say.
const (
	testVersion  = "v0.0.0-imagetest"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	testName     = "localhost/igconnect/manager:imagetest"
	// testEpoch is 2026-01-02T03:04:05Z.
	testEpoch = 1767323045
)

var (
	repoRoot string
	binDir   string
	workDir  string
	// buildA and buildB are the --out folders of two builds of the same tree.
	buildA, buildB string
	// k8s reaches the suite's control plane as an admin.
	controlPlane *devenv.ControlPlane
	k8s          client.Client
	ctx          context.Context
)

func TestImage(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "igconnect manager image")
}

var _ = BeforeSuite(func() {
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	wd, err := os.Getwd()
	Expect(err).NotTo(HaveOccurred())
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	binDir = os.Getenv("IGCONNECT_BIN")
	if binDir == "" {
		binDir = filepath.Join(repoRoot, "bin")
	}
	workDir = GinkgoT().TempDir()

	By("building the image twice, as `make image` does, into two folders")
	builder := filepath.Join(workDir, "image-builder")
	run(repoRoot, "go", "build", "-o", builder, "./hack/image")
	buildA, buildB = filepath.Join(workDir, "build-a"), filepath.Join(workDir, "build-b")
	for _, out := range []string{buildA, buildB} {
		start := time.Now()
		run(repoRoot, builder, "--out", out, "--name", testName, "--version", testVersion,
			"--revision", testRevision, "--source-date-epoch", strconv.Itoa(testEpoch))
		GinkgoWriter.Printf("image built into %s in %s\n", out, time.Since(start).Round(time.Millisecond))
	}

	loc, err := devenv.Locate(repoRoot)
	Expect(err).NotTo(HaveOccurred())
	var stopControlPlane func() error
	controlPlane, stopControlPlane, err = loc.StartControlPlane(workDir)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(stopControlPlane()).To(Succeed()) })
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(igv1.AddToScheme(scheme)).To(Succeed())
	k8s, err = client.New(controlPlane.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

// run runs a command in dir and fails with its output when it fails.
func run(dir, name string, args ...string) {
	GinkgoHelper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "%s %v:\n%s", name, args, out)
}
