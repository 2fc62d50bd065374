package devenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// apiServerCertDirName is the folder, next to the kubeconfig, where StopAPIServer keeps
// kube-apiserver's serving certificates for StartAPIServer.
const apiServerCertDirName = "kube-apiserver-certs"

// StopAPIServer stops kube-apiserver (SIGTERM, as envtest does) and leaves etcd running, so
// that a test can see how clients ride out an API server outage. StartAPIServer brings it
// back with the same address, certificates and data.
//
// envtest keeps kube-apiserver's certificates in a temporary folder that its Stop removes;
// a restart would then mint a new serving CA, and every kubeconfig written so far would stop
// verifying the server. So before stopping, the folder is copied next to the kubeconfig
// (KubeconfigPath's folder, kube-apiserver-certs), and StartAPIServer starts from that copy.
// The client CA lives in memory and survives, so client certificates stay valid too.
func (c *ControlPlane) StopAPIServer() error {
	if c == nil || c.env == nil {
		return errors.New("devenv: the control plane is not running")
	}
	api := c.env.ControlPlane.APIServer
	keep := filepath.Join(filepath.Dir(c.KubeconfigPath), apiServerCertDirName)
	if api.CertDir != keep {
		if err := copyDir(api.CertDir, keep); err != nil {
			return fmt.Errorf("devenv: keep kube-apiserver's certificates: %w", err)
		}
	}
	if err := api.Stop(); err != nil {
		return fmt.Errorf("devenv: stop kube-apiserver: %w", err)
	}
	api.CertDir = keep
	return nil
}

// StartAPIServer starts kube-apiserver again after StopAPIServer and waits until it is
// healthy.
func (c *ControlPlane) StartAPIServer() error {
	if c == nil || c.env == nil {
		return errors.New("devenv: the control plane is not running")
	}
	if err := c.env.ControlPlane.APIServer.Start(); err != nil {
		return fmt.Errorf("devenv: start kube-apiserver again: %w", err)
	}
	return nil
}

// copyDir copies the regular files of src into dst (created, mode 0700); kube-apiserver's
// certificate folder has no subfolders.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
