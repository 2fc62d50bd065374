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
	"os"
	"path/filepath"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// writeManagerRules writes chart/templates/_manager_rules.tpl: the named template
// igconnect.managerRules, the rules of the ClusterRole that controller-gen writes to src.
func writeManagerRules(src, chart string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(b, &role); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if role.Kind != "ClusterRole" || len(role.Rules) == 0 {
		return fmt.Errorf("%s: want a ClusterRole with rules", src)
	}
	rules, err := yaml.Marshal(role.Rules)
	if err != nil {
		return err
	}
	var w strings.Builder
	fmt.Fprintf(&w, generatedHeader, filepath.ToSlash(src))
	w.WriteString("{{- define \"igconnect.managerRules\" -}}\n")
	w.WriteString(string(rules))
	w.WriteString("{{- end }}\n")
	return os.WriteFile(filepath.Join(chart, "templates", "_manager_rules.tpl"), []byte(w.String()), 0o644)
}
