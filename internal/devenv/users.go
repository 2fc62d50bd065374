package devenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// AddUser creates a user of the control plane, authenticated by a client certificate, and
// writes its kubeconfig to path (mode 0600). Unlike the admin the user may do nothing until a
// role is bound to it, so a test can run the manager with exactly the RBAC of config/rbac.
func (c *ControlPlane) AddUser(name string, groups []string, path string) (*rest.Config, error) {
	if c == nil || c.env == nil {
		return nil, errors.New("devenv: the control plane is not running")
	}
	u, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, &rest.Config{QPS: 200, Burst: 400})
	if err != nil {
		return nil, fmt.Errorf("devenv: add user %s: %w", name, err)
	}
	kubeconfig, err := u.KubeConfig()
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, kubeconfig, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("devenv: write the kubeconfig of %s: %w", name, err)
	}
	return u.Config(), nil
}
