// Package e2e tests igconnect end to end: the built bin/manager and bin/instagram-sandbox run
// as processes against a local control plane, and the tests act as a person would, through
// a browser's HTTP requests (and a real Chromium in browser_test.go), kubectl-like API calls
// and Meta's signed callbacks. The sandbox's control API tells what Instagram saw.
//
// It needs the binaries (`make build`; $IGCONNECT_BIN or the repository's bin/) and the
// control plane (`make envtest`; $KUBEBUILDER_ASSETS or bin/k8s). `make test` provides both.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
)

var (
	// repoRoot is the repository's top folder.
	repoRoot string
	// binDir holds manager and instagram-sandbox.
	binDir string
	// workDir holds the kubeconfig and every process's log.
	workDir string
	// controlPlane is the suite's local etcd and kube-apiserver.
	controlPlane *devenv.ControlPlane
	// k8s reads and writes the cluster as an admin, uncached.
	k8s client.Client
	// ctx is the suite's context, cancelled at its end.
	ctx context.Context
	// current is the stack the running spec uses, for the failure report.
	current *stack
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "igconnect end-to-end")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	wd, err := os.Getwd()
	Expect(err).NotTo(HaveOccurred())
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))

	loc, err := devenv.Locate(repoRoot, "manager", "instagram-sandbox")
	Expect(err).NotTo(HaveOccurred())
	binDir = loc.BinDir

	workDir = GinkgoT().TempDir()
	start := time.Now()
	var stopControlPlane func() error
	controlPlane, stopControlPlane, err = loc.StartControlPlane(workDir)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(stopControlPlane()).To(Succeed()) })
	GinkgoWriter.Printf("control plane up in %s; binaries from %s; logs in %s\n",
		time.Since(start).Round(time.Millisecond), binDir, workDir)

	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(igv1.AddToScheme(scheme)).To(Succeed())
	k8s, err = client.New(controlPlane.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

// On failure, show what the manager said and what the cluster recorded: a failed
// end-to-end test is otherwise hard to read.
var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() || current == nil {
		return
	}
	s := current
	var b strings.Builder
	fmt.Fprintf(&b, "\n===== manager log (last 200 lines of %s) =====\n%s\n", s.mgr.LogFile(), s.mgr.Tail(200))
	fmt.Fprintf(&b, "\n===== sandbox log (last 60 lines of %s) =====\n%s\n", s.sb.LogFile(), s.sb.Tail(60))
	fmt.Fprintf(&b, "\n===== events in %s =====\n", s.ns)
	events := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), events, client.InNamespace(s.ns)); err != nil {
		fmt.Fprintf(&b, "(list events: %v)\n", err)
	}
	for _, e := range events.Items {
		fmt.Fprintf(&b, "%s %s %s/%s %s: %s\n", e.CreationTimestamp.Format(time.RFC3339), e.Type,
			e.Regarding.Kind, e.Regarding.Name, e.Reason, e.Note)
	}
	fmt.Fprintf(&b, "\n===== connections in %s =====\n", s.ns)
	conns := &igv1.InstagramConnectionList{}
	if err := k8s.List(context.Background(), conns, client.InNamespace(s.ns)); err != nil {
		fmt.Fprintf(&b, "(list connections: %v)\n", err)
	}
	for _, c := range conns.Items {
		fmt.Fprintf(&b, "%s: user %q, conditions %+v, next refresh %v\n", c.Name, c.Status.UserID,
			c.Status.Conditions, c.Status.NextRefreshTime)
	}
	secrets := &corev1.SecretList{}
	if err := k8s.List(context.Background(), secrets, client.InNamespace(s.ns)); err == nil {
		fmt.Fprintf(&b, "\n===== Secrets in %s (keys only) =====\n", s.ns)
		for _, sec := range secrets.Items {
			keys := make([]string, 0, len(sec.Data))
			for k := range sec.Data {
				keys = append(keys, k)
			}
			fmt.Fprintf(&b, "%s: %v\n", sec.Name, keys)
		}
	}
	GinkgoWriter.Print(b.String())
})
