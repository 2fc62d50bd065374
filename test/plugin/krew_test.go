package plugin

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// krewManifest is the part of a krew Plugin manifest the test reads and rewrites.
type krewManifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string         `json:"version"`
		ShortDescription string         `json:"shortDescription"`
		Platforms        []krewPlatform `json:"platforms"`
	} `json:"spec"`
}

type krewPlatform struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	URI    string `json:"uri"`
	SHA256 string `json:"sha256"`
	Bin    string `json:"bin"`
	Files  []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"files"`
}

// The krew manifest installs offline, with krew itself (built from hack/krew), from an archive
// of the built plugin, and the installed plugin runs as `kubectl igconnect`.
func TestKrewInstallsTheManifest(t *testing.T) {
	dir := t.TempDir()
	manifestPath := filepath.Join(env.repoRoot, "plugins", "krew", "igconnect.yaml")
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m krewManifest
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", manifestPath, err)
	}
	platform := selectPlatform(t, &m)

	archive := filepath.Join(dir, "kubectl-igconnect_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")
	sum := writeArchive(t, archive, filepath.Join(env.binDir, "kubectl-igconnect"))
	platform.SHA256 = sum
	rendered, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// krew names an installed plugin after its manifest file, which must be <name>.yaml.
	local := filepath.Join(dir, m.Metadata.Name+".yaml")
	if err := os.WriteFile(local, rendered, 0o600); err != nil {
		t.Fatal(err)
	}

	krew := buildKrew(t, dir)
	root := filepath.Join(dir, "krew-root")
	krewEnv := append(os.Environ(), "KREW_ROOT="+root, "KREW_NO_UPGRADE_CHECK=1")
	install := exec.Command(krew, "install", "--manifest="+local, "--archive="+archive)
	install.Env = krewEnv
	out, err := install.CombinedOutput()
	t.Logf("$ kubectl krew install --manifest=%s --archive=%s\n%s", filepath.Base(local), filepath.Base(archive), out)
	if err != nil {
		t.Fatalf("krew install: %v", err)
	}
	installed := filepath.Join(root, "bin", "kubectl-igconnect")
	help := runPlugin(t, installed, "", "--help")
	if help.exit != 0 || !strings.Contains(help.stdout, "kubectl igconnect") {
		t.Fatalf("the installed plugin does not run: %s", help.output())
	}

	// A wrong checksum is refused: krew verifies the archive against the manifest.
	platform.SHA256 = strings.Repeat("0", 64)
	bad, _ := yaml.Marshal(m)
	badDir := filepath.Join(dir, "bad")
	if err := os.MkdirAll(badDir, 0o755); err != nil {
		t.Fatal(err)
	}
	badManifest := filepath.Join(badDir, m.Metadata.Name+".yaml")
	if err := os.WriteFile(badManifest, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	refused := exec.Command(krew, "install", "--manifest="+badManifest, "--archive="+archive)
	refused.Env = append(os.Environ(), "KREW_ROOT="+filepath.Join(dir, "krew-root-2"), "KREW_NO_UPGRADE_CHECK=1")
	if out, err := refused.CombinedOutput(); err == nil {
		t.Errorf("krew installed an archive whose sha256 does not match:\n%s", out)
	}

	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Log("no kubectl on PATH: the plugin ran from krew's bin directory, not through kubectl")
		return
	}
	cmd := exec.Command(kubectl, "igconnect", "status", "-A", "--kubeconfig", env.kubeconfig)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err = cmd.CombinedOutput()
	t.Logf("$ kubectl igconnect status -A\n%s", out)
	listed := strings.Contains(string(out), "NAMESPACE") || strings.Contains(string(out), "No InstagramConnections found.")
	if err != nil || !listed {
		t.Fatalf("kubectl does not run the krew-installed plugin: %v\n%s", err, out)
	}
}

// selectPlatform checks the manifest's structure as krew and its index require, and returns
// the platform of this machine.
func selectPlatform(t *testing.T, m *krewManifest) *krewPlatform {
	t.Helper()
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "igconnect" {
		t.Fatalf("not a krew Plugin named igconnect: %s %s %s", m.APIVersion, m.Kind, m.Metadata.Name)
	}
	if !strings.HasPrefix(m.Spec.Version, "v") || m.Spec.ShortDescription == "" {
		t.Errorf("version %q must be a v-prefixed semver and shortDescription set", m.Spec.Version)
	}
	var mine *krewPlatform
	for i := range m.Spec.Platforms {
		p := &m.Spec.Platforms[i]
		labels := p.Selector.MatchLabels
		if p.Bin != "kubectl-igconnect" || len(p.Files) != 1 || p.Files[0].From != "kubectl-igconnect" ||
			!strings.HasSuffix(p.URI, "_"+labels["os"]+"_"+labels["arch"]+".tar.gz") || len(p.SHA256) != 64 {
			t.Errorf("platform %v: bin, files, uri or sha256 do not follow the release layout: %+v", labels, p)
		}
		if labels["os"] == runtime.GOOS && labels["arch"] == runtime.GOARCH {
			mine = p
		}
	}
	if mine == nil {
		t.Fatalf("the manifest has no platform for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	return mine
}

// writeArchive packs the binary as a release archive does (kubectl-igconnect at its top) and
// returns its sha256.
func writeArchive(t *testing.T, path, binary string) string {
	t.Helper()
	bin, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	gz := gzip.NewWriter(io.MultiWriter(f, h))
	tw := tar.NewWriter(gz)
	hdr := &tar.Header{Name: "kubectl-igconnect", Mode: 0o755, Size: int64(len(bin)), ModTime: time.Now()}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(bin); err != nil {
		t.Fatal(err)
	}
	for _, c := range []io.Closer{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// buildKrew builds krew from its pinned module, hack/krew.
func buildKrew(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "krew")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "sigs.k8s.io/krew/cmd/krew")
	cmd.Dir = filepath.Join(env.repoRoot, "hack", "krew")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build krew from hack/krew: %v\n%s", err, b)
	}
	return out
}
