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
	"fmt"
	"slices"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// rule is one RBAC rule flattened to "group/resource" and its sorted verbs.
type rule struct {
	resource string
	verbs    string
}

// managerClusterRules are the cluster-wide permissions of the manager, resource by resource,
// exactly as `make manifests` generates them from the +kubebuilder:rbac markers. Widening
// them must be a deliberate change of this list.
var managerClusterRules = []rule{
	{"/secrets", "create,delete,get,list,patch,update,watch"},
	{"events.k8s.io/events", "create,patch"},
	{"instagram.igconnect.dev/instagramconnections", "create,delete,get,list,watch"},
	{"instagram.igconnect.dev/instagramconnections/finalizers", "update"},
	{"instagram.igconnect.dev/instagramconnections/status", "patch"},
}

// leaderElectionRules are the manager's namespaced permissions: client-go's Lease lock
// (get, create, update) and the leader election's core events.
var leaderElectionRules = []rule{
	{"/events", "create,patch"},
	{"coordination.k8s.io/leases", "create,get,update"},
}

// writeVerbs change objects; clusterWriteAllowed are the only resources the manager may
// change cluster-wide.
var (
	writeVerbs          = []string{"create", "update", "patch", "delete", "deletecollection"}
	clusterWriteAllowed = []string{"/secrets", "events.k8s.io/events",
		"instagram.igconnect.dev/instagramconnections", "instagram.igconnect.dev/instagramconnections/status",
		"instagram.igconnect.dev/instagramconnections/finalizers"}
	// dangerousVerbs let a subject grant or assume more than it has.
	dangerousVerbs = []string{"*", "escalate", "bind", "impersonate", "approve", "sign"}
)

// flatten turns RBAC rules into sorted (group/resource, verbs) pairs.
func flatten(rules []rbacv1.PolicyRule) []rule {
	var out []rule
	for _, r := range rules {
		verbs := slices.Clone(r.Verbs)
		sort.Strings(verbs)
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				out = append(out, rule{resource: g + "/" + res, verbs: strings.Join(verbs, ",")})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].resource < out[j].resource })
	return out
}

var _ = Describe("config/default", Ordered, func() {
	var objs []*unstructured.Unstructured
	var deployment *appsv1.Deployment

	BeforeAll(func() {
		var err error
		objs, err = render("config/default")
		Expect(err).NotTo(HaveOccurred())
		deployment, err = typed(find(objs, "Deployment", deploymentName), &appsv1.Deployment{})
		Expect(err).NotTo(HaveOccurred())

		// The namespace is really created, so that the namespaced objects can be dry-run
		// into it and PodSecurity admission reads its labels.
		ns := find(objs, "Namespace", operatorNamespace)
		Expect(ns).NotTo(BeNil(), "config/default renders the namespace %s", operatorNamespace)
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(ns.DeepCopy()),
			fieldOwner, client.ForceOwnership)).To(Succeed())
	})

	It("renders the operator's objects, each in igconnect-system with the igconnect- prefix", func() {
		var got []string
		for _, o := range objs {
			got = append(got, describe(o))
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
		for _, o := range objs {
			err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
				fieldOwner, client.ForceOwnership, client.DryRunAll)
			Expect(err).NotTo(HaveOccurred(), "dry-run apply %s", describe(o))
		}
		Expect(podSecurityWarnings(warnings.take())).To(BeEmpty(),
			"PodSecurity admission has no objection to the Deployment")
	})

	It("labels the namespace to enforce the restricted Pod Security Standard", func() {
		labels := find(objs, "Namespace", operatorNamespace).GetLabels()
		Expect(labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
		Expect(labels).To(HaveKeyWithValue("pod-security.kubernetes.io/warn", "restricted"))
		Expect(labels).To(HaveKeyWithValue("pod-security.kubernetes.io/audit", "restricted"))
	})

	It("runs the manager as the restricted Pod Security Standard requires", func() {
		pod := deployment.Spec.Template.Spec
		Expect(pod.SecurityContext).NotTo(BeNil())
		Expect(pod.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
		Expect(pod.SecurityContext.SeccompProfile).To(HaveValue(HaveField("Type", corev1.SeccompProfileTypeRuntimeDefault)))
		Expect(pod.HostNetwork || pod.HostPID || pod.HostIPC).To(BeFalse())
		Expect(pod.Volumes).To(BeEmpty(), "no volumes, so no hostPath")
		Expect(pod.Containers).To(HaveLen(1))
		Expect(pod.InitContainers).To(BeEmpty())
		sc := pod.Containers[0].SecurityContext
		Expect(sc).NotTo(BeNil())
		Expect(sc.AllowPrivilegeEscalation).To(HaveValue(BeFalse()))
		Expect(sc.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
		Expect(sc.Privileged).To(Or(BeNil(), HaveValue(BeFalse())))
		Expect(sc.Capabilities).NotTo(BeNil())
		Expect(sc.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
		Expect(sc.Capabilities.Add).To(BeEmpty())
		Expect(sc.RunAsUser).To(Or(BeNil(), HaveValue(BeNumerically(">", 0))))
	})

	It("passes restricted PodSecurity admission, which refuses a pod that breaks the standard", func() {
		pod := func(name string, mutate func(*corev1.PodSpec)) *corev1.Pod {
			p := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: operatorNamespace,
					Labels: deployment.Spec.Template.Labels},
				Spec: *deployment.Spec.Template.Spec.DeepCopy(),
			}
			if mutate != nil {
				mutate(&p.Spec)
			}
			return p
		}
		Expect(k8sClient.Create(ctx, pod("manager", nil), client.DryRunAll)).To(Succeed(),
			"the Deployment's pod is admitted in the restricted namespace")

		// The check can fail: each of these copies breaks one rule of the standard, and the
		// API server refuses it in the same namespace.
		bad := map[string]func(*corev1.PodSpec){
			"privilege-escalation": func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr.To(true)
			},
			"root-allowed": func(s *corev1.PodSpec) { s.SecurityContext.RunAsNonRoot = nil },
			"capabilities-kept": func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext.Capabilities = nil
			},
			"no-seccomp":   func(s *corev1.PodSpec) { s.SecurityContext.SeccompProfile = nil },
			"host-network": func(s *corev1.PodSpec) { s.HostNetwork = true },
		}
		for name, mutate := range bad {
			err := k8sClient.Create(ctx, pod(name, mutate), client.DryRunAll)
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: want Forbidden, got %v", name, err)
			Expect(err.Error()).To(ContainSubstring(`violates PodSecurity "restricted:latest"`), name)
		}

		// A Deployment is not refused (its pods would be), but the warn label makes the API
		// server say so at apply time.
		warnings.take()
		d := deployment.DeepCopy()
		d.Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr.To(true)
		d.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
		Expect(k8sClient.Create(ctx, d, client.DryRunAll)).To(Succeed())
		Expect(podSecurityWarnings(warnings.take())).To(ContainElement(
			ContainSubstring(`would violate PodSecurity "restricted:latest"`)))
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
			svc, err := typed(find(objs, "Service", name), &corev1.Service{})
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
		role, err := typed(find(objs, "ClusterRole", managerRoleName), &rbacv1.ClusterRole{})
		Expect(err).NotTo(HaveOccurred())
		Expect(flatten(role.Rules)).To(Equal(managerClusterRules))
		for _, r := range role.Rules {
			Expect(r.NonResourceURLs).To(BeEmpty())
			Expect(r.ResourceNames).To(BeEmpty())
		}
	})

	It("grants leases only in the operator's namespace", func() {
		role, err := typed(find(objs, "Role", leaderRoleName), &rbacv1.Role{})
		Expect(err).NotTo(HaveOccurred())
		Expect(role.Namespace).To(Equal(operatorNamespace))
		Expect(flatten(role.Rules)).To(Equal(leaderElectionRules))
		for _, u := range ofKind(objs, "ClusterRole") {
			cr, err := typed(u, &rbacv1.ClusterRole{})
			Expect(err).NotTo(HaveOccurred())
			for _, r := range flatten(cr.Rules) {
				Expect(r.resource).NotTo(HavePrefix("coordination.k8s.io/"), "ClusterRole %s", cr.Name)
			}
		}
	})

	It("has no wildcard, no escalation and no cluster-wide write beyond connections, Secrets and events", func() {
		for _, u := range append(ofKind(objs, "ClusterRole"), ofKind(objs, "Role")...) {
			var rules []rbacv1.PolicyRule
			if u.GetKind() == "ClusterRole" {
				cr, err := typed(u, &rbacv1.ClusterRole{})
				Expect(err).NotTo(HaveOccurred())
				Expect(cr.AggregationRule).To(BeNil(), describe(u))
				rules = cr.Rules
			} else {
				r, err := typed(u, &rbacv1.Role{})
				Expect(err).NotTo(HaveOccurred())
				rules = r.Rules
			}
			for _, r := range rules {
				for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs} {
					Expect(list).NotTo(ContainElement(ContainSubstring("*")), describe(u))
				}
				Expect(r.Verbs).NotTo(ContainElements(dangerousVerbs), describe(u))
			}
			if u.GetKind() != "ClusterRole" {
				continue
			}
			for _, r := range flatten(rules) {
				for _, v := range strings.Split(r.verbs, ",") {
					if slices.Contains(writeVerbs, v) {
						Expect(clusterWriteAllowed).To(ContainElement(r.resource),
							"%s may %s %s cluster-wide", describe(u), v, r.resource)
					}
				}
			}
		}
	})

	It("binds the manager's roles, and only those, to its service account", func() {
		want := rbacv1.Subject{Kind: "ServiceAccount", Name: serviceAccountName, Namespace: operatorNamespace}
		crbs := ofKind(objs, "ClusterRoleBinding")
		Expect(crbs).To(HaveLen(1), "the editor and viewer roles are left for the cluster admin to bind")
		crb, err := typed(crbs[0], &rbacv1.ClusterRoleBinding{})
		Expect(err).NotTo(HaveOccurred())
		Expect(crb.RoleRef).To(Equal(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: managerRoleName}))
		Expect(crb.Subjects).To(ConsistOf(want))

		rbs := ofKind(objs, "RoleBinding")
		Expect(rbs).To(HaveLen(1))
		rb, err := typed(rbs[0], &rbacv1.RoleBinding{})
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
			Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
				fieldOwner, client.ForceOwnership)).To(Succeed(), "apply %s", describe(o))
		}
		user := fmt.Sprintf("system:serviceaccount:%s:%s", operatorNamespace, serviceAccountName)
		can := func(verb, group, resource, sub, namespace string) bool {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   user,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: verb, Group: group, Resource: resource, Subresource: sub, Namespace: namespace},
			}}
			Expect(k8sClient.Create(ctx, sar)).To(Succeed())
			return sar.Status.Allowed
		}
		type check struct {
			verb, group, resource, sub, namespace string
			allowed                               bool
		}
		for _, c := range []check{
			{"update", "coordination.k8s.io", "leases", "", operatorNamespace, true},
			{"create", "coordination.k8s.io", "leases", "", operatorNamespace, true},
			{"update", "coordination.k8s.io", "leases", "", "kube-system", false},
			{"delete", "coordination.k8s.io", "leases", "", operatorNamespace, false},
			{"create", "", "events", "", operatorNamespace, true},
			{"create", "", "events", "", "marketing", false},
			{"create", "events.k8s.io", "events", "", "marketing", true},
			{"watch", "", "secrets", "", "", true},
			{"update", "", "secrets", "", "marketing", true},
			{"create", "instagram.igconnect.dev", "instagramconnections", "", "marketing", true},
			{"patch", "instagram.igconnect.dev", "instagramconnections", "status", "marketing", true},
			{"update", "instagram.igconnect.dev", "instagramconnections", "status", "marketing", false},
			{"update", "instagram.igconnect.dev", "instagramconnections", "", "marketing", false},
			{"patch", "", "secrets", "", "marketing", true}, // tokensecret.Writer applies
			{"get", "", "configmaps", "", operatorNamespace, false},
			{"create", "", "pods", "", operatorNamespace, false},
			{"list", "", "nodes", "", "", false},
			{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", false},
			{"update", "apps", "deployments", "", operatorNamespace, false},
			{"update", "apiextensions.k8s.io", "customresourcedefinitions", "", "", false},
		} {
			Expect(can(c.verb, c.group, c.resource, c.sub, c.namespace)).To(Equal(c.allowed),
				"may the manager %s %s/%s %s in %q", c.verb, c.group, c.resource, c.sub, c.namespace)
		}
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
