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
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func TestKStatusOfConnections(t *testing.T) {
	for _, tt := range states() {
		t.Run(tt.name, func(t *testing.T) {
			res, err := status.Compute(&unstructured.Unstructured{Object: unstructuredOf(t, tt.conn)})
			if err != nil {
				t.Fatalf("kstatus: %v", err)
			}
			if res.Status != tt.kstatus {
				t.Errorf("kstatus = %s (%q), want %s", res.Status, res.Message, tt.kstatus)
			}
			t.Logf("kstatus %s: %s", res.Status, res.Message)
		})
	}
}
