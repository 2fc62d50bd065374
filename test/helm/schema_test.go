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

package helm

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
)

var _ = Describe("values.schema.json", func() {
	// Each bad value is refused before anything renders, with a message that names the value
	// and says what is wrong with it.
	DescribeTable("refuses bad values with a readable message",
		func(values map[string]any, want ...string) {
			objs, err := renderChart(defaultRelease, setValues(values))
			Expect(objs).To(BeNil())
			Expect(err).To(HaveOccurred())
			GinkgoWriter.Printf("%v\n", err)
			Expect(err.Error()).To(ContainSubstring("values don't meet the specifications of the schema"))
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("a misspelt key", map[string]any{"replicas": 2},
			"additional properties 'replicas' not allowed"),
		Entry("a misspelt nested key", map[string]any{"image.tags": "v1"},
			"at '/image'", "additional properties 'tags' not allowed"),
		Entry("a number as text", map[string]any{"replicaCount": "two"},
			"at '/replicaCount'", "got string, want integer"),
		Entry("a negative replica count", map[string]any{"replicaCount": -1},
			"at '/replicaCount'", "minimum"),
		Entry("an unknown pull policy", map[string]any{"image.pullPolicy": "Sometimes"},
			"at '/image/pullPolicy'", "'Always', 'IfNotPresent', 'Never'"),
		Entry("a digest that is not one", map[string]any{"image.digest": "latest"},
			"at '/image/digest'", "does not match pattern"),
		Entry("a public URL without a scheme", map[string]any{"publicURL": "igconnect.example.org"},
			"at '/publicURL'", "does not match pattern"),
		Entry("a namespace that cannot be one", map[string]any{"watchNamespaces": []any{"Team_A"}},
			"at '/watchNamespaces/0'", "does not match pattern"),
		Entry("a namespace given twice", map[string]any{"watchNamespaces": []any{"team-a", "team-a"}},
			"at '/watchNamespaces'", "items at 0 and 1 are equal"),
		Entry("a flag without its dashes", map[string]any{"extraArgs": []any{"leader-elect"}},
			"at '/extraArgs/0'", "does not match pattern"),
		Entry("a string for a switch", map[string]any{"crds.enabled": "yes"},
			"at '/crds/enabled'", "got string, want boolean"),
		Entry("an environment variable without a name", map[string]any{"extraEnv": []any{map[string]any{"value": "x"}}},
			"at '/extraEnv/0'", "missing property 'name'"),
	)

	It("refuses several replicas without leader election, saying why", func() {
		_, err := renderChart(defaultRelease, setValues(map[string]any{"replicaCount": 2, "leaderElection.enabled": false}))
		Expect(err).To(MatchError(ContainSubstring("replicaCount above 1 needs leaderElection.enabled")))
	})
})

var _ = Describe("helm lint", func() {
	It("finds nothing to warn about, with the default values and with each ci values file", func() {
		runs := map[string]map[string]any{"default values": nil}
		for _, name := range ciNames() {
			values, err := valuesFile(filepath.Join("ci", name+"-values.yaml"))
			Expect(err).NotTo(HaveOccurred())
			runs[name] = values
		}
		for label, values := range runs {
			result := lint.RunAll(chartDir, values, defaultRelease.namespace)
			for _, m := range result.Messages {
				GinkgoWriter.Printf("%s: %s\n", label, m.Error())
			}
			Expect(result.HighestSeverity).To(BeNumerically("<", support.WarningSev), "%s: %v", label, result.Messages)
		}
	})
})
