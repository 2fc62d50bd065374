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
	"archive/tar"
	"bytes"
	"embed"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// rootfs holds the files of the base layer that live in the repository: /etc/passwd and
// /etc/group with root and nonroot (65532). The Dockerfile copies the same folder.
//
//go:embed rootfs
var rootfs embed.FS

// Paths inside the image. The Dockerfile puts its files at the same places.
const (
	managerPath  = "manager"
	caBundlePath = "etc/ssl/certs/ca-certificates.crt"
)

// file is one regular file of a layer.
type file struct {
	name string
	mode int64
	data []byte
}

// baseLayer holds what every platform shares: the user database and the CA bundle. Its
// bytes do not depend on the platform, so both images of the index point at one blob.
func baseLayer(caBundle []byte, created time.Time) (v1.Layer, error) {
	files := []file{{name: caBundlePath, mode: 0o644, data: caBundle}}
	for _, name := range []string{"etc/passwd", "etc/group"} {
		b, err := rootfs.ReadFile(path.Join("rootfs", name))
		if err != nil {
			return nil, err
		}
		files = append(files, file{name: name, mode: 0o644, data: b})
	}
	return layerOf(files, created)
}

// managerLayer holds the manager binary at /manager.
func managerLayer(binary string, created time.Time) (v1.Layer, error) {
	b, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	return layerOf([]file{{name: managerPath, mode: 0o755, data: b}}, created)
}

// layerOf writes files, and the folders above them, as a reproducible tar: sorted entries,
// owner root, one modification time, no user or host names. go-containerregistry
// compresses it with gzip, whose header carries no time either.
func layerOf(files []file, created time.Time) (v1.Layer, error) {
	b, err := tarOf(files, created)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}

// tarOf is the uncompressed tar of layerOf.
func tarOf(files []file, created time.Time) ([]byte, error) {
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f.name); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	type entry struct {
		hdr  *tar.Header
		data []byte
	}
	entries := make([]entry, 0, len(dirs)+len(files))
	for d := range dirs {
		entries = append(entries, entry{hdr: &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}})
	}
	for _, f := range files {
		entries = append(entries, entry{
			hdr:  &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data))},
			data: f.data,
		})
	}
	sort.Slice(entries, func(i, j int) bool {
		return strings.TrimSuffix(entries[i].hdr.Name, "/") < strings.TrimSuffix(entries[j].hdr.Name, "/")
	})

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		e.hdr.ModTime = created
		e.hdr.Format = tar.FormatUSTAR
		if err := tw.WriteHeader(e.hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
