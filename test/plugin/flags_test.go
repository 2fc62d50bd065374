package plugin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// kubectl's flags mean what they mean to kubectl: --context picks a context and its
// namespace, -n overrides it, and $KUBECONFIG is read when --kubeconfig is absent.
func TestKubectlFlags(t *testing.T) {
	cfg, err := clientcmd.LoadFromFile(env.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	base := cfg.Contexts[cfg.CurrentContext]
	mkt := base.DeepCopy()
	mkt.Namespace = ns
	cfg.Contexts["marketing"] = mkt
	empty := base.DeepCopy()
	empty.Namespace = managerNamespace
	cfg.Contexts["system"] = empty
	cfg.CurrentContext = "system"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	// An import creates "flagged" in the context's namespace, without -n.
	token, _ := issueToken(t, 4, "")
	r := runWithKubeconfig(t, path, "--context", "marketing", "import", "flagged", "--token-file", tokenFile(t, token))
	if r.exit != 0 || !exists(t, &igv1.InstagramConnection{}, "flagged") {
		t.Fatalf("import with --context marketing did not create marketing/flagged:\n%s", r.output())
	}
	if out := runWithKubeconfig(t, path, "status"); !strings.Contains(out.stdout, "No InstagramConnections found.") {
		t.Errorf("the current context's namespace (%s) has no connections, but status shows:\n%s", managerNamespace, out.output())
	}
	if out := runWithKubeconfig(t, path, "status", "-n", ns); !strings.Contains(out.stdout, "flagged") {
		t.Errorf("-n %s does not override the context's namespace:\n%s", ns, out.output())
	}
	if out := runWithKubeconfig(t, path, "--context", "marketing", "status", "flagged"); out.exit != 0 {
		t.Errorf("--context marketing does not find flagged:\n%s", out.output())
	}
	if out := runWithKubeconfig(t, path, "--context", "nowhere", "status"); out.exit == 0 ||
		!strings.Contains(out.output(), `context "nowhere" does not exist`) {
		t.Errorf("an unknown --context is not refused as kubectl refuses it:\n%s", out.output())
	}
	neverPrints(t, token, r)
}

// runWithKubeconfig runs the plugin with $KUBECONFIG set and no --kubeconfig flag.
func runWithKubeconfig(t *testing.T, kubeconfig string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(env.binDir, "kubectl-igconnect"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.exit = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("$ KUBECONFIG=... kubectl igconnect %s\n%s%s(exit %d)", strings.Join(args, " "), r.stdout, r.stderr, r.exit)
	return r
}
