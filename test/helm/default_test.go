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
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/igconnect/igconnect/test/deploy/deploycheck"
)

var _ = Describe("the chart with its default values", Ordered, func() {
	var objs, kustomized []*unstructured.Unstructured
	var deployment *appsv1.Deployment

	BeforeAll(func() {
		var err error
		objs, err = renderChart(defaultRelease, nil)
		Expect(err).NotTo(HaveOccurred())
		kustomized, err = deploycheck.RenderKustomize(filepath.Join(repoRoot, "config", "default"))
		Expect(err).NotTo(HaveOccurred())
		deployment, err = deploycheck.Typed(deploycheck.Find(objs, "Deployment", "igconnect-controller-manager"), &appsv1.Deployment{})
		Expect(err).NotTo(HaveOccurred())
		createNamespaces(defaultRelease.namespace)
	})

	It("renders config/default's objects, each as config/default does but for labels, selectors and the image tag", func() {
		expectEquivalent(objs, kustomized)
	})

	It("selects the manager's pods from its Deployment and both Services, as config/default does", func() {
		pods := labels.Set(deployment.Spec.Template.Labels)
		sel, err := metav1LabelSelector(deployment.Spec.Selector)
		Expect(err).NotTo(HaveOccurred())
		Expect(sel.Matches(pods)).To(BeTrue(), "the Deployment selects its own pods")
		for _, o := range deploycheck.OfKind(objs, "Service") {
			svc, err := deploycheck.Typed(o, &corev1.Service{})
			Expect(err).NotTo(HaveOccurred())
			Expect(svc.Spec.Selector).NotTo(BeEmpty())
			Expect(labels.SelectorFromSet(svc.Spec.Selector).Matches(pods)).To(BeTrue(), "%s selects the manager's pods", svc.Name)
		}
	})

	It("is accepted by the API server: a server-side dry-run apply of every object", func() {
		deploycheck.ExpectDryRunApplied(ctx, env, objs)
	})

	It("runs the manager as the restricted Pod Security Standard requires, and passes its admission", func() {
		deploycheck.ExpectRestrictedPodSpec(deployment.Spec.Template.Spec)
		deploycheck.ExpectAdmittedRestricted(ctx, env, deployment, defaultRelease.namespace)
	})

	It("grants the manager exactly the generated rules cluster-wide, leases only in its namespace", func() {
		role, err := deploycheck.Typed(deploycheck.Find(objs, "ClusterRole", "igconnect-manager-role"), &rbacv1.ClusterRole{})
		Expect(err).NotTo(HaveOccurred())
		Expect(deploycheck.Flatten(role.Rules)).To(Equal(deploycheck.ManagerRules))
		leader, err := deploycheck.Typed(deploycheck.Find(objs, "Role", "igconnect-leader-election-role"), &rbacv1.Role{})
		Expect(err).NotTo(HaveOccurred())
		Expect(leader.Namespace).To(Equal(defaultRelease.namespace))
		Expect(deploycheck.Flatten(leader.Rules)).To(Equal(deploycheck.LeaderElectionRules))
		deploycheck.ExpectLeastPrivilege(objs)
	})

	It("lets the service account do that much and no more, as the API server's authorizer decides", func() {
		applyForReal(objs)
		deploycheck.ExpectAccess(ctx, env, defaultRelease.namespace, "igconnect-controller-manager",
			deploycheck.ManagerAccess(defaultRelease.namespace, "marketing", "", true))
	})

	It("keeps the CRD on uninstall, and leaves it out when crds.enabled is false", func() {
		crd := deploycheck.Find(objs, "CustomResourceDefinition", "instagramconnections.instagram.igconnect.dev")
		Expect(crd).NotTo(BeNil())
		Expect(crd.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))

		noKeep, err := renderChart(defaultRelease, setValues(map[string]any{"crds.keep": false}))
		Expect(err).NotTo(HaveOccurred())
		crd = deploycheck.Find(noKeep, "CustomResourceDefinition", "instagramconnections.instagram.igconnect.dev")
		Expect(crd).NotTo(BeNil())
		Expect(crd.GetAnnotations()).NotTo(HaveKey("helm.sh/resource-policy"))

		noCRD, err := renderChart(defaultRelease, setValues(map[string]any{"crds.enabled": false}))
		Expect(err).NotTo(HaveOccurred())
		Expect(deploycheck.OfKind(noCRD, "CustomResourceDefinition")).To(BeEmpty())
		Expect(noCRD).To(HaveLen(len(objs) - 1))
	})
})

var _ = Describe("the chart with ci/namespaced-values.yaml", func() {
	It("renders what config/namespaced renders, in the same sense as the defaults config/default", func() {
		dir := filepath.Join(repoRoot, "config", "namespaced")
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			Skip("config/namespaced, the kustomize namespace-scoped install, is not in this tree")
		}
		kustomized, err := deploycheck.RenderKustomize(dir)
		Expect(err).NotTo(HaveOccurred())
		values, err := valuesFile(filepath.Join("ci", "namespaced-values.yaml"))
		Expect(err).NotTo(HaveOccurred())
		objs, err := renderChart(defaultRelease, values)
		Expect(err).NotTo(HaveOccurred())
		expectEquivalent(objs, kustomized)
	})
})
