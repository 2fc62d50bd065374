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
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/igconnect/igconnect/test/deploy/deploycheck"
)

// applyForReal creates every object but the CRD (already installed), so that the API
// server's authorizer can be asked about the RBAC objects among them.
func applyForReal(objs []*unstructured.Unstructured) {
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			continue
		}
		ExpectWithOffset(1, env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
			deploycheck.FieldOwner, client.ForceOwnership)).To(Succeed(), "apply %s", deploycheck.Describe(o))
	}
}

// fromMap converts one element of an unstructured object into its Go type.
func fromMap(v any, into any) error {
	m, _ := v.(map[string]any)
	return runtime.DefaultUnstructuredConverter.FromUnstructured(m, into)
}

// accessReview asks whether the service account namespace/name may verb the core resource
// named name in namespace.
func accessReview(namespace, sa, verb, resource, name string) *authorizationv1.SubjectAccessReview {
	return &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   "system:serviceaccount:" + namespace + ":" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Resource: resource, Name: name, Namespace: namespace},
	}}
}
