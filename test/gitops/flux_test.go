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

package gitops

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// healthCheckExprs is one entry of a Flux Kustomization's spec.healthCheckExprs.
type healthCheckExprs struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	InProgress string `json:"inProgress"`
	Failed     string `json:"failed"`
	Current    string `json:"current"`
}

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// fluxExprsFromDocs reads the healthCheckExprs for InstagramConnection from the Flux
// Kustomization in docs/gitops.md, so the test runs what readers copy.
func fluxExprsFromDocs(t *testing.T) healthCheckExprs {
	t.Helper()
	var found []healthCheckExprs
	for _, block := range yamlBlock.FindAllStringSubmatch(readFile(t, "../../docs/gitops.md"), -1) {
		for _, doc := range strings.Split(block[1], "\n---\n") {
			var k struct {
				Kind string `json:"kind"`
				Spec struct {
					HealthCheckExprs []healthCheckExprs `json:"healthCheckExprs"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal([]byte(doc), &k); err != nil || k.Kind != "Kustomization" {
				continue
			}
			for _, e := range k.Spec.HealthCheckExprs {
				if e.APIVersion == igv1.GroupVersion.String() && e.Kind == "InstagramConnection" {
					found = append(found, e)
				}
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("docs/gitops.md: want one Kustomization healthCheckExprs entry for InstagramConnection, found %d", len(found))
	}
	return found[0]
}

// fluxExpression parses a health expression as Flux's kustomize-controller does (Flux 2.5+):
// parsed, not type-checked (custom resources have no declared types), in an environment
// with optional types, cross-type numeric comparisons and the strings, sets and encoders
// extensions, evaluated with the object's top-level fields as variables.
func fluxExpression(t *testing.T, expr string) cel.Program {
	t.Helper()
	env, err := cel.NewEnv(cel.HomogeneousAggregateLiterals(), cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true), cel.CrossTypeNumericComparisons(true), cel.OptionalTypes(),
		ext.Strings(), ext.Sets(), ext.Encoders())
	if err != nil {
		t.Fatal(err)
	}
	ast, iss := env.Parse(expr)
	if iss.Err() != nil {
		t.Fatalf("Flux would refuse the Kustomization (InvalidCELExpression): %q: %v", expr, iss.Err())
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.InterruptCheckFrequency(100))
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	return prg
}

// fluxStatus computes a resource's status as Flux does with healthCheckExprs: InProgress
// when status.observedGeneration is present and differs from metadata.generation; else the
// first of inProgress, failed and current that is true; else InProgress. An expression that
// fails to evaluate (a field not there yet) makes the status Unknown, and Flux checks again
// until its timeout.
func fluxStatus(t *testing.T, e healthCheckExprs, obj map[string]any) (status.Status, error) {
	t.Helper()
	observed, hasObserved, _ := unstructured.NestedInt64(obj, "status", "observedGeneration")
	gen, hasGen, _ := unstructured.NestedInt64(obj, "metadata", "generation")
	if hasObserved && hasGen && observed != gen {
		return status.InProgressStatus, nil
	}
	for _, step := range []struct {
		expr   string
		status status.Status
	}{{e.InProgress, status.InProgressStatus}, {e.Failed, status.FailedStatus}, {e.Current, status.CurrentStatus}} {
		if step.expr == "" {
			continue
		}
		val, _, err := fluxExpression(t, step.expr).ContextEval(context.Background(), obj)
		if err != nil {
			return fluxUnknown, err
		}
		b, ok := val.(types.Bool)
		if !ok {
			t.Fatalf("%q gives %v, not a boolean: Flux fails the health check", step.expr, val)
		}
		if b {
			return step.status, nil
		}
	}
	return status.InProgressStatus, nil
}

// TestFluxHealthOfConnections evaluates docs/gitops.md's healthCheckExprs with cel-go on every
// connection state.
func TestFluxHealthOfConnections(t *testing.T) {
	exprs := fluxExprsFromDocs(t)
	if exprs.Current == "" {
		t.Fatal("healthCheckExprs needs current; Flux refuses an entry without it")
	}
	for _, tt := range states() {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fluxStatus(t, exprs, unstructuredOf(t, tt.conn))
			if got != tt.flux {
				t.Errorf("Flux status = %s (%v), want %s", got, err, tt.flux)
			}
			t.Logf("Flux %s (%v)", got, err)
		})
	}
}
