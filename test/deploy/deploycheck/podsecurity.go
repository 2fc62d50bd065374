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

	"github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// restricted is the Pod Security Standard the manager meets.
const restricted = "restricted"

// RestrictedNamespaceLabels make PodSecurity admission enforce, warn about and audit the
// restricted standard.
var RestrictedNamespaceLabels = map[string]string{
	"pod-security.kubernetes.io/enforce": restricted,
	"pod-security.kubernetes.io/warn":    restricted,
	"pod-security.kubernetes.io/audit":   restricted,
}

// ExpectDryRunApplied applies every object with a server-side dry run and expects the API
// server to accept each, with no PodSecurity warning. The namespaces of the namespaced
// objects must exist.
func ExpectDryRunApplied(ctx context.Context, env *Env, objs []*unstructured.Unstructured) {
	env.Warnings.Take()
	for _, o := range objs {
		err := env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
			FieldOwner, client.ForceOwnership, client.DryRunAll)
		gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred(), "dry-run apply %s", Describe(o))
	}
	gomega.ExpectWithOffset(1, PodSecurityWarnings(env.Warnings.Take())).To(gomega.BeEmpty(),
		"PodSecurity admission has no objection to the workloads")
}

// ExpectRestrictedPodSpec checks the manager's pod against the restricted Pod Security
// Standard as written: non-root, RuntimeDefault seccomp, no host namespaces or volumes, no
// privilege escalation, every capability dropped, a read-only root file system.
func ExpectRestrictedPodSpec(pod corev1.PodSpec) {
	gomega.Expect(pod.SecurityContext).NotTo(gomega.BeNil())
	gomega.Expect(pod.SecurityContext.RunAsNonRoot).To(gomega.HaveValue(gomega.BeTrue()))
	gomega.Expect(pod.SecurityContext.SeccompProfile).To(gomega.HaveValue(gomega.HaveField("Type", corev1.SeccompProfileTypeRuntimeDefault)))
	gomega.Expect(pod.HostNetwork || pod.HostPID || pod.HostIPC).To(gomega.BeFalse())
	gomega.Expect(pod.Volumes).To(gomega.BeEmpty(), "no volumes, so no hostPath")
	gomega.Expect(pod.Containers).To(gomega.HaveLen(1))
	gomega.Expect(pod.InitContainers).To(gomega.BeEmpty())
	sc := pod.Containers[0].SecurityContext
	gomega.Expect(sc).NotTo(gomega.BeNil())
	gomega.Expect(sc.AllowPrivilegeEscalation).To(gomega.HaveValue(gomega.BeFalse()))
	gomega.Expect(sc.ReadOnlyRootFilesystem).To(gomega.HaveValue(gomega.BeTrue()))
	gomega.Expect(sc.Privileged).To(gomega.Or(gomega.BeNil(), gomega.HaveValue(gomega.BeFalse())))
	gomega.Expect(sc.Capabilities).NotTo(gomega.BeNil())
	gomega.Expect(sc.Capabilities.Drop).To(gomega.ConsistOf(corev1.Capability("ALL")))
	gomega.Expect(sc.Capabilities.Add).To(gomega.BeEmpty())
	gomega.Expect(sc.RunAsUser).To(gomega.Or(gomega.BeNil(), gomega.HaveValue(gomega.BeNumerically(">", 0))))
}

// ExpectAdmittedRestricted creates (dry run) the Deployment's pod in namespace, which must
// enforce the restricted standard, and expects it admitted; then it proves the check can
// fail: copies that each break one rule are refused, and a Deployment whose pods would break
// it draws PodSecurity's warning.
func ExpectAdmittedRestricted(ctx context.Context, env *Env, deployment *appsv1.Deployment, namespace string) {
	pod := func(name string, mutate func(*corev1.PodSpec)) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
				Labels: deployment.Spec.Template.Labels},
			Spec: *deployment.Spec.Template.Spec.DeepCopy(),
		}
		if mutate != nil {
			mutate(&p.Spec)
		}
		return p
	}
	gomega.Expect(env.Client.Create(ctx, pod("manager", nil), client.DryRunAll)).To(gomega.Succeed(),
		"the Deployment's pod is admitted in the restricted namespace")

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
		err := env.Client.Create(ctx, pod(name, mutate), client.DryRunAll)
		gomega.Expect(apierrors.IsForbidden(err)).To(gomega.BeTrue(), "%s: want Forbidden, got %v", name, err)
		gomega.Expect(err.Error()).To(gomega.ContainSubstring(`violates PodSecurity "restricted:latest"`), name)
	}

	// A Deployment is not refused (its pods would be), but the warn label makes the API
	// server say so at apply time.
	env.Warnings.Take()
	d := deployment.DeepCopy()
	// A name of its own: the real Deployment may already exist (dry runs are still
	// checked against existing objects).
	d.Name = "pod-security-check"
	d.Namespace = namespace
	d.Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr.To(true)
	d.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	gomega.Expect(env.Client.Create(ctx, d, client.DryRunAll)).To(gomega.Succeed())
	gomega.Expect(PodSecurityWarnings(env.Warnings.Take())).To(gomega.ContainElement(
		gomega.ContainSubstring(`would violate PodSecurity "restricted:latest"`)))
}
