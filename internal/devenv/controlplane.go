package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ControlPlaneOptions configures StartControlPlane.
type ControlPlaneOptions struct {
	// AssetsDir holds the etcd and kube-apiserver binaries (what KUBEBUILDER_ASSETS names;
	// `make envtest` builds them into bin/k8s). Required.
	AssetsDir string
	// CRDDirs are installed once the API server is up (config/crd/bases).
	CRDDirs []string
	// KubeconfigPath is where the admin kubeconfig is written (mode 0600). Required.
	KubeconfigPath string
	// Log, when set, receives etcd's and kube-apiserver's output.
	Log io.Writer
	// StartTimeout bounds the start of each component; zero means 60s, generous for a
	// loaded 2-core machine.
	StartTimeout time.Duration
}

// ControlPlane is a running local etcd and kube-apiserver.
type ControlPlane struct {
	env *envtest.Environment
	// Config reaches the API server as an admin (group system:masters).
	Config *rest.Config
	// KubeconfigPath is the admin kubeconfig file.
	KubeconfigPath string
}

// StartControlPlane starts etcd and kube-apiserver from opts.AssetsDir, installs the CRDs,
// creates an admin user and writes its kubeconfig.
func StartControlPlane(opts ControlPlaneOptions) (*ControlPlane, error) {
	if opts.AssetsDir == "" || opts.KubeconfigPath == "" {
		return nil, errors.New("devenv: the control plane needs AssetsDir and KubeconfigPath")
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(opts.AssetsDir, bin)); err != nil {
			return nil, fmt.Errorf("devenv: no %s in %s: run `make envtest` or point KUBEBUILDER_ASSETS "+
				"at a folder with etcd and kube-apiserver", bin, opts.AssetsDir)
		}
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    opts.AssetsDir,
		CRDDirectoryPaths:        opts.CRDDirs,
		ErrorIfCRDPathMissing:    len(opts.CRDDirs) > 0,
		UseExistingCluster:       ptr.To(false),
		ControlPlaneStartTimeout: timeout,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	// The paths are set here rather than found by envtest, which would prefer a
	// KUBEBUILDER_ASSETS of the environment over the folder the caller chose.
	env.ControlPlane.GetAPIServer().Path = filepath.Join(opts.AssetsDir, "kube-apiserver")
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(opts.AssetsDir, "etcd")}
	if opts.Log != nil {
		env.ControlPlane.APIServer.Out, env.ControlPlane.APIServer.Err = opts.Log, opts.Log
		env.ControlPlane.Etcd.Out, env.ControlPlane.Etcd.Err = opts.Log, opts.Log
	}
	if _, err := env.Start(); err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("devenv: start the control plane: %w", err)
	}
	cp := &ControlPlane{env: env, KubeconfigPath: opts.KubeconfigPath}

	admin, err := env.AddUser(envtest.User{Name: "igconnect-admin", Groups: []string{"system:masters"}},
		&rest.Config{QPS: 200, Burst: 400})
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("devenv: add the admin user: %w", err)
	}
	cp.Config = admin.Config()
	kubeconfig, err := admin.KubeConfig()
	if err == nil {
		err = os.MkdirAll(filepath.Dir(opts.KubeconfigPath), 0o755)
	}
	if err == nil {
		err = os.WriteFile(opts.KubeconfigPath, kubeconfig, 0o600)
	}
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("devenv: write the kubeconfig: %w", err)
	}
	return cp, nil
}

// Server returns the API server's URL.
func (c *ControlPlane) Server() string { return c.Config.Host }

// Stop stops kube-apiserver and etcd and removes their data; the kubeconfig file is removed
// too, since it names a server that no longer exists.
func (c *ControlPlane) Stop() error {
	if c == nil || c.env == nil {
		return nil
	}
	err := c.env.Stop()
	c.env = nil
	if c.KubeconfigPath != "" {
		_ = os.Remove(c.KubeconfigPath)
	}
	return err
}

// ApplyCRDs installs the CRDs in the YAML files of dirs into the cluster cfg reaches, with
// server-side apply (field manager fieldManager), and waits until each is established. It
// is what `make install` does with kubectl, for a cluster `make run` did not start.
func ApplyCRDs(ctx context.Context, cfg *rest.Config, fieldManager string, dirs ...string) error {
	scheme := runtime.NewScheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	var names []string
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return fmt.Errorf("devenv: no CRD files in %s", dir)
		}
		for _, f := range files {
			objs, err := readObjects(f)
			if err != nil {
				return err
			}
			for _, u := range objs {
				if u.GetKind() != "CustomResourceDefinition" {
					continue
				}
				u.SetManagedFields(nil)
				u.SetResourceVersion("")
				if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldManager),
					client.ForceOwnership); err != nil {
					return fmt.Errorf("devenv: apply CRD %s: %w", u.GetName(), err)
				}
				names = append(names, u.GetName())
			}
		}
	}
	for _, name := range names {
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true,
			func(ctx context.Context) (bool, error) {
				crd := &apiextensionsv1.CustomResourceDefinition{}
				if err := c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
					return false, client.IgnoreNotFound(err)
				}
				for _, cond := range crd.Status.Conditions {
					if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
						return true, nil
					}
				}
				return false, nil
			})
		if err != nil {
			return fmt.Errorf("devenv: CRD %s not established: %w", name, err)
		}
	}
	return nil
}

// readObjects decodes every document of a YAML file.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("devenv: read %s: %w", path, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}
