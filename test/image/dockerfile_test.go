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
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// instruction is one Dockerfile instruction, its continuation lines joined.
type instruction struct {
	cmd, args string
}

// finalStage reads the Dockerfile's instructions from its last FROM on: what the image is.
func finalStage(dockerfile string) []instruction {
	GinkgoHelper()
	b, err := os.ReadFile(dockerfile)
	Expect(err).NotTo(HaveOccurred())
	var all []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		all = append(all, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	last := -1
	for i, in := range all {
		if in.cmd == "FROM" {
			last = i
		}
	}
	Expect(last).To(BeNumerically(">=", 0), "no FROM in %s", dockerfile)
	return all[last:]
}

// labelPair is one key="value" of a LABEL instruction.
var labelPair = regexp.MustCompile(`([a-z0-9.\-]+)="([^"]*)"`)

var _ = Describe("the Dockerfile", func() {
	It("produces the layout of make image: same paths, user, entrypoint and labels", func() {
		stage := finalStage(filepath.Join(repoRoot, "Dockerfile"))
		Expect(stage[0].args).To(Equal("scratch"), "no base image: nothing but what make image puts in")
		amd64 := readImages(buildA)["linux/amd64"]

		labels := map[string]string{}
		var files []string
		for _, in := range stage {
			switch in.cmd {
			case "USER":
				Expect(in.args).To(Equal(amd64.config.Config.User))
			case "WORKDIR":
				Expect(in.args).To(Equal(amd64.config.Config.WorkingDir))
			case "ENTRYPOINT":
				var ep []string
				Expect(json.Unmarshal([]byte(in.args), &ep)).To(Succeed(), "ENTRYPOINT in exec form")
				Expect(ep).To(Equal(amd64.config.Config.Entrypoint))
			case "LABEL":
				for _, m := range labelPair.FindAllStringSubmatch(in.args, -1) {
					labels[m[1]] = m[2]
				}
			case "COPY":
				files = append(files, copiedFiles(in.args)...)
			case "RUN":
				Fail("the final stage has no shell to RUN with: " + in.args)
			}
		}

		built := amd64.config.Config.Labels
		Expect(labels).To(HaveLen(len(built)))
		for key, value := range built {
			Expect(labels).To(HaveKey(key))
			switch key {
			case "org.opencontainers.image.version", "org.opencontainers.image.revision", "org.opencontainers.image.created":
				Expect(labels[key]).To(MatchRegexp(`^\$\{[A-Z]+\}$`), "%s comes from a build argument", key)
			default:
				Expect(labels[key]).To(Equal(value), key)
			}
		}

		var builtFiles []string
		for name, f := range amd64.files {
			if f.hdr.Typeflag == tar.TypeReg {
				builtFiles = append(builtFiles, name)
				if name == "etc/passwd" || name == "etc/group" {
					src, err := os.ReadFile(filepath.Join(repoRoot, "hack", "image", "rootfs", name))
					Expect(err).NotTo(HaveOccurred())
					Expect(string(f.data)).To(Equal(string(src)), "the Dockerfile copies the same %s", name)
				}
			}
		}
		sort.Strings(files)
		sort.Strings(builtFiles)
		Expect(files).To(Equal(builtFiles))
	})
})

// copiedFiles returns the files a COPY puts into the image, without the leading slash:
// the destination itself, or each source's name inside a destination folder.
func copiedFiles(args string) []string {
	var words []string
	for _, w := range strings.Fields(args) {
		if !strings.HasPrefix(w, "--") {
			words = append(words, w)
		}
	}
	dest := strings.TrimPrefix(words[len(words)-1], "/")
	if !strings.HasSuffix(dest, "/") {
		return []string{dest}
	}
	var out []string
	for _, src := range words[:len(words)-1] {
		out = append(out, dest+path.Base(src))
	}
	return out
}
