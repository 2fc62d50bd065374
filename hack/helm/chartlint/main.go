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

// Command chartlint is `helm lint --strict` for charts/igconnect, through the Helm SDK that
// go.mod pins (no helm binary needed): it lints the chart with its default values and with
// each ci/*-values.yaml, prints every message and fails on any warning or error.
//
// Usage, from the repository root: go run ./hack/helm/chartlint [chart-dir].
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"sigs.k8s.io/yaml"
)

// namespace is the release namespace the templates are linted in.
const namespace = "igconnect-system"

func main() {
	dir := "charts/igconnect"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	failed, err := lintAll(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chartlint:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// lintAll lints dir with its defaults and each ci values file; it reports whether any run
// found a warning or worse.
func lintAll(dir string) (bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "ci", "*-values.yaml"))
	if err != nil {
		return false, err
	}
	sort.Strings(files)
	runs := append([]string{""}, files...)
	failed := false
	for _, f := range runs {
		values := map[string]any{}
		label := "default values"
		if f != "" {
			label = f
			b, err := os.ReadFile(f)
			if err != nil {
				return false, err
			}
			if err := yaml.Unmarshal(b, &values); err != nil {
				return false, fmt.Errorf("%s: %w", f, err)
			}
		}
		result := lint.RunAll(dir, values, namespace)
		for _, m := range result.Messages {
			fmt.Printf("%s: %s\n", label, m.Error())
		}
		if result.HighestSeverity >= support.WarningSev {
			failed = true
			fmt.Printf("chartlint: %s: FAILED\n", label)
		} else {
			fmt.Printf("chartlint: %s: ok\n", label)
		}
	}
	return failed, nil
}
