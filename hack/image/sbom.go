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
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// writeSBOM writes a CycloneDX SBOM of one platform's image: the manager and the Go modules
// linked into it, read from the binary's own build information (so it lists exactly what
// was compiled in, not what go.mod mentions), the Go standard library, and the CA bundle.
func writeSBOM(path string, o options, p platform, binary string) error {
	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		return err
	}
	caBundle, err := os.ReadFile(o.caBundle)
	if err != nil {
		return err
	}

	imageName, _, _ := strings.Cut(o.name, ":")
	image := cdx.Component{BOMRef: "image", Type: cdx.ComponentTypeContainer, Name: imageName, Version: o.version,
		Properties: &[]cdx.Property{{Name: "platform", Value: p.String()}}}
	manager := goComponent(cdx.ComponentTypeApplication, bi.Main.Path, bi.Main.Version)
	manager.Properties = buildSettings(bi)
	stdlib := goComponent(cdx.ComponentTypeLibrary, "stdlib", strings.TrimPrefix(bi.GoVersion, "go"))
	sum := sha256.Sum256(caBundle)
	ca := cdx.Component{BOMRef: "file:/" + caBundlePath, Type: cdx.ComponentTypeFile, Name: "/" + caBundlePath,
		Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hex.EncodeToString(sum[:])}}}
	if v := debianVersion("ca-certificates"); v != "" {
		ca.Version = v
		ca.PackageURL = "pkg:deb/debian/ca-certificates@" + v
	}

	components := []cdx.Component{manager, stdlib, ca}
	managerDeps := []string{stdlib.BOMRef}
	for _, m := range bi.Deps {
		if m.Replace != nil {
			m = m.Replace
		}
		c := goComponent(cdx.ComponentTypeLibrary, m.Path, m.Version)
		components = append(components, c)
		managerDeps = append(managerDeps, c.BOMRef)
	}

	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Timestamp: o.created.Format(time.RFC3339),
		Component: &image,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "igconnect hack/image",
		}}},
	}
	bom.Components = &components
	bom.Dependencies = &[]cdx.Dependency{
		{Ref: image.BOMRef, Dependencies: &[]string{manager.BOMRef, ca.BOMRef}},
		{Ref: manager.BOMRef, Dependencies: &managerDeps},
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := cdx.NewBOMEncoder(f, cdx.BOMFileFormatJSON).SetPretty(true).EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// goComponent is a Go module with its package URL as reference.
func goComponent(typ cdx.ComponentType, path, version string) cdx.Component {
	purl := "pkg:golang/" + path
	if version != "" {
		purl += "@" + version
	}
	return cdx.Component{BOMRef: purl, Type: typ, Name: path, Version: version, PackageURL: purl}
}

// buildSettings records how the binary was built (GOOS, GOARCH, CGO_ENABLED, -trimpath,
// the commit), from its build information.
func buildSettings(bi *buildinfo.BuildInfo) *[]cdx.Property {
	props := make([]cdx.Property, 0, len(bi.Settings))
	for _, s := range bi.Settings {
		props = append(props, cdx.Property{Name: "go:build:" + s.Key, Value: s.Value})
	}
	return &props
}

// debianVersion is the installed version of a Debian package, or "" without dpkg.
func debianVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
