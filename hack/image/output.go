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
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Names of the outputs inside --out.
const (
	layoutDir   = "oci"
	archiveName = "manager.oci.tar"
)

// writeOutputs writes the OCI layout, its archive and the SBOMs, replacing earlier ones,
// and returns a line per output for the log.
func writeOutputs(o options, idx v1.ImageIndex, binaries map[platform]string) ([]string, error) {
	dir := filepath.Join(o.out, layoutDir)
	archive := filepath.Join(o.out, archiveName)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, err
	}
	if _, err := layout.Write(dir, topIndex(o, idx)); err != nil {
		return nil, fmt.Errorf("write the OCI layout: %w", err)
	}
	if err := writeArchive(dir, archive, o); err != nil {
		return nil, fmt.Errorf("write the OCI archive: %w", err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	lines := []string{
		"image: index " + digest.String() + " (" + platformList(o.platforms) + ")",
		"image: OCI layout " + dir,
		"image: OCI archive " + archive + " (podman load -i / docker load -i)",
	}
	if o.skipSBOM {
		return lines, nil
	}
	for _, p := range o.platforms {
		path := filepath.Join(o.out, "sbom-"+p.dirName()+".cdx.json")
		if err := writeSBOM(path, o, p, binaries[p]); err != nil {
			return nil, fmt.Errorf("SBOM of %s: %w", p, err)
		}
		lines = append(lines, "image: SBOM "+path)
	}
	return lines, nil
}

// topIndex is the layout's index.json: one entry, the multi-platform index, named as
// podman, containerd and Docker look for it.
func topIndex(o options, idx v1.ImageIndex) v1.ImageIndex {
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{
		Add: idx,
		Descriptor: v1.Descriptor{
			MediaType: types.OCIImageIndex,
			Annotations: map[string]string{
				"org.opencontainers.image.ref.name": o.name,
				"io.containerd.image.name":          o.fullName,
			},
		},
	})
}

// fullName normalises an image name as containerd (ctr import) and Docker (docker load) expect
// it: with its registry (docker.io for Docker Hub) and tag (latest when none is given).
func fullName(ref string) (string, error) {
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", err
	}
	return strings.Replace(tag.Name(), name.DefaultRegistry+"/", "docker.io/", 1), nil
}

// writeArchive tars the layout folder (the OCI archive format: the layout at the top of the
// tar) with sorted entries, owner root and one time, so that it is as reproducible as the
// layout itself.
func writeArchive(dir, archive string, o options) error {
	var names []string
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			names = append(names, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	tmp := archive + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }() // gone after the rename; left only by a failure
	tw := tar.NewWriter(f)
	for _, path := range names { // WalkDir visits in lexical order
		if err := addToArchive(tw, dir, path, o); err != nil {
			_ = f.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, archive)
}

func addToArchive(tw *tar.Writer, dir, path string, o options) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: o.created, Format: tar.FormatPAX}
	if info.IsDir() {
		hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
		return tw.WriteHeader(hdr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, int64(len(b))
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = tw.Write(b)
	return err
}

func platformList(ps []platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
