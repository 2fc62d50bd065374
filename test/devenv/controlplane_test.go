package devenv_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/igconnect/igconnect/internal/devenv"
)

// TestControlPlaneKubeconfigAndApplyCRDs starts a control plane without CRDs, installs the
// CRD the way `make run` does for a cluster it did not start, and checks the kubeconfig it
// wrote reaches the API server as an admin.
func TestControlPlaneKubeconfigAndApplyCRDs(t *testing.T) {
	cp, kubeconfig := startControlPlane(t)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cp.Stop()
		}
	})

	info, err := os.Stat(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v, want 0600: it holds the admin's key", info.Mode().Perm())
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = apiextensionsv1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// An admin may do anything, Secrets included.
	if err := c.List(ctx, &corev1.SecretList{}, client.InNamespace("default")); err != nil {
		t.Fatalf("the kubeconfig's user cannot list Secrets: %v", err)
	}

	crds := filepath.Join("..", "..", "config", "crd", "bases")
	for range 2 { // server-side apply is idempotent
		if err := devenv.ApplyCRDs(ctx, cp.Config, "igconnect-dev", crds); err != nil {
			t.Fatal(err)
		}
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := c.Get(ctx, client.ObjectKey{Name: "instagramconnections.instagram.igconnect.dev"}, crd); err != nil {
		t.Fatal(err)
	}

	if err := cp.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if _, err := os.Stat(kubeconfig); !os.IsNotExist(err) {
		t.Errorf("the kubeconfig of a stopped control plane should be removed, stat: %v", err)
	}
}

// startControlPlane starts a control plane without CRDs from KUBEBUILDER_ASSETS and returns
// it with the path of the admin kubeconfig it wrote. The caller stops it.
func startControlPlane(t *testing.T) (*devenv.ControlPlane, string) {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, or `make envtest` and " +
			"KUBEBUILDER_ASSETS=$PWD/bin/k8s go test ./test/devenv/")
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cp, err := devenv.StartControlPlane(devenv.ControlPlaneOptions{AssetsDir: assets, KubeconfigPath: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	return cp, kubeconfig
}
