package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// Namespaces of the scenarios. The floor and the convergence have their own, so one's
// objects never count in the other's figures. The idle connections live in the namespace
// where logins create connections, so that logins run against a namespace that already
// holds IdleN connections, as an operator's would.
const (
	nsOperator = "igconnect-system"
	nsFloor    = "bench-floor"
	nsConv     = "bench-conv"
	nsIdle     = "bench-connections"
)

// setupWorkers is the concurrency of the harness's own setup writes (not measured).
const setupWorkers = 32

// bench is one run: the processes it started and the clients that reach them.
type bench struct {
	cfg    config
	out    io.Writer
	scheme *runtime.Scheme

	cp  *devenv.ControlPlane
	sb  *devenv.Sandbox
	mgr *devenv.Manager
	// kube is an admin client without client-side rate limit.
	kube client.WithWatch
	// restCfg is its configuration.
	restCfg *rest.Config
	// sbc drives the sandbox's control API.
	sbc *devenv.SandboxClient
	// watch follows every connection and Secret.
	watch *tracker
	// pprofAddr is the manager's profiler address when -profile is set.
	pprofAddr string
	// managerKubeconfig reaches the API server as the manager's ServiceAccount.
	managerKubeconfig string

	res *Results
}

// run starts the stack, runs the selected scenarios and stops everything it started.
func run(ctx context.Context, cfg config) (res *Results, err error) {
	b := &bench{cfg: cfg, out: os.Stderr, res: &Results{}}
	if cfg.Quiet {
		b.out = io.Discard
	}
	defer func() {
		if stopErr := b.stopAll(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		if err != nil && b.cfg.WorkDir != "" {
			err = fmt.Errorf("%w\n(logs in %s)", err, b.cfg.WorkDir)
		}
	}()
	if err := b.start(ctx); err != nil {
		return b.res, err
	}
	b.res.Env = environment(b)
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{scenarioConvergence, b.convergence},
		{scenarioRefresh, b.refreshWave},
		{scenarioIdle, b.idle},
		{scenarioLogins, b.logins},
	}
	for _, s := range steps {
		if !cfg.Scenarios[s.name] {
			continue
		}
		b.logf("=== %s", s.name)
		start := time.Now()
		if err := s.fn(ctx); err != nil {
			return b.res, fmt.Errorf("%s: %w", s.name, err)
		}
		b.logf("=== %s done in %s", s.name, time.Since(start).Round(time.Millisecond))
	}
	return b.res, nil
}

// logf prints a progress line.
func (b *bench) logf(format string, args ...any) {
	// Progress lines are best effort: a failed write to the terminal has nowhere to go.
	_, _ = fmt.Fprintf(b.out, "%s bench: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// start brings up the control plane and the sandbox and the harness's clients; the manager
// starts per scenario.
func (b *bench) start(ctx context.Context) error {
	if b.cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "igconnect-bench-")
		if err != nil {
			return err
		}
		b.cfg.WorkDir = dir
	} else if err := os.MkdirAll(b.cfg.WorkDir, 0o755); err != nil {
		return err
	}
	b.logf("work folder %s", b.cfg.WorkDir)
	for _, bin := range []string{"manager", "instagram-sandbox"} {
		if _, err := os.Stat(filepath.Join(b.cfg.BinDir, bin)); err != nil {
			return fmt.Errorf("no %s in %s: run `make build` or pass -bin-dir", bin, b.cfg.BinDir)
		}
	}
	cpLog, err := os.Create(filepath.Join(b.cfg.WorkDir, "controlplane.log"))
	if err != nil {
		return err
	}
	b.cp, err = devenv.StartControlPlane(devenv.ControlPlaneOptions{
		AssetsDir:      b.cfg.Assets,
		CRDDirs:        []string{b.cfg.CRDDir},
		KubeconfigPath: filepath.Join(b.cfg.WorkDir, "kubeconfig"),
		Log:            cpLog,
	})
	if err != nil {
		return err
	}

	b.scheme = runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(b.scheme); err != nil {
		return err
	}
	if err := igv1.AddToScheme(b.scheme); err != nil {
		return err
	}
	// The harness's setup and the floor client must not be held back by a client-side
	// limit: a negative QPS turns client-go's token bucket off.
	b.restCfg = rest.CopyConfig(b.cp.Config)
	b.restCfg.QPS, b.restCfg.Burst = -1, 0
	b.restCfg.UserAgent = "igconnect-bench"
	if b.kube, err = client.NewWithWatch(b.restCfg, client.Options{Scheme: b.scheme}); err != nil {
		return err
	}
	for _, ns := range []string{nsOperator, nsFloor, nsConv, nsIdle} {
		if err := b.kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("create namespace %s: %w", ns, err)
		}
	}
	if b.watch, err = startTracker(ctx, b.restCfg, b.scheme); err != nil {
		return err
	}

	b.sb, err = devenv.StartSandbox(ctx, devenv.SandboxOptions{
		Binary:  filepath.Join(b.cfg.BinDir, "instagram-sandbox"),
		LogFile: filepath.Join(b.cfg.WorkDir, "sandbox.log"),
	})
	if err != nil {
		return err
	}
	b.sbc = devenv.NewSandboxClient(b.sb.URL)
	b.managerKubeconfig, err = b.serviceAccountKubeconfig(ctx)
	return err
}

// serviceAccountKubeconfig makes the identity the manager runs with, as config/ deploys it:
// a ServiceAccount bound to the manager's ClusterRole from config/rbac, authenticated by a
// service account token. Not the harness's admin: an admin's requests skip API Priority and
// Fairness, and a client certificate costs the API server a signature check per request
// where a token is verified once and cached, so an admin manager would be measured on
// terms no cluster gives it.
func (b *bench) serviceAccountKubeconfig(ctx context.Context) (string, error) {
	raw, err := os.ReadFile(filepath.Join(b.cfg.RBACDir, "role.yaml"))
	if err != nil {
		return "", err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(raw, role); err != nil {
		return "", fmt.Errorf("config/rbac/role.yaml: %w", err)
	}
	role.Name = "igconnect-bench-manager"
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: nsOperator, Name: "igconnect-manager"}}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}},
	}
	for _, o := range []client.Object{role, sa, binding} {
		if err := b.kube.Create(ctx, o); err != nil {
			return "", fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](86400)}}
	if err := b.kube.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("token for the manager's ServiceAccount: %w", err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["bench"] = &clientcmdapi.Cluster{Server: b.cp.Config.Host, CertificateAuthorityData: b.cp.Config.CAData}
	kc.AuthInfos["manager"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["bench"] = &clientcmdapi.Context{Cluster: "bench", AuthInfo: "manager"}
	kc.CurrentContext = "bench"
	path := filepath.Join(b.cfg.WorkDir, "manager.kubeconfig")
	return path, clientcmd.WriteToFile(*kc, path)
}

// stopAll stops what start and the scenarios started, the manager before the sandbox, both
// before the control plane.
func (b *bench) stopAll() error {
	var errs []error
	if b.watch != nil {
		b.watch.stop()
	}
	if b.mgr != nil {
		errs = append(errs, b.mgr.Stop())
	}
	if b.sb != nil {
		errs = append(errs, b.sb.Stop())
	}
	if b.cp != nil {
		errs = append(errs, b.cp.Stop())
	}
	return errors.Join(errs...)
}

// startManager (re)starts bin/manager with the harness's flags and the run's -manager-args.
// Its log accumulates across restarts in manager.log.
func (b *bench) startManager(ctx context.Context) error {
	if err := b.stopManager(); err != nil {
		return err
	}
	args := []string{"--zap-log-level=info"}
	b.pprofAddr = ""
	if b.cfg.Profile != "" {
		addr, err := devenv.FreeAddr()
		if err != nil {
			return err
		}
		b.pprofAddr = addr
		args = append(args, "--pprof-bind-address="+addr)
	}
	args = append(args, b.cfg.ManagerArgs...)
	m, err := devenv.StartManager(ctx, devenv.ManagerOptions{
		Binary:              filepath.Join(b.cfg.BinDir, "manager"),
		Kubeconfig:          b.managerKubeconfig,
		LogFile:             filepath.Join(b.cfg.WorkDir, "manager.log"),
		Namespace:           nsOperator,
		ConnectionNamespace: nsIdle,
		SandboxURL:          b.sb.URL,
		Args:                args,
	})
	if err != nil {
		return err
	}
	b.mgr = m
	if s := b.managerSettings(); s != "" {
		b.res.ManagerSettings = s
	}
	return nil
}

// stopManager stops the manager if it runs.
func (b *bench) stopManager() error {
	if b.mgr == nil {
		return nil
	}
	err := b.mgr.Stop()
	b.mgr = nil
	return err
}

// settingsLine finds the manager's start line, which lists its effective rate settings.
var settingsLine = regexp.MustCompile(`(?m)^\{.*"msg":"Starting manager".*$`)

// managerSettings returns the rate settings the running manager logged at start.
func (b *bench) managerSettings() string {
	lines := settingsLine.FindAllString(b.mgr.Logs(), -1)
	if len(lines) == 0 {
		return ""
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &entry); err != nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"kubeAPIQPS", "kubeAPIBurst", "maxConcurrentReconciles", "instagramCallsPerSecond",
		"instagramBurst"} {
		if v, ok := entry[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

// parallel runs fn(i) for i in [0,n) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// firstAccount returns the sandbox's first account, which owns the tokens issueToken mints.
func (b *bench) firstAccount(ctx context.Context) (sandbox.Account, error) {
	out, err := b.sbc.Accounts(ctx)
	if err != nil {
		return sandbox.Account{}, err
	}
	if len(out) == 0 {
		return sandbox.Account{}, errors.New("the sandbox has no account")
	}
	return out[0], nil
}
