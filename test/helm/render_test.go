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
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/igconnect/igconnect/test/deploy/deploycheck"
)

// release is where a rendering is installed: the release name and namespace of
// `helm install NAME -n NAMESPACE`.
type release struct {
	name, namespace string
}

// defaultRelease is the install docs/install.md shows, whose names are those of config/default.
var defaultRelease = release{name: "igconnect", namespace: "igconnect-system"}

// loadChart loads charts/igconnect from disk, as `helm install ./charts/igconnect` does.
func loadChart() (*chart.Chart, error) {
	return loader.Load(chartDir)
}

// renderChart renders the chart for rel with values over its defaults, as `helm template`
// does: the values are coalesced with values.yaml and validated against values.schema.json,
// then every template is rendered; NOTES.txt and the partials are left out, the rest is
// split into objects in the order of the template files' names.
func renderChart(rel release, values map[string]any) ([]*unstructured.Unstructured, error) {
	ch, err := loadChart()
	if err != nil {
		return nil, err
	}
	top, err := chartutil.ToRenderValues(ch, values,
		common.ReleaseOptions{Name: rel.name, Namespace: rel.namespace, IsInstall: true, Revision: 1}, nil)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, top)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var objs []*unstructured.Unstructured
	for _, name := range names {
		docs, err := deploycheck.DecodeYAML([]byte(files[name]))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		objs = append(objs, docs...)
	}
	return objs, nil
}

// valuesFile reads a values file of the chart, e.g. ci/namespaced-values.yaml.
func valuesFile(name string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(chartDir, name))
	if err != nil {
		return nil, err
	}
	values := map[string]any{}
	if err := yaml.Unmarshal(b, &values); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return values, nil
}

// setValues builds a values map from "a.b.c" keys, as repeated --set flags do.
func setValues(kv map[string]any) map[string]any {
	out := map[string]any{}
	for key, v := range kv {
		m := out
		parts := strings.Split(key, ".")
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
	return out
}
