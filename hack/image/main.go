/*
Copyright 2026 The igconnect Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command image builds the manager's container image without a container engine: it
// cross-compiles a static bin/manager for each platform, puts it on a few base files (the
// nonroot user, the CA bundle of the build machine), and writes one multi-platform index as
// an OCI image layout, an OCI archive (a tarball of that layout, which `podman load` and
// `docker load` take) and a CycloneDX SBOM per platform. `make image` runs it.
//
// Every timestamp is --source-date-epoch, so two builds of one commit give the same bytes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command's flags.
type options struct {
	out  string
	name string
	// fullName is name as containerd and Docker spell it: docker.io/igconnect/manager:latest.
	fullName  string
	platforms []platform
	pkg       string
	version   string
	revision  string
	source    string
	created   time.Time
	caBundle  string
	ldflags   string
	goCommand string
	skipSBOM  bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err == nil {
		err = run(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var o options
	var platforms, epoch string
	fs.StringVar(&o.out, "out", "bin/image", "folder to write the OCI layout (oci/), the archive (manager.oci.tar) and the SBOMs into")
	fs.StringVar(&o.name, "name", "igconnect/manager:latest", "image reference recorded in the layout's annotations")
	fs.StringVar(&platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated platforms of the index")
	fs.StringVar(&o.pkg, "package", "./cmd", "Go package of the manager")
	fs.StringVar(&o.version, "version", "", "org.opencontainers.image.version (`make image` passes VERSION)")
	fs.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision, the commit")
	fs.StringVar(&o.source, "source", "https://github.com/igconnect/igconnect", "org.opencontainers.image.source")
	fs.StringVar(&epoch, "source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"),
		"Unix time of every timestamp in the image (default $SOURCE_DATE_EPOCH)")
	fs.StringVar(&o.caBundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "PEM CA bundle to install in the image")
	fs.StringVar(&o.ldflags, "ldflags", "", "extra -ldflags for the manager, e.g. -X for version variables")
	fs.StringVar(&o.goCommand, "go", "go", "go command used to cross-compile")
	fs.BoolVar(&o.skipSBOM, "skip-sbom", false, "write no SBOM")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, p := range strings.Split(platforms, ",") {
		pl, err := parsePlatform(strings.TrimSpace(p))
		if err != nil {
			return o, err
		}
		o.platforms = append(o.platforms, pl)
	}
	full, err := fullName(o.name)
	if err != nil {
		return o, fmt.Errorf("--name %q: %w", o.name, err)
	}
	o.fullName = full
	if o.version == "" || o.revision == "" {
		return o, errors.New("--version and --revision are required (`make image` sets them from git)")
	}
	secs, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || secs < 0 {
		return o, fmt.Errorf("--source-date-epoch (or $SOURCE_DATE_EPOCH) must be a Unix time in seconds, got %q", epoch)
	}
	o.created = time.Unix(secs, 0).UTC()
	return o, nil
}

// run compiles the manager for each platform and writes the image.
func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "igconnect-image-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()

	binaries := map[platform]string{}
	for _, p := range o.platforms {
		bin := filepath.Join(work, p.dirName(), "manager")
		if err := compileManager(ctx, o, p, bin); err != nil {
			return err
		}
		binaries[p] = bin
	}
	caBundle, err := os.ReadFile(o.caBundle)
	if err != nil {
		return fmt.Errorf("read the CA bundle (install Debian's ca-certificates): %w", err)
	}
	idx, err := assembleIndex(o, binaries, caBundle)
	if err != nil {
		return err
	}
	written, err := writeOutputs(o, idx, binaries)
	if err != nil {
		return err
	}
	for _, line := range written {
		fmt.Println(line)
	}
	return nil
}
