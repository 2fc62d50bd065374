package devenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// Locations are where a repository's built binaries and control plane are, as `make build`
// and `make envtest` leave them or as the environment overrides them.
type Locations struct {
	// RepoRoot is the repository's top folder.
	RepoRoot string
	// BinDir holds bin/manager, bin/instagram-sandbox and the rest: $IGCONNECT_BIN, else
	// <repo>/bin.
	BinDir string
	// AssetsDir holds etcd and kube-apiserver: $KUBEBUILDER_ASSETS, else <repo>/bin/k8s.
	AssetsDir string
}

// Locate returns the Locations of the repository at repoRoot, and an error that says how to
// build them when one of the binaries named in need is not in BinDir.
func Locate(repoRoot string, need ...string) (Locations, error) {
	loc := Locations{RepoRoot: repoRoot, BinDir: os.Getenv("IGCONNECT_BIN"), AssetsDir: os.Getenv("KUBEBUILDER_ASSETS")}
	if loc.BinDir == "" {
		loc.BinDir = filepath.Join(repoRoot, "bin")
	}
	if loc.AssetsDir == "" {
		loc.AssetsDir = filepath.Join(repoRoot, "bin", "k8s")
	}
	for _, bin := range need {
		if _, err := os.Stat(filepath.Join(loc.BinDir, bin)); err != nil {
			return loc, fmt.Errorf("no %s in %s: run `make build` (or `make test`, which builds it), or set IGCONNECT_BIN",
				bin, loc.BinDir)
		}
	}
	return loc, nil
}

// StartControlPlane starts a control plane from AssetsDir with the repository's CRD
// installed, its output in dir/controlplane.log and its admin kubeconfig in dir/kubeconfig.
// stop stops it and closes the log.
func (loc Locations) StartControlPlane(dir string) (cp *ControlPlane, stop func() error, err error) {
	log, err := os.Create(filepath.Join(dir, "controlplane.log"))
	if err != nil {
		return nil, nil, err
	}
	cp, err = StartControlPlane(ControlPlaneOptions{
		AssetsDir:      loc.AssetsDir,
		CRDDirs:        []string{filepath.Join(loc.RepoRoot, "config", "crd", "bases")},
		KubeconfigPath: filepath.Join(dir, "kubeconfig"),
		Log:            log,
	})
	if err != nil {
		_ = log.Close()
		return nil, nil, fmt.Errorf("start the control plane (run `make envtest` or set KUBEBUILDER_ASSETS): %w", err)
	}
	return cp, func() error {
		err := cp.Stop()
		_ = log.Close() // a log line lost is no reason to fail
		return err
	}, nil
}
