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
	"strings"
	"testing"
)

const crdYAML = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  annotations:
    controller-gen.kubebuilder.io/version: v0.23.0
  name: widgets.example.org
spec:
  group: example.org
  names:
    kind: Widget
    plural: widgets
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        description: DESCRIPTION
        type: object
`

func TestCRDTemplate(t *testing.T) {
	name, tpl, err := crdTemplate("widgets.yaml", []byte(crdYAML))
	if err != nil {
		t.Fatal(err)
	}
	if name != "widgets" {
		t.Errorf("name = %q, want widgets", name)
	}
	text := string(tpl)
	for _, want := range []string{
		"{{- if .Values.crds.enabled }}\n",
		"  name: widgets.example.org\n",
		"    controller-gen.kubebuilder.io/version: \"v0.23.0\"\n",
		"    {{- if .Values.crds.keep }}\n    helm.sh/resource-policy: keep\n    {{- end }}\n",
		"spec:\n  group: example.org\n",
		"        description: DESCRIPTION\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("template lacks %q:\n%s", want, text)
		}
	}
	if !strings.HasSuffix(text, "{{- end }}\n") {
		t.Errorf("template does not close crds.enabled:\n%s", text)
	}
}

func TestCRDTemplateRefusesTemplateActions(t *testing.T) {
	bad := strings.Replace(crdYAML, "DESCRIPTION", "a {{ .Values.x }} in the text", 1)
	if _, _, err := crdTemplate("widgets.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "{{") {
		t.Fatalf("want an error about {{, got %v", err)
	}
}

func TestCRDTemplateRefusesOtherKinds(t *testing.T) {
	other := strings.Replace(crdYAML, "kind: CustomResourceDefinition", "kind: ConfigMap", 1)
	if _, _, err := crdTemplate("widgets.yaml", []byte(other)); err == nil {
		t.Fatal("want an error for a ConfigMap")
	}
}
