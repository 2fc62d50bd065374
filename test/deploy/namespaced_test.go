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
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/igconnect/igconnect/test/deploy/deploycheck"
)

// What config/namespaced must produce: config/default's objects without the manager's
// ClusterRole and ClusterRoleBinding, a state-key Role in the operator's namespace, and the
// manager's Role and RoleBinding in each example watched namespace.
var (
	watchedNamespaces = []string{"team-a", "team-b"}
	stateKeyRoleName  = "igconnect-state-key-role"
	stateKeyRules     = []deploycheck.Rule{{Resource: "/secrets", Verbs: "create"}, {Resource: "/secrets", Verbs: "get"}}
	// unwatchedNamespace is one the overlay grants nothing in.
	unwatchedNamespace = "team-c"
)

// generatedManagerRules are the rules of config/rbac/role.yaml, the ClusterRole `make
// manifests` generates, read from the file rather than from the render under test.
func generatedManagerRules() []deploycheck.Rule {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	role := &rbacv1.ClusterRole{}
	Expect(utilyaml.Unmarshal(b, role)).To(Succeed())
	Expect(role.Kind).To(Equal("ClusterRole"))
	return deploycheck.Flatten(role.Rules)
}

// flagValue returns the value of --name=value in args, and whether it is there.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// managerRoleIn returns the manager's Role in namespace, or nil.
func managerRoleIn(objs []*unstructured.Unstructured, namespace string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == "Role" && o.GetNamespace() == namespace && o.GetName() == managerRoleName {
			return o
		}
	}
	return nil
}

// serviceAccountCan asks the API server's authorizer whether the manager's service account
// may do verb on group/resource (/sub) in namespace ("" for cluster-wide).
func serviceAccountCan(verb, group, resource, sub, namespace, name string) bool {
	GinkgoHelper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   fmt.Sprintf("system:serviceaccount:%s:%s", operatorNamespace, serviceAccountName),
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: group, Resource: resource, Subresource: sub, Namespace: namespace, Name: name},
	}}
	Expect(env.Client.Create(ctx, sar)).To(Succeed())
	return sar.Status.Allowed
}

var _ = Describe("config/namespaced", Ordered, func() {
	var objs []*unstructured.Unstructured

	BeforeAll(func() {
		var err error
		objs, err = render("config/namespaced")
		Expect(err).NotTo(HaveOccurred())
		// The watched namespaces must exist before their Roles can be applied; the overlay
		// leaves them to the cluster's owner. team-c is one the manager must not reach.
		for _, ns := range append(slices.Clone(watchedNamespaces), unwatchedNamespace, operatorNamespace) {
			Expect(client.IgnoreAlreadyExists(env.Client.Create(ctx,
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
		}
	})

	It("renders config/default's objects with per-namespace Roles instead of the manager's ClusterRole", func() {
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
			"Role igconnect-system/igconnect-state-key-role",
			"RoleBinding igconnect-system/igconnect-state-key-rolebinding",
			"Role team-a/igconnect-manager-role",
			"RoleBinding team-a/igconnect-manager-rolebinding",
			"Role team-b/igconnect-manager-role",
			"RoleBinding team-b/igconnect-manager-rolebinding",
			"ClusterRole igconnect-instagramconnection-editor-role",
			"ClusterRole igconnect-instagramconnection-viewer-role",
			"Deployment igconnect-system/igconnect-controller-manager",
			"Service igconnect-system/igconnect-callback",
			"Service igconnect-system/igconnect-controller-manager-metrics-service",
		))
		Expect(deploycheck.OfKind(objs, "ClusterRoleBinding")).To(BeEmpty(), "nothing is bound cluster-wide")
	})

	It("grants in each watched namespace exactly the rules of the generated ClusterRole", func() {
		want := generatedManagerRules()
		Expect(want).To(Equal(deploycheck.ManagerRules), "config/rbac/role.yaml is the ClusterRole config/default checks")
		for _, ns := range watchedNamespaces {
			u := managerRoleIn(objs, ns)
			Expect(u).NotTo(BeNil(), "a manager Role in %s", ns)
			role, err := deploycheck.Typed(u, &rbacv1.Role{})
			Expect(err).NotTo(HaveOccurred())
			Expect(deploycheck.Flatten(role.Rules)).To(Equal(want), "Role %s/%s", ns, role.Name)
			for _, r := range role.Rules {
				Expect(r.ResourceNames).To(BeEmpty())
			}
		}
	})

	It("binds the manager's service account, and only it, to its Roles; the people's ClusterRoles stay unbound", func() {
		subject := rbacv1.Subject{Kind: "ServiceAccount", Name: serviceAccountName, Namespace: operatorNamespace}
		bound := map[string]string{}
		for _, u := range deploycheck.OfKind(objs, "RoleBinding") {
			rb, err := deploycheck.Typed(u, &rbacv1.RoleBinding{})
			Expect(err).NotTo(HaveOccurred())
			Expect(rb.Subjects).To(ConsistOf(subject), deploycheck.Describe(u))
			Expect(rb.RoleRef.Kind).To(Equal("Role"), "%s binds a Role, never a ClusterRole", deploycheck.Describe(u))
			Expect(deploycheck.Find(objs, "Role", rb.RoleRef.Name)).NotTo(BeNil(), deploycheck.Describe(u))
			bound[rb.Namespace+"/"+rb.RoleRef.Name] = rb.Name
		}
		Expect(bound).To(HaveLen(len(watchedNamespaces) + 2))
		for _, ns := range watchedNamespaces {
			Expect(bound).To(HaveKey(ns+"/"+managerRoleName), "the manager Role in %s is bound", ns)
		}
		Expect(bound).To(HaveKey(operatorNamespace + "/" + leaderRoleName))
		Expect(bound).To(HaveKey(operatorNamespace + "/" + stateKeyRoleName))

		role, err := deploycheck.Typed(deploycheck.Find(objs, "Role", stateKeyRoleName), &rbacv1.Role{})
		Expect(err).NotTo(HaveOccurred())
		Expect(deploycheck.Flatten(role.Rules)).To(ConsistOf(stateKeyRules))
		for _, r := range role.Rules {
			if slices.Contains(r.Verbs, "get") {
				Expect(r.ResourceNames).To(ConsistOf("igconnect-state-key"), "only the state key is readable")
			}
		}
	})

	It("tells the manager to watch exactly the namespaces it has Roles in", func() {
		d, err := deploycheck.Typed(deploycheck.Find(objs, "Deployment", deploymentName), &appsv1.Deployment{})
		Expect(err).NotTo(HaveOccurred())
		args := d.Spec.Template.Spec.Containers[0].Args
		watch, ok := flagValue(args, "watch-namespaces")
		Expect(ok).To(BeTrue(), "--watch-namespaces in %v", args)
		Expect(strings.Split(watch, ",")).To(ConsistOf(watchedNamespaces))
		conn, ok := flagValue(args, "connection-namespace")
		Expect(ok).To(BeTrue(), "--connection-namespace in %v", args)
		Expect(watchedNamespaces).To(ContainElement(conn))
	})

	It("is accepted by the API server: a server-side dry-run apply of every object", func() {
		for _, o := range objs {
			Expect(env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
				deploycheck.FieldOwner, client.ForceOwnership, client.DryRunAll)).To(Succeed(), "dry-run apply %s", deploycheck.Describe(o))
		}
		Expect(deploycheck.PodSecurityWarnings(env.Warnings.Take())).To(BeEmpty())
	})

	It("gives the service account no Secret, nor anything else, outside the watched namespaces", func() {
		// config/default's spec binds the same service account cluster-wide in this API
		// server when it ran first; that binding is not part of this install.
		Expect(client.IgnoreNotFound(env.Client.Delete(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "igconnect-manager-rolebinding"}}))).To(Succeed())
		for _, o := range objs {
			// Only what the authorizer reads: config/default's specs create a Deployment
			// with a dry run, and must find none.
			if !slices.Contains([]string{"ServiceAccount", "Role", "RoleBinding", "ClusterRole"}, o.GetKind()) {
				continue
			}
			Expect(env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
				deploycheck.FieldOwner, client.ForceOwnership)).To(Succeed(), "apply %s", deploycheck.Describe(o))
		}
		type check struct {
			verb, group, resource, sub, namespace, name string
			allowed                                     bool
		}
		checks := make([]check, 0, 8*len(watchedNamespaces)+24)
		for _, ns := range watchedNamespaces {
			checks = append(checks,
				check{"list", "", "secrets", "", ns, "", true},
				check{"watch", "", "secrets", "", ns, "", true},
				check{"update", "", "secrets", "", ns, "", false},
				check{"list", "instagram.igconnect.dev", "instagramconnections", "", ns, "", true},
				check{"patch", "instagram.igconnect.dev", "instagramconnections", "status", ns, "", true},
				check{"create", "events.k8s.io", "events", "", ns, "", true},
				check{"patch", "", "secrets", "", ns, "", true}, // tokensecret.Writer applies
				check{"update", "instagram.igconnect.dev", "instagramconnections", "", ns, "", false},
			)
		}
		for _, ns := range []string{unwatchedNamespace, "kube-system", "default"} {
			checks = append(checks,
				check{"get", "", "secrets", "", ns, "", false},
				check{"list", "", "secrets", "", ns, "", false},
				check{"watch", "", "secrets", "", ns, "", false},
				check{"create", "", "secrets", "", ns, "", false},
				check{"get", "instagram.igconnect.dev", "instagramconnections", "", ns, "", false},
				check{"create", "events.k8s.io", "events", "", ns, "", false},
			)
		}
		checks = append(checks,
			// Cluster-wide: nothing.
			check{"list", "", "secrets", "", "", "", false},
			check{"watch", "", "secrets", "", "", "", false},
			check{"list", "instagram.igconnect.dev", "instagramconnections", "", "", "", false},
			check{"watch", "instagram.igconnect.dev", "instagramconnections", "", "", "", false},
			// Its own namespace: the Lease, the state key, and no other Secret.
			check{"update", "coordination.k8s.io", "leases", "", operatorNamespace, "", true},
			check{"get", "", "secrets", "", operatorNamespace, "igconnect-state-key", true},
			check{"create", "", "secrets", "", operatorNamespace, "", true},
			check{"get", "", "secrets", "", operatorNamespace, "igconnect-instagram-app-other", false},
			check{"list", "", "secrets", "", operatorNamespace, "", false},
			check{"update", "", "secrets", "", operatorNamespace, "igconnect-state-key", false},
			check{"list", "instagram.igconnect.dev", "instagramconnections", "", operatorNamespace, "", false},
		)
		for _, c := range checks {
			Expect(serviceAccountCan(c.verb, c.group, c.resource, c.sub, c.namespace, c.name)).To(Equal(c.allowed),
				"may the manager %s %s/%s %s %q in %q", c.verb, c.group, c.resource, c.sub, c.name, c.namespace)
		}
	})
})
