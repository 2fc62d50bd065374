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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/igconnect/igconnect/test/deploy/deploycheck"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// What config/default must produce. The names are the contract of `make deploy`: the
// Makefile, the docs and people's overlays refer to them.
const (
	operatorNamespace  = "igconnect-system"
	deploymentName     = "igconnect-controller-manager"
	serviceAccountName = "igconnect-controller-manager"
	managerRoleName    = "igconnect-manager-role"
	leaderRoleName     = "igconnect-leader-election-role"
	appSecretName      = "igconnect-instagram-app"
	managerImage       = "igconnect/manager:latest"
)

var _ = Describe("config/default", Ordered, func() {
	var objs []*unstructured.Unstructured
	var deployment *appsv1.Deployment

	BeforeAll(func() {
		var err error
		objs, err = render("config/default")
		Expect(err).NotTo(HaveOccurred())
		deployment, err = deploycheck.Typed(deploycheck.Find(objs, "Deployment", deploymentName), &appsv1.Deployment{})
		Expect(err).NotTo(HaveOccurred())

		// The namespace is really created, so that the namespaced objects can be dry-run
		// into it and PodSecurity admission reads its labels.
		ns := deploycheck.Find(objs, "Namespace", operatorNamespace)
		Expect(ns).NotTo(BeNil(), "config/default renders the namespace %s", operatorNamespace)
		Expect(env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(ns.DeepCopy()),
			deploycheck.FieldOwner, client.ForceOwnership)).To(Succeed())
	})

	It("renders the operator's objects, each in igconnect-system with the igconnect- prefix", func() {
		got := make([]string, 0, len(objs))
		for _, o := range objs {
			got = append(got, deploycheck.Describe(o))
		}
		Expect(got).To(ConsistOf(
			"Namespace igconnect-system",
			"CustomResourceDefinition instagramconnections.instagram.igconnect.dev",
			"ServiceAccount igconnect-system/igconnect-controller-manager",
			"Role igconnect-system/igconnect-leader-election-role",
			"RoleBinding igconnect-system/igconnect-leader-election-rolebinding",
			"ClusterRole igconnect-manager-role",
			"ClusterRoleBinding igconnect-manager-rolebinding",
			"ClusterRole igconnect-instagramconnection-editor-role",
			"ClusterRole igconnect-instagramconnection-viewer-role",
			"Deployment igconnect-system/igconnect-controller-manager",
			"Service igconnect-system/igconnect-callback",
			"Service igconnect-system/igconnect-controller-manager-metrics-service",
		))
	})

	It("is accepted by the API server: a server-side dry-run apply of every object", func() {
		deploycheck.ExpectDryRunApplied(ctx, env, objs)
	})

	It("labels the namespace to enforce the restricted Pod Security Standard", func() {
		labels := deploycheck.Find(objs, "Namespace", operatorNamespace).GetLabels()
		Expect(labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
		Expect(labels).To(HaveKeyWithValue("pod-security.kubernetes.io/warn", "restricted"))
		Expect(labels).To(HaveKeyWithValue("pod-security.kubernetes.io/audit", "restricted"))
	})

	It("runs the manager as the restricted Pod Security Standard requires", func() {
		deploycheck.ExpectRestrictedPodSpec(deployment.Spec.Template.Spec)
	})

	It("passes restricted PodSecurity admission, which refuses a pod that breaks the standard", func() {
		deploycheck.ExpectAdmittedRestricted(ctx, env, deployment, operatorNamespace)
	})

	It("gives the manager probes, resources, its arguments and its environment", func() {
		Expect(deployment.Spec.Template.Spec.ServiceAccountName).To(Equal(serviceAccountName))
		c := deployment.Spec.Template.Spec.Containers[0]
		Expect(c.Image).To(Equal(managerImage), "make deploy replaces this exact string with IMG")
		Expect(c.Args).To(ContainElements("--leader-elect", "--metrics-bind-address=:8080"))
		Expect(c.Args).To(ContainElement(HavePrefix("--public-url=https://")))

		probe := func(p *corev1.Probe, path string) {
			Expect(p).NotTo(BeNil())
			Expect(p.HTTPGet).NotTo(BeNil())
			Expect(p.HTTPGet.Path).To(Equal(path))
			Expect(containerPort(c, p.HTTPGet.Port)).To(BeEquivalentTo(8081))
		}
		probe(c.LivenessProbe, "/healthz")
		probe(c.ReadinessProbe, "/readyz")

		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			Expect(c.Resources.Requests).To(HaveKey(res))
			Expect(c.Resources.Limits).To(HaveKey(res))
			req, limit := c.Resources.Requests[res], c.Resources.Limits[res]
			Expect(req.Cmp(limit)).To(BeNumerically("<=", 0), "%s: request within limit", res)
		}

		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
		}
		Expect(env["POD_NAMESPACE"].ValueFrom).To(HaveValue(HaveField("FieldRef.FieldPath", "metadata.namespace")))
		for name, key := range map[string]string{
			"INSTAGRAM_CLIENT_ID":     igv1.AppSecretKeyClientID,
			"INSTAGRAM_CLIENT_SECRET": igv1.AppSecretKeyClientSecret,
		} {
			ref := env[name].ValueFrom
			Expect(ref).NotTo(BeNil(), name)
			Expect(ref.SecretKeyRef).NotTo(BeNil(), name)
			Expect(ref.SecretKeyRef.Name).To(Equal(appSecretName), name)
			Expect(ref.SecretKeyRef.Key).To(Equal(key), name)
			Expect(ref.SecretKeyRef.Optional).To(HaveValue(BeTrue()), "%s: the operator's app is optional", name)
		}
	})

	It("exposes the callback server on port 80 and the metrics on 8080", func() {
		c := deployment.Spec.Template.Spec.Containers[0]
		for name, want := range map[string][2]int32{
			"igconnect-callback":                           {80, 8082},
			"igconnect-controller-manager-metrics-service": {8080, 8080},
		} {
			svc, err := deploycheck.Typed(deploycheck.Find(objs, "Service", name), &corev1.Service{})
			Expect(err).NotTo(HaveOccurred())
			Expect(svc.Spec.Selector).NotTo(BeEmpty(), name)
			for k, v := range svc.Spec.Selector {
				Expect(deployment.Spec.Template.Labels).To(HaveKeyWithValue(k, v), "%s selects the manager's pods", name)
			}
			Expect(svc.Spec.Ports).To(HaveLen(1), name)
			Expect(svc.Spec.Ports[0].Port).To(Equal(want[0]), name)
			Expect(containerPort(c, svc.Spec.Ports[0].TargetPort)).To(Equal(want[1]), name)
		}
	})

	It("grants the manager exactly the generated cluster-wide rules: no wildcard, nothing else", func() {
		role, err := deploycheck.Typed(deploycheck.Find(objs, "ClusterRole", managerRoleName), &rbacv1.ClusterRole{})
		Expect(err).NotTo(HaveOccurred())
		Expect(deploycheck.Flatten(role.Rules)).To(Equal(deploycheck.ManagerRules))
		for _, r := range role.Rules {
			Expect(r.NonResourceURLs).To(BeEmpty())
			Expect(r.ResourceNames).To(BeEmpty())
		}
	})

	It("grants leases only in the operator's namespace", func() {
		role, err := deploycheck.Typed(deploycheck.Find(objs, "Role", leaderRoleName), &rbacv1.Role{})
		Expect(err).NotTo(HaveOccurred())
		Expect(role.Namespace).To(Equal(operatorNamespace))
		Expect(deploycheck.Flatten(role.Rules)).To(Equal(deploycheck.LeaderElectionRules))
		for _, u := range deploycheck.OfKind(objs, "ClusterRole") {
			cr, err := deploycheck.Typed(u, &rbacv1.ClusterRole{})
			Expect(err).NotTo(HaveOccurred())
			for _, r := range deploycheck.Flatten(cr.Rules) {
				Expect(r.Resource).NotTo(HavePrefix("coordination.k8s.io/"), "ClusterRole %s", cr.Name)
			}
		}
	})

	It("has no wildcard, no escalation and no cluster-wide write beyond connections, Secrets and events", func() {
		deploycheck.ExpectLeastPrivilege(objs)
	})

	It("binds the manager's roles, and only those, to its service account", func() {
		want := rbacv1.Subject{Kind: "ServiceAccount", Name: serviceAccountName, Namespace: operatorNamespace}
		crbs := deploycheck.OfKind(objs, "ClusterRoleBinding")
		Expect(crbs).To(HaveLen(1), "the editor and viewer roles are left for the cluster admin to bind")
		crb, err := deploycheck.Typed(crbs[0], &rbacv1.ClusterRoleBinding{})
		Expect(err).NotTo(HaveOccurred())
		Expect(crb.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: managerRoleName}))
		Expect(crb.Subjects).To(ConsistOf(want))

		rbs := deploycheck.OfKind(objs, "RoleBinding")
		Expect(rbs).To(HaveLen(1))
		rb, err := deploycheck.Typed(rbs[0], &rbacv1.RoleBinding{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rb.Namespace).To(Equal(operatorNamespace))
		Expect(rb.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: leaderRoleName}))
		Expect(rb.Subjects).To(ConsistOf(want))
	})

	It("lets the service account do that much and no more, as the API server's authorizer decides", func() {
		// Now for real: the RBAC objects are created, and the API server's RBAC authorizer
		// answers SubjectAccessReviews for the manager's service account.
		for _, o := range objs {
			if o.GetKind() == "CustomResourceDefinition" {
				continue
			}
			Expect(env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
				deploycheck.FieldOwner, client.ForceOwnership)).To(Succeed(), "apply %s", deploycheck.Describe(o))
		}
		deploycheck.ExpectAccess(ctx, env, operatorNamespace, serviceAccountName,
			deploycheck.ManagerAccess(operatorNamespace, "marketing", "", true))
	})
})

// containerPort resolves a Service or probe port (a number or a port name) to the container
// port it reaches.
func containerPort(c corev1.Container, port intstr.IntOrString) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	return -1
}
