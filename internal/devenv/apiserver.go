package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// apiServerCertDirName is the folder, next to the kubeconfig, where StopAPIServer keeps
// kube-apiserver's serving certificates for StartAPIServer.
const apiServerCertDirName = "kube-apiserver-certs"

// apiServerStopGrace is how long kube-apiserver has to exit once it stopped listening.
// With clients watching it, it otherwise lingers for its request timeout (a minute) while
// the watches drain; clients see the outage from the moment the listener closed either way.
const apiServerStopGrace = 3 * time.Second

// StopAPIServer stops kube-apiserver and leaves etcd running, so that a test can see how
// clients ride out an API server outage. StartAPIServer brings it back with the same
// address, certificates and data.
//
// kube-apiserver gets SIGTERM; once it no longer accepts connections it has
// apiServerStopGrace to exit, then gets SIGKILL, as a crashed server would. (envtest's own
// Stop waits out the watches' drain, which takes a minute while a manager is connected.)
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
	addr := net.JoinHostPort(api.Address, api.Port)
	pid, err := apiServerPid(api.Port)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("devenv: stop kube-apiserver: %w", err)
	}
	// No caller's context to honour here: every wait is bounded by its own timeout.
	ctx := context.Background()
	if err := wait.PollUntilContextTimeout(ctx, readyPoll, 30*time.Second, true, func(context.Context) (bool, error) {
		return PortFree(addr), nil
	}); err != nil {
		return fmt.Errorf("devenv: kube-apiserver still listens on %s 30s after SIGTERM", addr)
	}
	if err := wait.PollUntilContextTimeout(ctx, readyPoll, apiServerStopGrace, true, func(context.Context) (bool, error) {
		return !processExists(pid), nil
	}); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	// envtest reaps the process and then only tidies up; until it has noticed, its Stop
	// fails to signal a process that is gone. The wait's own timeout error says less than
	// Stop's last one, which is what is reported.
	var stopErr error
	_ = wait.PollUntilContextTimeout(ctx, readyPoll, 10*time.Second, true, func(context.Context) (bool, error) {
		stopErr = api.Stop()
		return stopErr == nil, nil
	})
	if stopErr != nil {
		return fmt.Errorf("devenv: stop kube-apiserver: %w", stopErr)
	}
	api.CertDir = keep
	return nil
}

// apiServerPid finds the kube-apiserver serving on port among this user's processes.
// envtest keeps its process to itself.
func apiServerPid(port string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("devenv: find kube-apiserver: %w", err)
	}
	want := "--secure-port=" + port
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) == 0 || filepath.Base(args[0]) != "kube-apiserver" {
			continue
		}
		for _, a := range args[1:] {
			if a == want {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("devenv: no kube-apiserver process with %s", want)
}

// processExists reports whether pid exists, a zombie not yet reaped included.
func processExists(pid int) bool {
	_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return err == nil
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
