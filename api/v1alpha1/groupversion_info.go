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

// Package v1alpha1 contains the v1alpha1 API of the instagram.igconnect.dev group: the
// InstagramConnection resource, its condition types and reasons, and the well-known names
// (labels, annotations, Secret keys) that users and the operator share.
// +kubebuilder:object:generate=true
// +groupName=instagram.igconnect.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "instagram.igconnect.dev", Version: "v1alpha1"}

	// SchemeBuilder adds the Go types of this group-version to a scheme. It is apimachinery's
	// builder rather than controller-runtime's (deprecated), so importing the API pulls in
	// only apimachinery.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers InstagramConnection and its list, plus the meta types (ListOptions,
// ...) every group-version needs for the client to encode requests.
func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, &InstagramConnection{}, &InstagramConnectionList{})
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
