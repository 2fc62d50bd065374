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

package image

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
)

// managerFlags are the flags that point a manager at the sandbox and the control plane's
// namespace ns, as devenv.StartManager passes them to bin/manager. The app's ID and secret
// go in the environment (sandboxAppEnv), never on the command line.
func managerFlags(sandboxURL, ns, callbackAddr, probeAddr string) []string {
	return []string{
		"--callback-bind-address", callbackAddr,
		"--public-url", "http://" + callbackAddr,
		"--health-probe-bind-address", probeAddr,
		"--metrics-bind-address", "0",
		"--namespace", ns,
		"--connection-namespace", ns,
		"--instagram-authorize-url", sandboxURL + "/oauth/authorize",
		"--instagram-api-url", sandboxURL,
		"--instagram-graph-url", sandboxURL,
	}
}

// startSandbox starts bin/instagram-sandbox as a host process, stopped at the end of the
// spec.
func startSandbox(ns string) *devenv.Sandbox {
	GinkgoHelper()
	sb, err := devenv.StartSandbox(ctx, devenv.SandboxOptions{
		Binary:  filepath.Join(binDir, "instagram-sandbox"),
		LogFile: filepath.Join(workDir, ns+"-sandbox.log"),
	})
	Expect(err).NotTo(HaveOccurred(), "start the sandbox: run `make build` or set IGCONNECT_BIN")
	DeferCleanup(func() { Expect(sb.Stop()).To(Succeed()) })
	return sb
}

// createNamespace creates the namespace a manager serves, before the manager starts: it
// keeps its state key there. Its connections and Secrets are deleted at the end of the spec,
// so that a manager of a later spec, which watches every namespace, does not take them up.
func createNamespace(ns string) {
	GinkgoHelper()
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	DeferCleanup(func() {
		Expect(k8s.DeleteAllOf(ctx, &igv1.InstagramConnection{}, client.InNamespace(ns))).To(Succeed())
		Expect(k8s.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(ns))).To(Succeed())
	})
}

// expectImportedTokenReady does what a person importing a token does, in namespace ns: a Secret with a long-lived token from the sandbox and a connection that
// names it. It then waits until the manager serving ns made the connection Ready, with the
// account's details in the Secret, and the token still valid at the sandbox.
func expectImportedTokenReady(ns string, sb *devenv.Sandbox) {
	GinkgoHelper()
	accounts, err := sb.Control.Accounts(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(accounts).NotTo(BeEmpty())
	acct := accounts[0]
	issued, err := sb.Control.IssueToken(ctx, devenv.TokenRequest{Account: acct.Username})
	Expect(err).NotTo(HaveOccurred())

	Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "imported-token"},
		StringData: map[string]string{igv1.SecretKeyAccessToken: issued.AccessToken},
	})).To(Succeed())
	Expect(k8s.Create(ctx, &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "imported"},
		Spec:       igv1.InstagramConnectionSpec{SecretName: "imported-token"},
	})).To(Succeed())

	Eventually(func(g Gomega) {
		conn := &igv1.InstagramConnection{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "imported"}, conn)).To(Succeed())
		cond := apimeta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionReady)
		g.Expect(cond).NotTo(BeNil(), "no Ready condition yet")
		g.Expect(cond.ObservedGeneration).To(Equal(conn.Generation))
		g.Expect(string(cond.Status)+"/"+cond.Reason).To(Equal("True/"+igv1.ReasonConnected), "Ready says: %s", cond.Message)
		g.Expect(conn.Status.UserID).To(Equal(acct.UserID))

		sec := &corev1.Secret{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "imported-token"}, sec)).To(Succeed())
		g.Expect(string(sec.Data[igv1.SecretKeyUserID])).To(Equal(acct.UserID))
		g.Expect(string(sec.Data[igv1.SecretKeyUsername])).To(Equal(acct.Username))
		info, found, err := sb.Control.InspectToken(ctx, string(sec.Data[igv1.SecretKeyAccessToken]))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(found && info.Valid).To(BeTrue(), "the token in the Secret is not one the sandbox holds valid")
	}).Should(Succeed(), "connection %s/imported never became Ready through the image's manager", ns)
}
