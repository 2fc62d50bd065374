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

package deploy

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/igconnect/igconnect/test/deploy/deploycheck"
)

var _ = Describe("config/samples", func() {
	It("is accepted by the API server, CRD validation included", func() {
		objs, err := render("config/samples")
		Expect(err).NotTo(HaveOccurred())
		kinds := make([]string, 0, len(objs))
		for _, o := range objs {
			kinds = append(kinds, o.GetKind())
		}
		Expect(kinds).To(ConsistOf("InstagramConnection", "InstagramConnection", "Secret"),
			"a GitOps-style connection, and an import: its Secret and its connection")

		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "samples"}}
		Expect(env.Client.Create(ctx, ns)).To(Succeed())
		for _, o := range objs {
			o = o.DeepCopy()
			o.SetNamespace(ns.Name)
			Expect(env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o),
				deploycheck.FieldOwner, client.ForceOwnership, client.DryRunAll)).To(Succeed(), "dry-run apply %s", deploycheck.Describe(o))
		}
	})
})
