package devenv

import (
	"context"
	"errors"
	"io"
	"net/url"
	"regexp"
	"time"

	"github.com/igconnect/igconnect/internal/sandbox"
)

// sandboxAddrLine is what cmd/instagram-sandbox prints once it accepts connections.
var sandboxAddrLine = regexp.MustCompile(`^sandbox listening on (http://\S+)`)

// SandboxOptions configures StartSandbox.
type SandboxOptions struct {
	// Binary is bin/instagram-sandbox. Required.
	Binary string
	// LogFile receives the sandbox's output (one line per request, never a token). Required.
	LogFile string
	// Echo, when set, also receives the output, prefixed with "sandbox | ".
	Echo io.Writer
	// Listen is the address to listen on; empty means 127.0.0.1:0, a port the kernel picks.
	Listen string
	// Args are further flags: --long-lived-ttl, --min-refresh-age, --account, ...
	Args []string
}

// Sandbox is a running bin/instagram-sandbox.
type Sandbox struct {
	*Process
	// URL is the sandbox's base URL, http://127.0.0.1:PORT.
	URL string
	// Control drives it through its /sandbox/ control API.
	Control *SandboxClient
}

// StartSandbox starts the sandbox and waits until its control API answers. It serves the
// authorize page, the code exchange and the Graph endpoints on one address: point the
// manager's --instagram-authorize-url at URL+"/oauth/authorize" and its API and Graph URLs
// at URL (ManagerOptions.SandboxURL does that). The sandbox keeps its accounts and tokens in
// memory, so a restart (on another port, when Listen is port 0) starts from nothing.
func StartSandbox(ctx context.Context, o SandboxOptions) (*Sandbox, error) {
	listen := o.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	p, err := StartProcess(ctx, ProcessSpec{
		Name:      "sandbox",
		Path:      o.Binary,
		Args:      append([]string{"--listen", listen}, o.Args...),
		LogFile:   o.LogFile,
		Echo:      o.Echo,
		ReadyLine: sandboxAddrLine,
		StopGrace: 10 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	s := &Sandbox{Process: p, URL: p.ReadyMatch()[1]}
	s.Control = NewSandboxClient(s.URL)
	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		err := HTTPReady(s.URL + "/sandbox/healthz")(readyCtx)
		if err == nil {
			return s, nil
		}
		select {
		case <-readyCtx.Done():
			_ = p.Stop()
			return nil, errors.Join(errors.New("devenv: the sandbox's control API did not answer"), err)
		case <-time.After(readyPoll):
		}
	}
}

// ManagerOptions configures StartManager.
type ManagerOptions struct {
	// Binary is bin/manager. Required.
	Binary string
	// Kubeconfig is the kubeconfig file the manager uses (its KUBECONFIG). Required.
	Kubeconfig string
	// LogFile receives the manager's output. Required.
	LogFile string
	// Echo, when set, also receives the output, prefixed with "manager | ".
	Echo io.Writer
	// CallbackAddr is --callback-bind-address; empty means a free port on 127.0.0.1.
	CallbackAddr string
	// PublicURL is --public-url; empty means http://CallbackAddr.
	PublicURL string
	// ProbeAddr is --health-probe-bind-address; empty means a free port on 127.0.0.1.
	ProbeAddr string
	// MetricsAddr is --metrics-bind-address; empty means a free port on 127.0.0.1, "0" off.
	MetricsAddr string
	// Namespace is --namespace and, unless ConnectionNamespace is set,
	// --connection-namespace; empty means "default".
	Namespace string
	// ConnectionNamespace is --connection-namespace; empty means Namespace.
	ConnectionNamespace string
	// SandboxURL, when set, points the manager at a sandbox: its authorize, API and Graph
	// URLs, and (unless ClientID is set) the sandbox's default app.
	SandboxURL string
	// ClientID and ClientSecret are the operator's Instagram app, passed in the manager's
	// environment (never on its command line, which is logged). Empty with no SandboxURL
	// means the manager runs without an app of its own.
	ClientID, ClientSecret string
	// Args are further flags, e.g. --min-refresh-age or --zap-encoder=console.
	Args []string
	// Env is added to the manager's environment.
	Env []string
	// StopGrace is the wait between SIGTERM and SIGKILL; zero means DefaultStopGrace.
	StopGrace time.Duration
}

// Manager is a running bin/manager.
type Manager struct {
	*Process
	// PublicURL is the callback server's base URL as the manager announces it.
	PublicURL string
	// CallbackURL is the callback server's local base URL (http://CallbackAddr).
	CallbackURL string
	// ProbeURL is the base URL of /healthz and /readyz.
	ProbeURL string
	// MetricsURL is the base URL of /metrics; empty when metrics are off.
	MetricsURL string
}

// StartManager starts the manager and waits until its /readyz and the callback server's
// /healthz answer. Restart keeps the ports, so URLs stay valid across a restart.
func StartManager(ctx context.Context, o ManagerOptions) (*Manager, error) {
	var err error
	free := func(addr *string) {
		if err == nil && *addr == "" {
			*addr, err = FreeAddr()
		}
	}
	free(&o.CallbackAddr)
	free(&o.ProbeAddr)
	free(&o.MetricsAddr)
	if err != nil {
		return nil, err
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.ConnectionNamespace == "" {
		o.ConnectionNamespace = o.Namespace
	}
	m := &Manager{CallbackURL: "http://" + o.CallbackAddr, ProbeURL: "http://" + o.ProbeAddr}
	if o.MetricsAddr != "0" {
		m.MetricsURL = "http://" + o.MetricsAddr
	}
	m.PublicURL = o.PublicURL
	if m.PublicURL == "" {
		m.PublicURL = m.CallbackURL
	}

	args := []string{
		"--callback-bind-address", o.CallbackAddr,
		"--public-url", m.PublicURL,
		"--health-probe-bind-address", o.ProbeAddr,
		"--metrics-bind-address", o.MetricsAddr,
		"--namespace", o.Namespace,
		"--connection-namespace", o.ConnectionNamespace,
	}
	env := []string{"KUBECONFIG=" + o.Kubeconfig}
	if o.SandboxURL != "" {
		if _, perr := url.Parse(o.SandboxURL); perr != nil {
			return nil, perr
		}
		args = append(args,
			"--instagram-authorize-url", o.SandboxURL+"/oauth/authorize",
			"--instagram-api-url", o.SandboxURL,
			"--instagram-graph-url", o.SandboxURL)
		if o.ClientID == "" {
			o.ClientID, o.ClientSecret = sandbox.DefaultClientID, sandbox.DefaultClientSecret
		}
	}
	var unset []string
	if o.ClientID != "" {
		env = append(env, "INSTAGRAM_CLIENT_ID="+o.ClientID, "INSTAGRAM_CLIENT_SECRET="+o.ClientSecret)
	} else {
		// Credentials in the caller's shell must not turn a sandbox run into a real one.
		unset = append(unset, "INSTAGRAM_CLIENT_ID", "INSTAGRAM_CLIENT_SECRET")
	}
	args = append(args, o.Args...)

	ready := []ReadyCheck{HTTPReady(m.ProbeURL + "/readyz")}
	if o.CallbackAddr != "0" {
		ready = append(ready, HTTPReady(m.CallbackURL+"/healthz"))
	}
	p, err := StartProcess(ctx, ProcessSpec{
		Name:      "manager",
		Path:      o.Binary,
		Args:      args,
		Env:       append(env, o.Env...),
		Unset:     unset,
		LogFile:   o.LogFile,
		Echo:      o.Echo,
		Ready:     ready,
		StopGrace: o.StopGrace,
	})
	if err != nil {
		return nil, err
	}
	m.Process = p
	return m, nil
}

// StartURL returns the page that starts a login: <public-url>/auth/instagram/start.
func (m *Manager) StartURL() string { return m.PublicURL + "/auth/instagram/start" }
