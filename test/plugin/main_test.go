// Package plugin tests kubectl-igconnect, the kubectl plugin, as a person runs it: the built
// bin/kubectl-igconnect against a local control plane, with the real bin/manager and the
// Instagram sandbox behind it, and installed by krew from a local archive (krew_test.go).
//
// It needs the binaries (`make build`; $IGCONNECT_BIN or the repository's bin/) and the
// control plane (`make envtest`; $KUBEBUILDER_ASSETS or bin/k8s). `make test` provides both.
// With -v every command and its output is logged: docs/kubectl-plugin.md quotes them.
package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
)

const (
	// managerNamespace holds the manager's Lease, as igconnect-system does in a cluster.
	managerNamespace = "igconnect-system"
	// ns is where the tests' connections live.
	ns = "marketing"
)

// env is the suite's running stack.
var env struct {
	repoRoot, binDir, workDir string
	kubeconfig                string
	k8s                       client.Client
	sb                        *devenv.Sandbox
	mgr                       *devenv.Manager
	accounts                  []sandbox.Account
	// tokens are the tokens the tests minted, masked in the logged command lines (a test
	// passes one on the command line to see it refused).
	tokens []string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	wd, err := os.Getwd()
	if err != nil {
		return fail(err)
	}
	env.repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	env.binDir = os.Getenv("IGCONNECT_BIN")
	if env.binDir == "" {
		env.binDir = filepath.Join(env.repoRoot, "bin")
	}
	for _, bin := range []string{"manager", "instagram-sandbox", "kubectl-igconnect"} {
		if _, err := os.Stat(filepath.Join(env.binDir, bin)); err != nil {
			return fail(fmt.Errorf("no %s in %s: run `make build`, or set IGCONNECT_BIN", bin, env.binDir))
		}
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(env.repoRoot, "bin", "k8s")
	}
	env.workDir, err = os.MkdirTemp("", "igconnect-plugin-")
	if err != nil {
		return fail(err)
	}
	defer func() { _ = os.RemoveAll(env.workDir) }()

	cpLog, err := os.Create(filepath.Join(env.workDir, "controlplane.log"))
	if err != nil {
		return fail(err)
	}
	defer func() { _ = cpLog.Close() }()
	cp, err := devenv.StartControlPlane(devenv.ControlPlaneOptions{
		AssetsDir:      assets,
		CRDDirs:        []string{filepath.Join(env.repoRoot, "config", "crd", "bases")},
		KubeconfigPath: filepath.Join(env.workDir, "kubeconfig"),
		Log:            cpLog,
	})
	if err != nil {
		return fail(fmt.Errorf("start the control plane (make envtest, or set KUBEBUILDER_ASSETS): %w", err))
	}
	defer func() { _ = cp.Stop() }()
	env.kubeconfig = cp.KubeconfigPath

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = igv1.AddToScheme(scheme)
	if env.k8s, err = client.New(cp.Config, client.Options{Scheme: scheme}); err != nil {
		return fail(err)
	}
	for _, name := range []string{managerNamespace, ns} {
		if err := env.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			return fail(err)
		}
	}

	env.sb, err = devenv.StartSandbox(ctx, devenv.SandboxOptions{
		Binary:  filepath.Join(env.binDir, "instagram-sandbox"),
		LogFile: filepath.Join(env.workDir, "sandbox.log"),
	})
	if err != nil {
		return fail(err)
	}
	defer func() { _ = env.sb.Stop() }()
	if env.accounts, err = env.sb.Control.Accounts(ctx); err != nil {
		return fail(err)
	}
	for _, username := range []string{"acme_young", "acme_brand", "acme_shop", "acme_flags"} { // one account per test
		a, err := env.sb.Control.AddAccount(ctx, sandbox.Account{Username: username, AccountType: "BUSINESS"})
		if err != nil {
			return fail(err)
		}
		env.accounts = append(env.accounts, a)
	}

	env.mgr, err = devenv.StartManager(ctx, devenv.ManagerOptions{
		Binary:              filepath.Join(env.binDir, "manager"),
		Kubeconfig:          env.kubeconfig,
		LogFile:             filepath.Join(env.workDir, "manager.log"),
		Namespace:           managerNamespace,
		ConnectionNamespace: ns,
		SandboxURL:          env.sb.URL,
		Args:                []string{"--leader-elect"},
	})
	if err != nil {
		return fail(err)
	}
	code := m.Run()
	if err := env.mgr.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop the manager:", err)
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "===== manager log =====\n%s\n", env.mgr.Tail(100))
	}
	return code
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "test/plugin:", err)
	return 1
}

// result is one run of the plugin.
type result struct {
	stdout, stderr string
	exit           int
}

func (r result) output() string { return r.stdout + r.stderr }

// kubectlIgconnect runs bin/kubectl-igconnect with the suite's kubeconfig, as
// `kubectl igconnect ARGS` would, and logs the command and what it printed.
func kubectlIgconnect(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runPlugin(t, filepath.Join(env.binDir, "kubectl-igconnect"), stdin, args...)
}

func runPlugin(t *testing.T, path, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"--kubeconfig", env.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.exit = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", path, err)
	}
	line := strings.Join(args, " ")
	for _, token := range env.tokens {
		line = strings.ReplaceAll(line, token, "<token>")
	}
	t.Logf("$ kubectl igconnect %s\n%s%s(exit %d)", line, r.stdout, r.stderr, r.exit)
	return r
}

// mustSucceed fails the test unless the plugin exited 0.
func mustSucceed(t *testing.T, r result) result {
	t.Helper()
	if r.exit != 0 {
		t.Fatalf("exit %d:\n%s", r.exit, r.output())
	}
	return r
}

// mustFail fails the test unless the plugin exited non-zero and said want.
func mustFail(t *testing.T, r result, want string) {
	t.Helper()
	if r.exit == 0 {
		t.Fatalf("exit 0, want a failure saying %q:\n%s", want, r.output())
	}
	if !strings.Contains(r.output(), want) {
		t.Fatalf("the error does not say %q:\n%s", want, r.output())
	}
}

// issueToken mints a long-lived sandbox token for the i-th account, age old (e.g. "25h").
func issueToken(t *testing.T, i int, age string) (string, sandbox.Account) {
	t.Helper()
	a := env.accounts[i]
	issued, err := env.sb.Control.IssueToken(context.Background(), devenv.TokenRequest{Account: a.Username, Age: age})
	if err != nil {
		t.Fatal(err)
	}
	env.tokens = append(env.tokens, issued.AccessToken)
	return issued.AccessToken, a
}

// tokenFile writes a token to a file the plugin reads.
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// neverPrints fails the test if the token appears in any of the outputs.
func neverPrints(t *testing.T, token string, rs ...result) {
	t.Helper()
	for _, r := range rs {
		if strings.Contains(r.output(), token) {
			t.Fatalf("the plugin printed the token:\n%s", r.output())
		}
	}
}

// exists reports whether an object exists in ns.
func exists(t *testing.T, obj client.Object, name string) bool {
	t.Helper()
	err := env.k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if err != nil && client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	return err == nil
}
