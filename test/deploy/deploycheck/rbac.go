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

package deploycheck

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Rule is one RBAC rule flattened to "group/resource" and its sorted verbs.
type Rule struct {
	Resource string
	Verbs    string
}

// ManagerRules are the manager's permissions on connections, Secrets and events, resource
// by resource, exactly as `make manifests` generates them from the +kubebuilder:rbac
// markers: cluster-wide, or in each watched namespace. Widening them must be a deliberate
// change of this list.
var ManagerRules = []Rule{
	{"/secrets", "create,delete,get,list,patch,watch"},
	// spec.rolloutRestartTargets: the restartedAt annotation on the pod template, by merge
	// patch only; the manager never reads or lists workloads.
	{"apps/daemonsets", "patch"},   //nolint:goconst // a verb
	{"apps/deployments", "patch"},  //nolint:goconst // a verb
	{"apps/statefulsets", "patch"}, //nolint:goconst // a verb
	{"events.k8s.io/events", "create,patch"},
	{"instagram.igconnect.dev/instagramconnections", "create,delete,get,list,watch"},
	// RBAC verbs read best spelt out, here and in the tables below.
	{"instagram.igconnect.dev/instagramconnections/finalizers", "update"}, //nolint:goconst // a verb
	{"instagram.igconnect.dev/instagramconnections/status", "patch"},      //nolint:goconst // a verb
}

// LeaderElectionRules are the manager's permissions in its own namespace: client-go's Lease
// lock (get, create, update) and the leader election's core events.
var LeaderElectionRules = []Rule{
	{"/events", "create,patch"},
	{"coordination.k8s.io/leases", "create,get,update"},
}

var (
	// writeVerbs change objects.
	writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"} //nolint:goconst // verbs
	// clusterWriteAllowed are the only resources a ClusterRole may let anyone change.
	clusterWriteAllowed = []string{"/secrets", "events.k8s.io/events",
		"apps/deployments", "apps/statefulsets", "apps/daemonsets",
		"instagram.igconnect.dev/instagramconnections", "instagram.igconnect.dev/instagramconnections/status",
		"instagram.igconnect.dev/instagramconnections/finalizers"}
	// dangerousVerbs let a subject grant or assume more than it has.
	dangerousVerbs = []string{"*", "escalate", "bind", "impersonate", "approve", "sign"}
)

// Flatten turns RBAC rules into sorted (group/resource, verbs) pairs.
func Flatten(rules []rbacv1.PolicyRule) []Rule {
	var out []Rule
	for _, r := range rules {
		verbs := slices.Clone(r.Verbs)
		sort.Strings(verbs)
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				out = append(out, Rule{Resource: g + "/" + res, Verbs: strings.Join(verbs, ",")})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Resource < out[j].Resource })
	return out
}

// RulesOf returns the rules of a rendered ClusterRole or Role.
func RulesOf(u *unstructured.Unstructured) []rbacv1.PolicyRule {
	if u.GetKind() == "ClusterRole" {
		cr, err := Typed(u, &rbacv1.ClusterRole{})
		gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
		gomega.ExpectWithOffset(1, cr.AggregationRule).To(gomega.BeNil(), Describe(u))
		return cr.Rules
	}
	r, err := Typed(u, &rbacv1.Role{})
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	return r.Rules
}

// ExpectLeastPrivilege checks every ClusterRole and Role of objs: no wildcard, no verb that
// escalates, no resource names or non-resource URLs in the manager's rules, and no
// cluster-wide write beyond connections, Secrets and events.
func ExpectLeastPrivilege(objs []*unstructured.Unstructured) {
	for _, u := range append(OfKind(objs, "ClusterRole"), OfKind(objs, "Role")...) {
		rules := RulesOf(u)
		for _, r := range rules {
			for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs} {
				gomega.ExpectWithOffset(1, list).NotTo(gomega.ContainElement(gomega.ContainSubstring("*")), Describe(u))
			}
			gomega.ExpectWithOffset(1, r.Verbs).NotTo(gomega.ContainElements(dangerousVerbs), Describe(u))
			gomega.ExpectWithOffset(1, r.NonResourceURLs).To(gomega.BeEmpty(), Describe(u))
		}
		if u.GetKind() != "ClusterRole" {
			continue
		}
		for _, r := range Flatten(rules) {
			gomega.ExpectWithOffset(1, r.Resource).NotTo(gomega.HavePrefix("coordination.k8s.io/"),
				"%s: leases only in the operator's namespace", Describe(u))
			for _, v := range strings.Split(r.Verbs, ",") {
				if slices.Contains(writeVerbs, v) {
					gomega.ExpectWithOffset(1, clusterWriteAllowed).To(gomega.ContainElement(r.Resource),
						"%s may %s %s cluster-wide", Describe(u), v, r.Resource)
				}
			}
		}
	}
}

// The API groups and resources the access tables ask about most.
const (
	coordination = "coordination.k8s.io"
	connections  = "instagram.igconnect.dev"
	secrets      = "secrets"
	events       = "events"
)

// Access is one question to the API server's authorizer: may the subject do verb on
// group/resource/sub in namespace ("" for cluster-wide)?
type Access struct {
	Verb, Group, Resource, Sub, Namespace string
	Allowed                               bool
}

// ManagerAccess is what the manager's service account, installed in operatorNS, may and
// may not do when it manages connections in managed (a namespace it watches) and must not
// touch other (a namespace it does not watch; "" when it watches every namespace).
func ManagerAccess(operatorNS, managed, other string, clusterWide bool) []Access {
	checks := []Access{
		{"update", coordination, "leases", "", operatorNS, true}, //nolint:goconst // the table spells its questions out
		{"create", coordination, "leases", "", operatorNS, true},
		{"update", coordination, "leases", "", "kube-system", false},
		{"delete", coordination, "leases", "", operatorNS, false},
		{"create", "", events, "", operatorNS, true},
		{"create", "", events, "", managed, false},
		{"create", "events.k8s.io", events, "", managed, true},
		{"watch", "", secrets, "", managed, true},                          //nolint:goconst // as above
		{"update", "", secrets, "", managed, false},                        // writes are applies and patches
		{"create", connections, "instagramconnections", "", managed, true}, //nolint:goconst // as above
		{"patch", connections, "instagramconnections", "status", managed, true},
		{"update", connections, "instagramconnections", "status", managed, false},
		{"update", connections, "instagramconnections", "", managed, false},
		{"patch", "", secrets, "", managed, true}, // tokensecret.Writer applies
		{"get", "", "configmaps", "", operatorNS, false},
		{"create", "", "pods", "", operatorNS, false},
		{"list", "", "nodes", "", "", false},
		{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", false},
		{"update", "apps", "deployments", "", operatorNS, false},
		{"update", "apiextensions.k8s.io", "customresourcedefinitions", "", "", false},
		// Every namespace at once: the cluster-wide watch of Secrets and connections.
		{"watch", "", secrets, "", "", clusterWide},
		{"list", connections, "instagramconnections", "", "", clusterWide},
	}
	if other != "" {
		checks = append(checks,
			Access{"get", "", secrets, "", other, false},
			Access{"watch", "", secrets, "", other, false},
			Access{"create", connections, "instagramconnections", "", other, false},
			Access{"create", "events.k8s.io", events, "", other, false},
		)
	}
	return checks
}

// ExpectAccess asks the API server's authorizer (SubjectAccessReviews) each question for the
// service account namespace/name. The RBAC objects must have been created for real.
func ExpectAccess(ctx context.Context, env *Env, namespace, name string, checks []Access) {
	user := fmt.Sprintf("system:serviceaccount:%s:%s", namespace, name)
	for _, c := range checks {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   user,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: c.Verb, Group: c.Group, Resource: c.Resource, Subresource: c.Sub, Namespace: c.Namespace},
		}}
		gomega.ExpectWithOffset(1, env.Client.Create(ctx, sar)).To(gomega.Succeed())
		gomega.ExpectWithOffset(1, sar.Status.Allowed).To(gomega.Equal(c.Allowed),
			"may %s %s %s/%s %s in %q", user, c.Verb, c.Group, c.Resource, c.Sub, c.Namespace)
	}
}
