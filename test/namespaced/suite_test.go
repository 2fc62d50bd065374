// Package namespaced tests the namespace-scoped install (docs/namespace-scoped.md) against
// the real API server: the built bin/manager runs with the flags of config/namespaced's
// Deployment, as its service account bound by exactly the Roles config/namespaced renders and
// nothing else, and must manage connections in the watched namespaces, leave every other
// namespace alone, and never be refused by RBAC while doing so.
//
// It needs the binaries (`make build`; $IGCONNECT_BIN or the repository's bin/) and the
// control plane (`make envtest`; $KUBEBUILDER_ASSETS or bin/k8s). `make test` provides both.
package namespaced

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
)

// The install config/namespaced describes: the operator's namespace and service account
// (config/default's), and a namespace the overlay grants nothing in.
const (
	operatorNamespace  = "igconnect-system"
	serviceAccountName = "igconnect-controller-manager"
	deploymentName     = "igconnect-controller-manager"
	unwatchedNamespace = "team-c"
)

var (
	repoRoot string
	binDir   string
	workDir  string
	ctx      context.Context

	controlPlane *devenv.ControlPlane
	// admin reads and writes the cluster as its administrator, uncached.
	admin client.Client
	// asManager is the manager's identity: a client with the service account's RBAC, whose
	// kubeconfig is managerKubeconfig.
	asManager         client.Client
	managerKubeconfig string
	// watched and connectionNamespace are the flags of config/namespaced's Deployment.
	watched             []string
	connectionNamespace string

	sb  *devenv.Sandbox
	mgr *devenv.Manager
)

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := igv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

func TestNamespaced(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "igconnect namespace-scoped")
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
	var stopControlPlane func() error
	controlPlane, stopControlPlane, err = loc.StartControlPlane(workDir)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(stopControlPlane()).To(Succeed()) })
	admin, err = client.New(controlPlane.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	objs := installRBAC()
	managerKubeconfig = filepath.Join(workDir, "manager.kubeconfig")
	cfg := addServiceAccountUser(managerKubeconfig)
	asManager, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	args := managerArgs(objs)
	watch := flagValue(args, "watch-namespaces")
	connectionNamespace = flagValue(args, "connection-namespace")
	watched = strings.Split(watch, ",")
	Expect(watched).To(HaveLen(2), "config/namespaced's example watches two namespaces")
	Expect(watched).NotTo(ContainElement(unwatchedNamespace))

	sb, err = devenv.StartSandbox(ctx, devenv.SandboxOptions{
		Binary:  filepath.Join(binDir, "instagram-sandbox"),
		LogFile: filepath.Join(workDir, "sandbox.log"),
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(sb.Stop()).To(Succeed()) })
	mgr, err = devenv.StartManager(ctx, devenv.ManagerOptions{
		Binary:              filepath.Join(binDir, "manager"),
		Kubeconfig:          managerKubeconfig,
		LogFile:             filepath.Join(workDir, "manager.log"),
		Namespace:           operatorNamespace,
		ConnectionNamespace: connectionNamespace,
		SandboxURL:          sb.URL,
		Args:                []string{"--watch-namespaces=" + watch, "--leader-elect"},
	})
	Expect(err).NotTo(HaveOccurred(), "the manager must start and get ready with only the namespaced Roles")
	DeferCleanup(func() {
		Expect(mgr.Stop()).To(Succeed())
		Expect(mgr.ExitErr()).NotTo(HaveOccurred(), "the manager should exit cleanly on SIGTERM")
	})
})

// On failure, show what the manager said.
var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() && mgr != nil {
		GinkgoWriter.Printf("\n===== manager log (last 200 lines of %s) =====\n%s\n", mgr.LogFile(), mgr.Tail(200))
	}
})

// installRBAC creates the operator's and the watched namespaces, the unwatched one, and the
// RBAC objects config/namespaced renders, exactly as rendered; it returns every rendered
// object.
func installRBAC() []*unstructured.Unstructured {
	GinkgoHelper()
	objs := renderOverlay()
	namespaces := []string{operatorNamespace, unwatchedNamespace}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && !slices.Contains(namespaces, ns) {
			namespaces = append(namespaces, ns)
		}
	}
	for _, ns := range namespaces {
		Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "ClusterRoleBinding":
			Fail("config/namespaced binds something cluster-wide: " + o.GetName())
		case "ServiceAccount", "Role", "RoleBinding", "ClusterRole":
			Expect(admin.Create(ctx, o.DeepCopy())).To(Succeed(), "create %s %s", o.GetKind(), o.GetName())
		}
	}
	return objs
}

// addServiceAccountUser creates a control-plane user that RBAC takes for the manager's
// service account (its user name and groups are the service account's), writes its
// kubeconfig to path and returns its config. Only the RoleBindings of config/namespaced
// name that service account.
func addServiceAccountUser(path string) *rest.Config {
	GinkgoHelper()
	cfg, err := controlPlane.AddUser(fmt.Sprintf("system:serviceaccount:%s:%s", operatorNamespace, serviceAccountName),
		[]string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace}, path)
	Expect(err).NotTo(HaveOccurred())
	return cfg
}

// renderOverlay builds config/namespaced in-process, as `kubectl kustomize` does.
func renderOverlay() []*unstructured.Unstructured {
	GinkgoHelper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(),
		filepath.Join(repoRoot, "config", "namespaced"))
	Expect(err).NotTo(HaveOccurred(), "kustomize build config/namespaced")
	resources := resMap.Resources()
	objs := make([]*unstructured.Unstructured, 0, len(resources))
	for _, r := range resources {
		b, err := r.MarshalJSON()
		Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{}
		Expect(u.UnmarshalJSON(b)).To(Succeed())
		objs = append(objs, u)
	}
	return objs
}

// managerArgs returns the arguments of the rendered Deployment's manager container.
func managerArgs(objs []*unstructured.Unstructured) []string {
	GinkgoHelper()
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == deploymentName {
			d := &appsv1.Deployment{}
			Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, d)).To(Succeed())
			return d.Spec.Template.Spec.Containers[0].Args
		}
	}
	Fail("config/namespaced renders no Deployment " + deploymentName)
	return nil
}

// flagValue returns the value of --name=value in args; it fails when the flag is absent.
func flagValue(args []string, name string) string {
	GinkgoHelper()
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	Fail(fmt.Sprintf("config/namespaced's Deployment has no --%s: %v", name, args))
	return ""
}
