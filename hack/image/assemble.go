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
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's run settings. The Dockerfile's USER, ENTRYPOINT and WORKDIR say the same.
const (
	// nonRootUser is distroless's nonroot, numeric so that a Pod's runAsNonRoot can check it.
	nonRootUser = "65532:65532"
	entrypoint  = "/" + managerPath
)

// labels are the image's OCI labels (config) and the index's annotations.
func labels(o options) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "igconnect-manager",
		"org.opencontainers.image.description": "igconnect: Instagram connections as Kubernetes resources",
		"org.opencontainers.image.source":      o.source,
		"org.opencontainers.image.url":         o.source,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.version":     o.version,
		"org.opencontainers.image.revision":    o.revision,
		"org.opencontainers.image.created":     o.created.Format(time.RFC3339),
	}
}

// assembleIndex builds one image per platform, on one shared base layer, and the index
// that lists them.
func assembleIndex(o options, binaries map[platform]string, caBundle []byte) (v1.ImageIndex, error) {
	base, err := baseLayer(caBundle, o.created)
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	adds := make([]mutate.IndexAddendum, 0, len(o.platforms))
	for _, p := range o.platforms {
		img, err := platformImage(o, p, base, binaries[p])
		if err != nil {
			return nil, fmt.Errorf("%s image: %w", p, err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			MediaType: types.OCIManifestSchema1,
			Platform:  &v1.Platform{OS: p.os, Architecture: p.arch, Variant: p.variant()},
		}})
	}
	idx = mutate.AppendManifests(idx, adds...)
	return mutate.Annotations(idx, labels(o)).(v1.ImageIndex), nil
}

// platformImage is the base layer plus the manager layer, with a config that runs the
// manager as nonroot.
func platformImage(o options, p platform, base v1.Layer, binary string) (v1.Image, error) {
	mgr, err := managerLayer(binary, o.created)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	created := v1.Time{Time: o.created}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{
			Created: created, CreatedBy: "hack/image: /etc/passwd, /etc/group, " + "/" + caBundlePath,
		}},
		mutate.Addendum{Layer: mgr, MediaType: types.OCILayer, History: v1.History{
			Created: created, CreatedBy: "hack/image: " + entrypoint + " (go build " + o.pkg + ")",
		}},
	)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = p.os, p.arch, p.variant()
	cfg.Created = created
	cfg.Config = v1.Config{
		User:       nonRootUser,
		Entrypoint: []string{entrypoint},
		WorkingDir: "/",
		Labels:     labels(o),
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, labels(o)).(v1.Image), nil
}
