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
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/igconnect/igconnect/test/deploy/deploycheck"
)

// ciRendering is the chart rendered with one ci/*-values.yaml, in a release namespace of its
// own so that the real RBAC objects of one file grant nothing to another's service account.
type ciRendering struct {
	rel        release
	values     map[string]any
	objs       []*unstructured.Unstructured
	deployment *appsv1.Deployment
}

// renderCI renders ci/<name>-values.yaml as the release igconnect in ci-<name>.
func renderCI(name string) *ciRendering {
	r := &ciRendering{rel: release{name: "igconnect", namespace: "ci-" + name}}
	var err error
	r.values, err = valuesFile(filepath.Join("ci", name+"-values.yaml"))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	r.objs, err = renderChart(r.rel, r.values)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	deployments := deploycheck.OfKind(r.objs, "Deployment")
	ExpectWithOffset(1, deployments).To(HaveLen(1))
	r.deployment, err = deploycheck.Typed(deployments[0], &appsv1.Deployment{})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return r
}

// serviceAccount is the name of the manager's service account in r.
func (r *ciRendering) serviceAccount() string {
	return r.deployment.Spec.Template.Spec.ServiceAccountName
}

// watched are the namespaces the values file names in watchNamespaces.
func (r *ciRendering) watched() []string {
	list, _ := r.values["watchNamespaces"].([]any)
	out := make([]string, 0, len(list))
	for _, ns := range list {
		out = append(out, ns.(string))
	}
	return out
}

// ciNames are the ci values files of the chart, by name (ci/<name>-values.yaml).
func ciNames() []string {
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil {
		panic(err)
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), "-values.yaml"))
	}
	return names
}

// Every ci values file, the ones to come included, passes the checks config/default passes.
var _ = Describe("the chart with each ci/*-values.yaml", func() {
	for _, name := range ciNames() {
		Context(name, Ordered, func() {
			var r *ciRendering
			BeforeAll(func() {
				r = renderCI(name)
				createNamespaces(r.rel.namespace, r.watched()...)
			})

			It("is accepted by the API server: a server-side dry-run apply of every object", func() {
				deploycheck.ExpectDryRunApplied(ctx, env, r.objs)
			})

			It("runs the manager as the restricted Pod Security Standard requires, and passes its admission", func() {
				deploycheck.ExpectRestrictedPodSpec(r.deployment.Spec.Template.Spec)
				deploycheck.ExpectAdmittedRestricted(ctx, env, r.deployment, r.rel.namespace)
			})

			It("grants least privilege, and binds it to the manager's service account only", func() {
				deploycheck.ExpectLeastPrivilege(r.objs)
				want := rbacv1.Subject{Kind: "ServiceAccount", Name: r.serviceAccount(), Namespace: r.rel.namespace}
				for _, o := range append(deploycheck.OfKind(r.objs, "ClusterRoleBinding"), deploycheck.OfKind(r.objs, "RoleBinding")...) {
					subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
					Expect(subjects).To(HaveLen(1), deploycheck.Describe(o))
					var s rbacv1.Subject
					Expect(fromMap(subjects[0], &s)).To(Succeed())
					Expect(s).To(Equal(want), deploycheck.Describe(o))
				}
			})
		})
	}
})

var _ = Describe("ci/namespaced-values.yaml: watchNamespaces", Ordered, func() {
	var r *ciRendering
	BeforeAll(func() {
		r = renderCI("namespaced")
		createNamespaces(r.rel.namespace, r.watched()...)
	})

	It("passes --watch-namespaces and renders no ClusterRole that reaches Secrets, nor any binding to one", func() {
		Expect(r.deployment.Spec.Template.Spec.Containers[0].Args).To(ContainElements("--watch-namespaces=team-a,team-b",
			"--connection-namespace=team-a"), "logins create connections in a watched namespace, the first")
		for _, o := range deploycheck.OfKind(r.objs, "ClusterRole") {
			for _, rule := range deploycheck.Flatten(deploycheck.RulesOf(o)) {
				Expect(rule.Resource).NotTo(Equal("/secrets"), deploycheck.Describe(o))
			}
		}
		Expect(deploycheck.OfKind(r.objs, "ClusterRoleBinding")).To(BeEmpty())
	})

	It("gives the manager exactly the generated rules as a Role in each watched namespace", func() {
		var namespaces []string
		for _, o := range deploycheck.OfKind(r.objs, "Role") {
			if o.GetName() != "igconnect-manager-role" {
				continue
			}
			namespaces = append(namespaces, o.GetNamespace())
			Expect(deploycheck.Flatten(deploycheck.RulesOf(o))).To(Equal(deploycheck.ManagerRules), deploycheck.Describe(o))
		}
		Expect(namespaces).To(ConsistOf("team-a", "team-b"))
	})

	It("keeps the leader election, and only the state key's Secret, in the release namespace", func() {
		leader := deploycheck.Find(r.objs, "Role", "igconnect-leader-election-role")
		Expect(leader).NotTo(BeNil())
		Expect(leader.GetNamespace()).To(Equal(r.rel.namespace))
		Expect(deploycheck.Flatten(deploycheck.RulesOf(leader))).To(Equal(deploycheck.LeaderElectionRules))

		stateKey := deploycheck.Find(r.objs, "Role", "igconnect-state-key-role")
		Expect(stateKey).NotTo(BeNil())
		Expect(stateKey.GetNamespace()).To(Equal(r.rel.namespace))
		Expect(deploycheck.RulesOf(stateKey)).To(ConsistOf(
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create"}},
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"},
				ResourceNames: []string{"igconnect-state-key"}},
		))
	})

	It("lets the manager act in team-a and team-b only, as the API server's authorizer decides", func() {
		applyForReal(r.objs)
		ns := r.rel.namespace
		checks := deploycheck.ManagerAccess(ns, "team-a", "team-c", false)
		checks = append(checks, deploycheck.ManagerAccess(ns, "team-b", "", false)...)
		checks = append(checks,
			deploycheck.Access{Verb: "get", Resource: "secrets", Namespace: ns, Allowed: false},
			deploycheck.Access{Verb: "list", Resource: "secrets", Namespace: ns, Allowed: false},
			deploycheck.Access{Verb: "create", Resource: "secrets", Namespace: ns, Allowed: true},
			deploycheck.Access{Verb: "create", Group: "instagram.igconnect.dev", Resource: "instagramconnections",
				Namespace: ns, Allowed: false},
		)
		deploycheck.ExpectAccess(ctx, env, ns, r.serviceAccount(), checks)
		// The one Secret it may read there, by name (a get with a resource name).
		sar := accessReview(ns, r.serviceAccount(), "get", "secrets", "igconnect-state-key")
		Expect(env.Client.Create(ctx, sar)).To(Succeed())
		Expect(sar.Status.Allowed).To(BeTrue(), "get its state-key Secret")
	})
})

var _ = Describe("connectionNamespace", func() {
	render := func(values map[string]any) ([]string, error) {
		objs, err := renderChart(defaultRelease, setValues(values))
		if err != nil {
			return nil, err
		}
		d, err := deploycheck.Typed(deploycheck.Find(objs, "Deployment", "igconnect-controller-manager"), &appsv1.Deployment{})
		if err != nil {
			return nil, err
		}
		return d.Spec.Template.Spec.Containers[0].Args, nil
	}

	It("is left to the manager (its own namespace) unless watchNamespaces leave the release namespace out", func() {
		args, err := render(nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(args).NotTo(ContainElement(HavePrefix("--connection-namespace")))
		args, err = render(map[string]any{"watchNamespaces": []any{"team-a", defaultRelease.namespace}})
		Expect(err).NotTo(HaveOccurred())
		Expect(args).NotTo(ContainElement(HavePrefix("--connection-namespace")))
		args, err = render(map[string]any{"watchNamespaces": []any{"team-b"}, "connectionNamespace": "team-b"})
		Expect(err).NotTo(HaveOccurred())
		Expect(args).To(ContainElement("--connection-namespace=team-b"))
	})

	It("refuses a namespace the operator would not watch, saying why", func() {
		_, err := render(map[string]any{"watchNamespaces": []any{"team-a"}, "connectionNamespace": "team-b"})
		Expect(err).To(MatchError(ContainSubstring(`connectionNamespace "team-b" must be one of watchNamespaces (team-a)`)))
	})
})

var _ = Describe("ci/ha-values.yaml: replicas, disruption budget, placement", func() {
	It("runs three leader-electing replicas that a drain cannot take below two", func() {
		r := renderCI("ha")
		spec := r.deployment.Spec
		Expect(spec.Replicas).To(HaveValue(BeEquivalentTo(3)))
		Expect(spec.Template.Spec.Containers[0].Args).To(ContainElement("--leader-elect"))
		Expect(spec.Template.Spec.PriorityClassName).To(Equal("system-cluster-critical"))
		Expect(spec.Template.Spec.NodeSelector).To(HaveKeyWithValue("kubernetes.io/os", "linux"))
		Expect(spec.Template.Spec.Tolerations).To(HaveLen(1))
		Expect(spec.Template.Spec.Affinity).To(HaveValue(HaveField("PodAntiAffinity", Not(BeNil()))))
		Expect(spec.Template.Spec.TopologySpreadConstraints).To(HaveLen(1))
		for _, c := range spec.Template.Spec.TopologySpreadConstraints {
			sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
			Expect(err).NotTo(HaveOccurred())
			Expect(sel.Matches(labels.Set(spec.Template.Labels))).To(BeTrue(), "the spread counts the manager's pods")
		}

		pdbs := deploycheck.OfKind(r.objs, "PodDisruptionBudget")
		Expect(pdbs).To(HaveLen(1))
		pdb, err := deploycheck.Typed(pdbs[0], &policyv1.PodDisruptionBudget{})
		Expect(err).NotTo(HaveOccurred())
		Expect(pdb.Spec.MaxUnavailable).To(HaveValue(HaveField("IntVal", BeEquivalentTo(1))))
		Expect(pdb.Spec.MinAvailable).To(BeNil())
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		Expect(err).NotTo(HaveOccurred())
		Expect(sel.Matches(labels.Set(spec.Template.Labels))).To(BeTrue(), "the budget covers the manager's pods")
	})
})

var _ = Describe("ci/exposed-values.yaml: Ingress, NetworkPolicy, ServiceMonitor, PrometheusRule, dashboard", Ordered, func() {
	var r *ciRendering
	var pods labels.Set
	BeforeAll(func() {
		r = renderCI("exposed")
		pods = labels.Set(r.deployment.Spec.Template.Labels)
	})

	It("routes publicURL's host, with TLS, to the callback Service", func() {
		ing, err := deploycheck.Typed(deploycheck.Find(r.objs, "Ingress", "igconnect-callback"), &networkingv1.Ingress{})
		Expect(err).NotTo(HaveOccurred())
		Expect(ing.Spec.IngressClassName).To(HaveValue(Equal("nginx")))
		Expect(ing.Spec.TLS).To(ConsistOf(networkingv1.IngressTLS{Hosts: []string{"ig.example.org"}, SecretName: "igconnect-callback-tls"}))
		Expect(ing.Spec.Rules).To(HaveLen(1))
		Expect(ing.Spec.Rules[0].Host).To(Equal("ig.example.org"))
		backend := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
		Expect(backend.Name).To(Equal("igconnect-callback"))
		svc, err := deploycheck.Typed(deploycheck.Find(r.objs, "Service", backend.Name), &corev1.Service{})
		Expect(err).NotTo(HaveOccurred())
		Expect(svc.Spec.Ports).To(ContainElement(HaveField("Name", backend.Port.Name)))
	})

	It("admits only the callback port from the ingress controller and the metrics port from monitoring", func() {
		np, err := deploycheck.Typed(deploycheck.OfKind(r.objs, "NetworkPolicy")[0], &networkingv1.NetworkPolicy{})
		Expect(err).NotTo(HaveOccurred())
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		Expect(err).NotTo(HaveOccurred())
		Expect(sel.Matches(pods)).To(BeTrue())
		Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress))
		Expect(np.Spec.Ingress).To(HaveLen(2))
		from := map[string]string{}
		for _, rule := range np.Spec.Ingress {
			Expect(rule.Ports).To(HaveLen(1))
			Expect(rule.From).To(HaveLen(1))
			from[rule.Ports[0].Port.StrVal] = rule.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
		}
		Expect(from).To(Equal(map[string]string{"callback": "ingress-nginx", "metrics": "monitoring"}))
	})

	It("scrapes the metrics Service's port with a ServiceMonitor", func() {
		sm := deploycheck.OfKind(r.objs, "ServiceMonitor")
		Expect(sm).To(HaveLen(1))
		Expect(sm[0].GetLabels()).To(HaveKeyWithValue("release", "kube-prometheus-stack"))
		match, _, _ := unstructured.NestedStringMap(sm[0].Object, "spec", "selector", "matchLabels")
		var selected []string
		for _, o := range deploycheck.OfKind(r.objs, "Service") {
			if labels.SelectorFromSet(match).Matches(labels.Set(o.GetLabels())) {
				selected = append(selected, o.GetName())
				svc, err := deploycheck.Typed(o, &corev1.Service{})
				Expect(err).NotTo(HaveOccurred())
				endpoints, _, _ := unstructured.NestedSlice(sm[0].Object, "spec", "endpoints")
				Expect(endpoints).To(HaveLen(1))
				Expect(svc.Spec.Ports).To(ContainElement(HaveField("Name", endpoints[0].(map[string]any)["port"])))
				Expect(endpoints[0]).To(HaveKeyWithValue("interval", "15s"))
			}
		}
		Expect(selected).To(ConsistOf("igconnect-controller-manager-metrics-service"))
		names, _, _ := unstructured.NestedStringSlice(sm[0].Object, "spec", "namespaceSelector", "matchNames")
		Expect(names).To(ConsistOf(r.rel.namespace))
	})

	It("carries the groups of files/alerts.yaml in its PrometheusRule, and files/dashboard.json in a ConfigMap", func() {
		b, err := os.ReadFile(filepath.Join(chartDir, "files", "alerts.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var ruleFile map[string]any
		Expect(yaml.Unmarshal(b, &ruleFile)).To(Succeed())
		rules := deploycheck.OfKind(r.objs, "PrometheusRule")
		Expect(rules).To(HaveLen(1))
		groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
		Expect(groups).NotTo(BeEmpty())
		Expect(groups).To(Equal(ruleFile["groups"]))

		dashboard, err := os.ReadFile(filepath.Join(chartDir, "files", "dashboard.json"))
		Expect(err).NotTo(HaveOccurred())
		cm, err := deploycheck.Typed(deploycheck.Find(r.objs, "ConfigMap", "igconnect-dashboard"), &corev1.ConfigMap{})
		Expect(err).NotTo(HaveOccurred())
		Expect(cm.Labels).To(HaveKeyWithValue("grafana_dashboard", "1"))
		Expect(cm.Data["igconnect.json"]).To(MatchJSON(dashboard))
	})
})

var _ = Describe("ci/custom-values.yaml: image, credentials, flags, names", func() {
	It("passes every value to the manager's pod", func() {
		r := renderCI("custom")
		pod := r.deployment.Spec.Template.Spec
		c := pod.Containers[0]
		Expect(r.deployment.Name).To(Equal("social-controller-manager"))
		Expect(c.Image).To(Equal("registry.example.org/igconnect/manager@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
		Expect(c.ImagePullPolicy).To(Equal(corev1.PullAlways))
		Expect(pod.ImagePullSecrets).To(ConsistOf(corev1.LocalObjectReference{Name: "registry-credentials"}))
		Expect(c.Args).NotTo(ContainElement("--leader-elect"))
		Expect(c.Args).To(ContainElements("--state-key-secret=social-state-key",
			"--connection-namespace=apps", "--max-concurrent-reconciles=8"))
		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
		}
		Expect(env["IGCONNECT_STATE_KEY"].ValueFrom.SecretKeyRef).To(HaveValue(And(
			HaveField("Name", "social-signing"), HaveField("Key", "key"))))
		for _, name := range []string{"INSTAGRAM_CLIENT_ID", "INSTAGRAM_CLIENT_SECRET"} {
			Expect(env[name].ValueFrom.SecretKeyRef).To(HaveValue(And(
				HaveField("Name", "meta-app"), HaveField("Optional", HaveValue(BeFalse())))), name)
		}
		Expect(env["GOMEMLIMIT"].Value).To(Equal("200MiB"))
		Expect(pod.ServiceAccountName).To(Equal("social-controller-manager"))
		sa := deploycheck.Find(r.objs, "ServiceAccount", "social-controller-manager")
		Expect(sa).NotTo(BeNil())
		Expect(sa.GetAnnotations()).To(HaveKeyWithValue("example.org/owner", "platform"))
		Expect(r.deployment.Spec.Template.Annotations).To(HaveKeyWithValue("example.org/scrape", "false"))
		Expect(r.deployment.Spec.Template.Labels).To(HaveKeyWithValue("team", "platform"))
		for _, o := range r.objs {
			Expect(o.GetLabels()).To(HaveKeyWithValue("example.org/cost-center", "social"), deploycheck.Describe(o))
		}

		Expect(deploycheck.OfKind(r.objs, "Role")).To(BeEmpty(), "no leader election, so no Lease role")
		Expect(deploycheck.OfKind(r.objs, "ClusterRole")).To(ConsistOf(
			HaveField("Object", HaveKeyWithValue("metadata", HaveKeyWithValue("name", "social-manager-role")))),
			"the manager's role only: no user roles")
		callback := deploycheck.Find(r.objs, "Service", "social-callback")
		Expect(callback).NotTo(BeNil())
		Expect(callback.Object["spec"]).To(HaveKeyWithValue("type", "LoadBalancer"))
	})
})
