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

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// platform is an OS and architecture of the index.
type platform struct {
	os, arch string
}

// parsePlatform reads "linux/amd64". Only Linux is built: the image has no other use.
func parsePlatform(s string) (platform, error) {
	osName, arch, ok := strings.Cut(s, "/")
	if !ok || osName != "linux" || (arch != "amd64" && arch != "arm64") {
		return platform{}, fmt.Errorf("platform %q: want linux/amd64 or linux/arm64", s)
	}
	return platform{os: osName, arch: arch}, nil
}

func (p platform) String() string { return p.os + "/" + p.arch }

// dirName is the platform as a file name: linux-amd64.
func (p platform) dirName() string { return p.os + "-" + p.arch }

// variant is the CPU variant registries and runtimes expect in an index: arm64 images are
// published as v8.
func (p platform) variant() string {
	if p.arch == "arm64" {
		return "v8"
	}
	return ""
}

// compileManager cross-compiles the manager for p into out: static (no cgo, so no libc to
// ship), with the module's paths trimmed and no symbol table, so that the bytes depend only
// on the sources and the Go version.
func compileManager(ctx context.Context, o options, p platform, out string) error {
	ldflags := "-s -w"
	if o.ldflags != "" {
		ldflags += " " + o.ldflags
	}
	cmd := exec.CommandContext(ctx, o.goCommand, "build", "-trimpath", "-ldflags="+ldflags, "-o", out, o.pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.os, "GOARCH="+p.arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compile %s for %s: %w", o.pkg, p, err)
	}
	return nil
}
