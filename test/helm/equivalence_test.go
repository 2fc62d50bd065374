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
	"strings"

	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// The equivalence of the chart's default rendering with config/default, precisely:
//
//   - the same objects, by kind, namespace and name, except config/default's Namespace
//     (Helm installs into a namespace the user names, and a chart that owned it would delete
//     it, token Secrets and all, on uninstall);
//   - each object identical once these are set aside: metadata.labels (Helm's
//     app.kubernetes.io/instance, helm.sh/chart and managed-by: Helm against kustomize's
//     managed-by), the CRD's helm.sh/resource-policy annotation (crds.keep), and the label
//     selectors of the Deployment and the Services with the pod template's labels, which the
//     tests check instead select the same pods; and the manager's image, whose repository must
//     be the same and whose tag is config/default's "latest" against the chart's appVersion.
//
// So RBAC rules, role references and subjects, the CRD's spec, the Services' ports, and the
// Deployment's replicas, arguments, environment, ports, probes, resources and security
// contexts must all be equal.

// expectEquivalent checks that the chart's objects are the kustomize rendering's, in the
// sense above.
func expectEquivalent(chartObjs, kustomized []*unstructured.Unstructured) {
	ch, err := loadChart()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	var want []string
	got := make([]string, 0, len(chartObjs))
	for _, o := range kustomized {
		if o.GetKind() != "Namespace" {
			want = append(want, objectKey(o))
		}
	}
	for _, o := range chartObjs {
		got = append(got, objectKey(o))
	}
	ExpectWithOffset(1, got).To(ConsistOf(want), "the same kinds, names and namespaces, less the Namespace")

	for _, k := range kustomized {
		if k.GetKind() == "Namespace" {
			continue
		}
		var h *unstructured.Unstructured
		for _, o := range chartObjs {
			if objectKey(o) == objectKey(k) {
				h = o
			}
		}
		ExpectWithOffset(1, h).NotTo(BeNil(), objectKey(k))
		hn, himages := normalized(h)
		kn, kimages := normalized(k)
		ExpectWithOffset(1, hn.Object).To(Equal(kn.Object), "%s differs from the kustomize rendering", objectKey(k))
		for name, kimg := range kimages {
			ExpectWithOffset(1, himages).To(HaveKey(name))
			ExpectWithOffset(1, himages[name][0]).To(Equal(kimg[0]), "container %s: the same image repository", name)
			ExpectWithOffset(1, kimg[1]).To(Equal("latest"))
			ExpectWithOffset(1, himages[name][1]).To(Equal(ch.Metadata.AppVersion), "container %s: the chart's appVersion as tag", name)
		}
	}
}

// objectKey names an object by kind, namespace and name.
func objectKey(u *unstructured.Unstructured) string {
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// normalized returns a copy of u without what the equivalence sets aside, and the image of
// each container, split into repository and tag.
func normalized(u *unstructured.Unstructured) (*unstructured.Unstructured, map[string][2]string) {
	u = u.DeepCopy()
	unstructured.RemoveNestedField(u.Object, "metadata", "labels")
	if a := u.GetAnnotations(); a != nil {
		delete(a, "helm.sh/resource-policy")
		if len(a) == 0 {
			a = nil
		}
		u.SetAnnotations(a)
	}
	images := map[string][2]string{}
	switch u.GetKind() {
	case "Service":
		unstructured.RemoveNestedField(u.Object, "spec", "selector")
	case "Deployment":
		unstructured.RemoveNestedField(u.Object, "spec", "selector")
		unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "labels")
		containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		for i, c := range containers {
			m := c.(map[string]any)
			image, _ := m["image"].(string)
			repo, tag := splitImage(image)
			images[m["name"].(string)] = [2]string{repo, tag}
			m["image"] = repo
			containers[i] = m
		}
		_ = unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers")
	}
	return u, images
}

// splitImage splits repository:tag; a digest stays with the tag.
func splitImage(image string) (repo, tag string) {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i], image[i:]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i], image[i+1:]
	}
	return image, ""
}

// metav1LabelSelector turns a Deployment's selector into a labels.Selector.
func metav1LabelSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(s)
}
