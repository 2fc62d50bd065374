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

package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// hostCABundle is Debian's bundle, which the image carries.
const hostCABundle = "/etc/ssl/certs/ca-certificates.crt"

// wantLabels are the OCI labels every image of the index carries, from the build's flags.
var wantLabels = map[string]string{
	"org.opencontainers.image.title":       "igconnect-manager",
	"org.opencontainers.image.description": "igconnect: Instagram connections as Kubernetes resources",
	"org.opencontainers.image.source":      "https://github.com/igconnect/igconnect",
	"org.opencontainers.image.url":         "https://github.com/igconnect/igconnect",
	"org.opencontainers.image.licenses":    "Apache-2.0",
	"org.opencontainers.image.version":     testVersion,
	"org.opencontainers.image.revision":    testRevision,
	"org.opencontainers.image.created":     "2026-01-02T03:04:05Z",
}

// wantFiles is the whole file system of the image: no shell, no package manager, nothing
// but the manager, the user database and the CA bundle.
var wantFiles = []string{
	"etc", "etc/group", "etc/passwd", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt",
	"manager",
}

// platformImage is one image of the index with what the tests read from it.
type platformImage struct {
	platform v1.Platform
	img      v1.Image
	config   *v1.ConfigFile
	files    map[string]fileEntry
}

// fileEntry is a file of the flattened image.
type fileEntry struct {
	hdr  tar.Header
	data []byte
}

// readIndex reads the multi-platform index of a build's OCI layout.
func readIndex(out string) (v1.ImageIndex, *v1.IndexManifest) {
	GinkgoHelper()
	top, err := layout.ImageIndexFromPath(filepath.Join(out, "oci"))
	Expect(err).NotTo(HaveOccurred())
	topManifest, err := top.IndexManifest()
	Expect(err).NotTo(HaveOccurred())
	Expect(topManifest.Manifests).To(HaveLen(1), "index.json lists the one multi-platform index")
	desc := topManifest.Manifests[0]
	Expect(desc.MediaType).To(Equal(types.OCIImageIndex))
	Expect(desc.Annotations).To(HaveKeyWithValue("org.opencontainers.image.ref.name", testName))
	Expect(desc.Annotations).To(HaveKeyWithValue("io.containerd.image.name", testName), "already a full name")
	idx, err := top.ImageIndex(desc.Digest)
	Expect(err).NotTo(HaveOccurred())
	m, err := idx.IndexManifest()
	Expect(err).NotTo(HaveOccurred())
	return idx, m
}

// readImages returns the images of the index by "os/arch".
func readImages(out string) map[string]*platformImage {
	GinkgoHelper()
	idx, m := readIndex(out)
	images := map[string]*platformImage{}
	for _, desc := range m.Manifests {
		Expect(desc.Platform).NotTo(BeNil(), "every entry of the index names its platform")
		img, err := idx.Image(desc.Digest)
		Expect(err).NotTo(HaveOccurred())
		cfg, err := img.ConfigFile()
		Expect(err).NotTo(HaveOccurred())
		images[desc.Platform.OS+"/"+desc.Platform.Architecture] = &platformImage{
			platform: *desc.Platform, img: img, config: cfg, files: flatten(img),
		}
	}
	return images
}

// flatten reads the image's file system, its layers applied in order.
func flatten(img v1.Image) map[string]fileEntry {
	GinkgoHelper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	files := map[string]fileEntry{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		Expect(err).NotTo(HaveOccurred())
		data, err := io.ReadAll(tr)
		Expect(err).NotTo(HaveOccurred())
		files[hdr.Name] = fileEntry{hdr: *hdr, data: data}
	}
}

var _ = Describe("make image", func() {
	var images map[string]*platformImage

	BeforeEach(func() {
		images = readImages(buildA)
	})

	It("writes one index with linux/amd64 and linux/arm64, in OCI media types, annotated like the images", func() {
		_, m := readIndex(buildA)
		Expect(m.MediaType).To(Equal(types.OCIImageIndex))
		Expect(m.Annotations).To(Equal(wantLabels))
		Expect(images).To(HaveLen(2))
		Expect(images).To(HaveKey("linux/amd64"))
		Expect(images).To(HaveKey("linux/arm64"))
		Expect(images["linux/arm64"].platform.Variant).To(Equal("v8"))
		for name, pi := range images {
			mt, err := pi.img.MediaType()
			Expect(err).NotTo(HaveOccurred())
			Expect(mt).To(Equal(types.OCIManifestSchema1), name)
			manifest, err := pi.img.Manifest()
			Expect(err).NotTo(HaveOccurred())
			Expect(manifest.Config.MediaType).To(Equal(types.OCIConfigJSON), name)
			for _, l := range manifest.Layers {
				Expect(l.MediaType).To(Equal(types.OCILayer), name)
			}
		}
	})

	It("runs the manager as nonroot 65532 with OCI labels, and says which platform it is for", func() {
		for name, pi := range images {
			cfg := pi.config
			Expect(cfg.OS + "/" + cfg.Architecture).To(Equal(name))
			Expect(cfg.Config.User).To(Equal("65532:65532"), name)
			Expect(cfg.Config.Entrypoint).To(Equal([]string{"/manager"}), name)
			Expect(cfg.Config.Cmd).To(BeEmpty(), name)
			Expect(cfg.Config.WorkingDir).To(Equal("/"), name)
			Expect(cfg.Config.Labels).To(Equal(wantLabels), name)
			Expect(cfg.Created.Time.Equal(time.Unix(testEpoch, 0))).To(BeTrue(), "%s created at %s", name, cfg.Created)
			Expect(cfg.History).To(HaveLen(2), name)
		}
	})

	It("holds only the manager, the user database and Debian's CA bundle, owned by root", func() {
		for name, pi := range images {
			names := make([]string, 0, len(pi.files))
			for n := range pi.files {
				names = append(names, n)
			}
			sort.Strings(names)
			Expect(names).To(Equal(wantFiles), "%s: no shell, no package manager, nothing else", name)
			for n, f := range pi.files {
				Expect(f.hdr.Uid).To(BeZero(), "%s: %s", name, n)
				Expect(f.hdr.Gid).To(BeZero(), "%s: %s", name, n)
				Expect(f.hdr.ModTime.Equal(time.Unix(testEpoch, 0))).To(BeTrue(), "%s: %s has time %s", name, n, f.hdr.ModTime)
			}
			for _, dir := range []string{"etc", "etc/ssl", "etc/ssl/certs"} {
				Expect(pi.files[dir].hdr.Typeflag).To(Equal(byte(tar.TypeDir)), "%s: %s", name, dir)
				Expect(pi.files[dir].hdr.Mode).To(Equal(int64(0o755)), "%s: %s", name, dir)
			}
			Expect(pi.files["manager"].hdr.Mode).To(Equal(int64(0o755)))
			Expect(pi.files["etc/passwd"].hdr.Mode).To(Equal(int64(0o644)))
			Expect(string(pi.files["etc/passwd"].data)).To(ContainSubstring("nonroot:x:65532:65532:"))
			Expect(string(pi.files["etc/group"].data)).To(ContainSubstring("nonroot:x:65532:"))

			host, err := os.ReadFile(hostCABundle)
			Expect(err).NotTo(HaveOccurred())
			ca := pi.files["etc/ssl/certs/ca-certificates.crt"].data
			Expect(bytes.Equal(ca, host)).To(BeTrue(), "the image carries the build machine's %s", hostCABundle)
			pool := x509.NewCertPool()
			Expect(pool.AppendCertsFromPEM(ca)).To(BeTrue())
		}
	})

	It("shares the base layer between the platforms and puts the manager in a layer of its own", func() {
		bases, managers := make([]v1.Hash, 0, len(images)), make([]v1.Hash, 0, len(images))
		for _, pi := range images {
			layers, err := pi.img.Layers()
			Expect(err).NotTo(HaveOccurred())
			Expect(layers).To(HaveLen(2))
			base, err := layers[0].Digest()
			Expect(err).NotTo(HaveOccurred())
			mgr, err := layers[1].Digest()
			Expect(err).NotTo(HaveOccurred())
			bases, managers = append(bases, base), append(managers, mgr)
		}
		Expect(bases[0]).To(Equal(bases[1]), "one blob for the files both platforms share")
		Expect(managers[0]).NotTo(Equal(managers[1]))
	})

	It("carries a static manager built for each platform, without cgo and with trimmed paths", func() {
		machines := map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64}
		for name, pi := range images {
			path := filepath.Join(GinkgoT().TempDir(), "manager")
			Expect(os.WriteFile(path, pi.files["manager"].data, 0o755)).To(Succeed())
			f, err := elf.Open(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Machine).To(Equal(machines[name]))
			for _, prog := range f.Progs {
				Expect(prog.Type).NotTo(Equal(elf.PT_INTERP), "%s: a static binary needs no dynamic loader", name)
			}
			libs, err := f.ImportedLibraries()
			Expect(err).NotTo(HaveOccurred())
			Expect(libs).To(BeEmpty(), name)
			Expect(f.Close()).To(Succeed())

			bi, err := buildinfo.ReadFile(path)
			Expect(err).NotTo(HaveOccurred())
			settings := map[string]string{}
			for _, s := range bi.Settings {
				settings[s.Key] = s.Value
			}
			Expect(settings).To(HaveKeyWithValue("CGO_ENABLED", "0"), name)
			Expect(settings).To(HaveKeyWithValue("-trimpath", "true"), name)
			Expect(settings).To(HaveKeyWithValue("GOARCH", pi.config.Architecture), name)
		}
	})

	It("gives the same bytes when built twice: layout, archive and SBOMs", func() {
		idxA, _ := readIndex(buildA)
		idxB, _ := readIndex(buildB)
		digestA, err := idxA.Digest()
		Expect(err).NotTo(HaveOccurred())
		digestB, err := idxB.Digest()
		Expect(err).NotTo(HaveOccurred())
		Expect(digestA).To(Equal(digestB))
		for _, name := range []string{"manager.oci.tar", "oci/index.json", "sbom-linux-amd64.cdx.json",
			"sbom-linux-arm64.cdx.json"} {
			Expect(sha256File(filepath.Join(buildA, name))).To(Equal(sha256File(filepath.Join(buildB, name))), name)
		}
	})

	It("writes the OCI archive as a tarball of exactly the layout", func() {
		f, err := os.Open(filepath.Join(buildA, "manager.oci.tar"))
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = f.Close() }()
		tr := tar.NewReader(f)
		var inArchive []string
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			Expect(err).NotTo(HaveOccurred())
			if hdr.Typeflag != tar.TypeReg {
				continue
			}
			inArchive = append(inArchive, hdr.Name)
			data, err := io.ReadAll(tr)
			Expect(err).NotTo(HaveOccurred())
			onDisk, err := os.ReadFile(filepath.Join(buildA, "oci", hdr.Name))
			Expect(err).NotTo(HaveOccurred(), "%s is in the archive but not in the layout", hdr.Name)
			Expect(bytes.Equal(data, onDisk)).To(BeTrue(), hdr.Name)
		}
		var inLayout []string
		Expect(filepath.WalkDir(filepath.Join(buildA, "oci"), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(filepath.Join(buildA, "oci"), path)
				inLayout = append(inLayout, rel)
			}
			return err
		})).To(Succeed())
		Expect(inArchive).To(ConsistOf(inLayout))
		Expect(inArchive).To(ContainElements("oci-layout", "index.json"))
	})

	It("writes an SBOM per platform that lists the modules linked into the manager", func() {
		for name, pi := range images {
			path := filepath.Join(GinkgoT().TempDir(), "manager")
			Expect(os.WriteFile(path, pi.files["manager"].data, 0o755)).To(Succeed())
			bi, err := buildinfo.ReadFile(path)
			Expect(err).NotTo(HaveOccurred())

			f, err := os.Open(filepath.Join(buildA, "sbom-"+pi.config.OS+"-"+pi.config.Architecture+".cdx.json"))
			Expect(err).NotTo(HaveOccurred())
			bom := &cdx.BOM{}
			Expect(cdx.NewBOMDecoder(f, cdx.BOMFileFormatJSON).Decode(bom)).To(Succeed())
			Expect(f.Close()).To(Succeed())
			Expect(bom.SpecVersion).To(Equal(cdx.SpecVersion1_6))
			Expect(bom.Metadata.Component.Type).To(Equal(cdx.ComponentTypeContainer))
			Expect(bom.Metadata.Component.Version).To(Equal(testVersion))
			Expect(bom.Metadata.Timestamp).To(Equal("2026-01-02T03:04:05Z"))

			purls := map[string]bool{}
			for _, c := range *bom.Components {
				purls[c.PackageURL] = true
			}
			Expect(purls).To(HaveKey("pkg:golang/github.com/igconnect/igconnect@"+bi.Main.Version), name)
			Expect(purls).To(HaveKey("pkg:golang/stdlib@"+bi.GoVersion[len("go"):]), name)
			Expect(bi.Deps).NotTo(BeEmpty())
			for _, m := range bi.Deps {
				if m.Replace != nil {
					m = m.Replace
				}
				Expect(purls).To(HaveKey("pkg:golang/"+m.Path+"@"+m.Version), "%s: the SBOM misses %s", name, m.Path)
			}
			var caHash string
			for _, c := range *bom.Components {
				if c.Name == "/etc/ssl/certs/ca-certificates.crt" {
					caHash = (*c.Hashes)[0].Value
				}
			}
			Expect(caHash).To(Equal(sha256Hex(pi.files["etc/ssl/certs/ca-certificates.crt"].data)))
		}
	})
})

func sha256File(path string) string {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return sha256Hex(b)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
