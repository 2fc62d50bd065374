// Command igconnect-dev is `make run` (CONTRACT §5): it runs igconnect on this machine so
// that a newcomer can click through an Instagram login in a browser.
//
// With no cluster configured (no KUBECONFIG and no ~/.kube/config) it builds the local
// control plane through `make envtest` when needed, starts it with the CRD installed and
// writes an admin kubeconfig; otherwise it installs the CRD into the configured cluster with
// server-side apply. Without INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET it starts the
// bundled Instagram sandbox and points the manager at it; with them, the manager talks to
// the real Instagram. It then runs bin/manager, prints the URL to open, the kubeconfig and a
// first command, and streams the manager's logs until Ctrl-C, which stops the manager, the
// sandbox and the control plane in that order.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/igconnect/igconnect/internal/devenv"
)

// fieldManager is the server-side apply field manager of the CRD install.
const fieldManager = "igconnect-dev"

// options are igconnect-dev's flags.
type options struct {
	publicURL, callbackAddr   string
	namespace, connectionNS   string
	binDir, assetsDir, crdDir string
	stateDir, makeCmd         string
	managerArgs, sandboxArgs  listFlag
}

// listFlag collects a repeatable string flag.
type listFlag []string

// String shows the values in usage output.
func (l *listFlag) String() string { return strings.Join(*l, " ") }

// Set adds one value.
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// out is where igconnect-dev talks to the person; the manager's log lines go there too.
var out = &lockedWriter{w: os.Stdout}

// lockedWriter keeps igconnect-dev's messages and the manager's log lines from interleaving
// mid-line.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes b whole.
func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// printf writes a message to the person. A write error is dropped: the terminal is the only
// place it could be reported to.
func (l *lockedWriter) printf(format string, args ...any) {
	_, _ = fmt.Fprintf(l, format, args...)
}

func say(format string, args ...any) {
	out.printf("igconnect-dev: "+format+"\n", args...)
}

func run(args []string) int {
	o, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "igconnect-dev:", err)
		return 2
	}

	// Output may go to a pipe (make run | tee) whose reader a Ctrl-C ends first: a failed
	// write must not kill igconnect-dev before it has stopped what it started.
	signal.Ignore(syscall.SIGPIPE)

	// The first SIGINT or SIGTERM starts an orderly stop; a second one hurries it (SIGKILL
	// instead of SIGTERM for the manager and the sandbox).
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hurry := make(chan struct{})
	go func() {
		<-sigs
		say("stopping (press Ctrl-C again to force)")
		cancel()
		<-sigs
		close(hurry)
	}()

	d := &devRun{o: o, hurry: hurry}
	err = d.start(ctx)
	if err == nil {
		err = d.wait(ctx)
	}
	d.stop()
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "igconnect-dev:", err)
		return 1
	}
	say("stopped")
	return 0
}

// parseFlags reads the flags and fills the defaults that depend on others.
func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("igconnect-dev", flag.ContinueOnError)
	fs.StringVar(&o.publicURL, "public-url", "http://127.0.0.1:8082", "The callback server's base URL, as the browser reaches it.")
	fs.StringVar(&o.callbackAddr, "callback-bind-address", "", "Where the callback server listens "+
		"(default: 127.0.0.1 and the port of a local --public-url, else :8082).")
	fs.StringVar(&o.namespace, "namespace", "default", "The manager's namespace (state key Secret).")
	fs.StringVar(&o.connectionNS, "connection-namespace", "", "Where logins create connections (default: --namespace).")
	fs.StringVar(&o.binDir, "bin-dir", "bin", "Folder with manager and instagram-sandbox (`make build`).")
	fs.StringVar(&o.assetsDir, "assets", "", "Folder with etcd and kube-apiserver "+
		"(default: $KUBEBUILDER_ASSETS, else <bin-dir>/k8s, built by `make envtest`).")
	fs.StringVar(&o.crdDir, "crd-dir", filepath.Join("config", "crd", "bases"), "Folder with the CRD manifests.")
	fs.StringVar(&o.stateDir, "state-dir", filepath.Join("tmp", "igconnect-dev"), "Folder for logs and the kubeconfig.")
	fs.StringVar(&o.makeCmd, "make", "make", "The make command that runs `envtest`.")
	fs.Var(&o.managerArgs, "manager-arg", "An extra flag for bin/manager (repeatable), e.g. --manager-arg=--min-refresh-age=1m.")
	fs.Var(&o.sandboxArgs, "sandbox-arg", "An extra flag for bin/instagram-sandbox (repeatable), "+
		"e.g. --sandbox-arg=--account=acme:17841400000000001.")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	u, err := url.Parse(o.publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, fmt.Errorf("--public-url must be an absolute http(s) URL, got %q", o.publicURL)
	}
	o.publicURL = strings.TrimRight(o.publicURL, "/")
	if o.callbackAddr == "" {
		o.callbackAddr = ":8082"
		if host := u.Hostname(); host == "localhost" || net.ParseIP(host).IsLoopback() {
			port := u.Port()
			if port == "" {
				port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
			}
			o.callbackAddr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	if o.connectionNS == "" {
		o.connectionNS = o.namespace
	}
	if o.assetsDir == "" {
		o.assetsDir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if o.assetsDir == "" {
		o.assetsDir = filepath.Join(o.binDir, "k8s")
	}
	for _, p := range []*string{&o.binDir, &o.assetsDir, &o.crdDir, &o.stateDir} {
		if *p, err = filepath.Abs(*p); err != nil {
			return o, err
		}
	}
	return o, nil
}

// devRun is one `make run`: what it started, so that stop can undo it in order.
type devRun struct {
	o     options
	hurry <-chan struct{}

	controlPlane *devenv.ControlPlane
	sandbox      *devenv.Sandbox
	manager      *devenv.Manager
	kubeconfig   string // what to tell the person: a path, or KUBECONFIG's value
	clusterDesc  string
}

// start brings everything up and prints how to use it.
func (d *devRun) start(ctx context.Context) error {
	o := d.o
	for _, bin := range []string{"manager", "instagram-sandbox"} {
		if _, err := os.Stat(filepath.Join(o.binDir, bin)); err != nil {
			return fmt.Errorf("no %s in %s: run `make build` (or `make run`, which builds it)", bin, o.binDir)
		}
	}
	if err := os.MkdirAll(o.stateDir, 0o755); err != nil {
		return err
	}
	if !devenv.PortFree(o.callbackAddr) {
		return fmt.Errorf("the callback server's address %s is in use (another `make run`?): stop that, or choose "+
			"another port with --public-url http://127.0.0.1:PORT", o.callbackAddr)
	}

	clientID, clientSecret := strings.TrimSpace(os.Getenv("INSTAGRAM_CLIENT_ID")), strings.TrimSpace(os.Getenv("INSTAGRAM_CLIENT_SECRET"))
	if (clientID == "") != (clientSecret == "") {
		return errors.New("set both INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET for the real Instagram, or neither for the sandbox")
	}

	if err := d.startCluster(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	mo := devenv.ManagerOptions{
		Binary:              filepath.Join(o.binDir, "manager"),
		Kubeconfig:          d.kubeconfigForManager(),
		LogFile:             filepath.Join(o.stateDir, "manager.log"),
		Echo:                out,
		CallbackAddr:        o.callbackAddr,
		PublicURL:           o.publicURL,
		Namespace:           o.namespace,
		ConnectionNamespace: o.connectionNS,
		ClientID:            clientID,
		ClientSecret:        clientSecret,
		Args:                append([]string{"--zap-encoder=console", "--zap-time-encoding=iso8601"}, o.managerArgs...),
	}
	instagramDesc := "the real Instagram (INSTAGRAM_CLIENT_ID is set); register " + o.publicURL +
		"/auth/instagram/callback as a valid OAuth redirect URI of your app"
	if clientID == "" {
		say("no INSTAGRAM_CLIENT_ID/INSTAGRAM_CLIENT_SECRET: starting the bundled Instagram sandbox (not Instagram)")
		sb, err := devenv.StartSandbox(ctx, devenv.SandboxOptions{
			Binary:  filepath.Join(o.binDir, "instagram-sandbox"),
			LogFile: filepath.Join(o.stateDir, "sandbox.log"),
			Args:    o.sandboxArgs,
		})
		if err != nil {
			return err
		}
		d.sandbox = sb
		mo.SandboxURL = sb.URL
		instagramDesc = "the igconnect sandbox at " + sb.URL + " (a local stand-in: no real account, nothing reaches Instagram)"
		if accounts, err := sb.Control.Accounts(ctx); err == nil && len(accounts) > 0 {
			names := make([]string, len(accounts))
			for i, a := range accounts {
				names[i] = "@" + a.Username
			}
			instagramDesc += "\n                 accounts to log in with: " + strings.Join(names, ", ")
		}
	}

	say("starting the manager (logs below, also in %s)", mo.LogFile)
	m, err := devenv.StartManager(ctx, mo)
	if err != nil {
		return err
	}
	d.manager = m

	kcmd := "kubectl get igconn -A"
	if d.kubeconfig != "" {
		kcmd = "KUBECONFIG=" + d.kubeconfig + " " + kcmd
	}
	bar := strings.Repeat("─", 78)
	out.printf("\n%s\n igconnect is running\n\n"+
		"   Open:        %s\n"+
		"   Instagram:   %s\n"+
		"   Cluster:     %s\n"+
		"   Kubeconfig:  %s\n"+
		"   Try:         %s\n"+
		"   Logs:        %s\n"+
		"   Stop:        Ctrl-C\n%s\n\n",
		bar, m.StartURL(), instagramDesc, d.clusterDesc, d.kubeconfigDesc(), kcmd, o.stateDir, bar)
	return nil
}

// startCluster uses the configured cluster, or starts the local control plane.
func (d *devRun) startCluster(ctx context.Context) error {
	if kc, source := configuredKubeconfig(); kc != "" {
		cfg, desc, err := loadKubeconfig(kc)
		if err != nil {
			return fmt.Errorf("the cluster of %s: %w (unset KUBECONFIG and move ~/.kube/config aside to use a local "+
				"control plane instead)", source, err)
		}
		say("using the cluster of %s: %s", source, desc)
		if err := devenv.ApplyCRDs(ctx, cfg, fieldManager, d.o.crdDir); err != nil {
			return fmt.Errorf("install the CRD into that cluster: %w", err)
		}
		say("CRD installed (server-side apply)")
		d.clusterDesc = desc + " (from " + source + ")"
		if source == "KUBECONFIG" {
			d.kubeconfig = kc
		}
		return nil
	}

	say("no cluster configured (no KUBECONFIG, no ~/.kube/config): starting a local control plane")
	if err := d.buildControlPlane(ctx); err != nil {
		return err
	}
	start := time.Now()
	cpLog, err := os.OpenFile(filepath.Join(d.o.stateDir, "controlplane.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	cp, err := devenv.StartControlPlane(devenv.ControlPlaneOptions{
		AssetsDir:      d.o.assetsDir,
		CRDDirs:        []string{d.o.crdDir},
		KubeconfigPath: filepath.Join(d.o.stateDir, "kubeconfig"),
		Log:            cpLog,
	})
	if err != nil {
		_ = cpLog.Close() // the start failure is the error to report
		return err
	}
	d.controlPlane = cp
	d.kubeconfig = cp.KubeconfigPath
	d.clusterDesc = "local control plane (etcd and kube-apiserver) at " + cp.Server() + ", CRD installed"
	say("control plane up in %s at %s", time.Since(start).Round(100*time.Millisecond), cp.Server())
	return nil
}

// buildControlPlane runs `make envtest`, which builds etcd and kube-apiserver on first use
// (printing its progress and how long it usually takes) and is quick afterwards.
func (d *devRun) buildControlPlane(ctx context.Context) error {
	args := []string{"--no-print-directory", "envtest"}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		args = append(args, "ENVTEST_ASSETS="+d.o.assetsDir)
	}
	cmd := exec.CommandContext(ctx, d.o.makeCmd, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("`make envtest` failed: %w (it builds etcd and kube-apiserver from source; "+
			"or set KUBEBUILDER_ASSETS to a folder that has them)", err)
	}
	return nil
}

// kubeconfigForManager is the KUBECONFIG the manager gets: the local control plane's file, or
// the configured one.
func (d *devRun) kubeconfigForManager() string {
	if d.controlPlane != nil {
		return d.controlPlane.KubeconfigPath
	}
	kc, _ := configuredKubeconfig()
	return kc
}

// kubeconfigDesc says which kubeconfig to use.
func (d *devRun) kubeconfigDesc() string {
	if d.kubeconfig != "" {
		return d.kubeconfig
	}
	return "your default (~/.kube/config)"
}

// wait returns when ctx ends or a child exits on its own.
func (d *devRun) wait(ctx context.Context) error {
	var sandboxDone <-chan struct{}
	if d.sandbox != nil {
		sandboxDone = d.sandbox.Done()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-d.manager.Done():
		return fmt.Errorf("the manager exited (%v); its log: %s", d.manager.ExitErr(), d.manager.LogFile())
	case <-sandboxDone:
		return fmt.Errorf("the sandbox exited (%v); its log: %s", d.sandbox.ExitErr(), d.sandbox.LogFile())
	}
}

// stop stops what start started, manager first (it talks to the other two), control plane
// last. After a second Ctrl-C the children are killed rather than asked.
func (d *devRun) stop() {
	stopChild := func(p *devenv.Process) {
		if p == nil || !p.Running() {
			return
		}
		say("stopping the %s", p.Name())
		done := make(chan error, 1)
		go func() { done <- p.Stop() }()
		select {
		case err := <-done:
			if err != nil {
				say("%v", err)
			}
		case <-d.hurry:
			_ = p.Kill()
		}
	}
	if d.manager != nil {
		stopChild(d.manager.Process)
	}
	if d.sandbox != nil {
		stopChild(d.sandbox.Process)
	}
	if d.controlPlane != nil {
		say("stopping the control plane")
		if err := d.controlPlane.Stop(); err != nil {
			say("stop the control plane: %v", err)
		}
	}
}

// configuredKubeconfig returns the kubeconfig a kubectl would use and where it came from,
// or "" when none is configured.
func configuredKubeconfig() (path, source string) {
	if kc := os.Getenv("KUBECONFIG"); strings.TrimSpace(kc) != "" {
		return kc, "KUBECONFIG"
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".kube", "config")
		if _, err := os.Stat(p); err == nil {
			return p, "~/.kube/config"
		}
	}
	return "", ""
}

// loadKubeconfig reads a kubeconfig (a KUBECONFIG list is merged as kubectl does) and
// describes its current cluster.
func loadKubeconfig(kc string) (*rest.Config, string, error) {
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(kc)}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, "", err
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", err
	}
	return cfg, fmt.Sprintf("context %q, server %s", raw.CurrentContext, cfg.Host), nil
}
