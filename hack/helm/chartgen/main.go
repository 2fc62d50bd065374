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

// Command chartgen writes the parts of charts/igconnect that come from other sources, so
// that they cannot drift from them (`make manifests` runs it):
//
//   - templates/crds/<plural>.yaml from each CRD in config/crd/bases, wrapped in
//     crds.enabled and annotated helm.sh/resource-policy: keep under crds.keep;
//   - templates/_manager_rules.tpl, the manager's RBAC rules of config/rbac/role.yaml, which
//     the chart renders as its ClusterRole or as a Role per watched namespace;
//   - the values table of docs/install.md, from values.schema.json and values.yaml.
//
// Run it from the repository root: go run ./hack/helm/chartgen.
package main

import (
	"fmt"
	"os"
)

// Paths, relative to the repository root.
const (
	crdDir       = "config/crd/bases"
	managerRole  = "config/rbac/role.yaml"
	chartDir     = "charts/igconnect"
	installGuide = "docs/install.md"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chartgen:", err)
		os.Exit(1)
	}
}

func run() error {
	if err := writeCRDTemplates(crdDir, chartDir); err != nil {
		return err
	}
	if err := writeManagerRules(managerRole, chartDir); err != nil {
		return err
	}
	return writeValuesTable(chartDir, installGuide)
}
