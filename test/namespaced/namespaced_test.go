package namespaced

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
)

var _ = Describe("a manager bound by config/namespaced's Roles only", Ordered, func() {
	var (
		// userID is the sandbox's default account, which every connection here belongs to.
		userID string
		// outside is a connection in the unwatched namespace, pinned to that account, and
		// its Secret, as created.
		outside       *igv1.InstagramConnection
		outsideSecret *corev1.Secret
	)

	BeforeAll(func() {
		accounts, err := sb.Control.Accounts(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(accounts).NotTo(BeEmpty())
		userID = accounts[0].UserID
	})

	// expectOutsideUntouched checks that the unwatched connection and its Secret are as
	// created: no status, no finalizer, no write at all.
	expectOutsideUntouched := func() {
		GinkgoHelper()
		c := &igv1.InstagramConnection{}
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(outside), c)).To(Succeed())
		Expect(c.ResourceVersion).To(Equal(outside.ResourceVersion), "the connection in %s was written", unwatchedNamespace)
		Expect(c.Status).To(Equal(igv1.InstagramConnectionStatus{}))
		Expect(c.Finalizers).To(BeEmpty())
		s := &corev1.Secret{}
		Expect(admin.Get(ctx, client.ObjectKeyFromObject(outsideSecret), s)).To(Succeed())
		Expect(s.ResourceVersion).To(Equal(outsideSecret.ResourceVersion), "the Secret in %s was written", unwatchedNamespace)
		Expect(s.OwnerReferences).To(BeEmpty())
	}

	// expectNoRBACRefusal checks the manager's log for a request the API server refused.
	expectNoRBACRefusal := func() {
		GinkgoHelper()
		log, err := os.ReadFile(mgr.LogFile())
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.ToLower(string(log))).NotTo(ContainSubstring("forbidden"),
			"the manager made a request its Roles do not allow")
		Expect(string(log)).NotTo(ContainSubstring(unwatchedNamespace))
	}

	It("reconciles connections in the watched namespaces and never touches one in another", func() {
		outside, outsideSecret = importConnection(unwatchedNamespace, "outside", userID)
		// The sync point: these are created after the unwatched one, so once they are Ready
		// the manager has been running since before it existed.
		for _, ns := range watched {
			importConnection(ns, "inside", "")
		}
		for _, ns := range watched {
			waitForReady(ns, "inside", metav1.ConditionTrue, igv1.ReasonConnected)
		}
		expectOutsideUntouched()
		expectNoRBACRefusal()
	})

	It("is refused Secrets and connections anywhere but the watched namespaces", func() {
		// The control: its Secrets in a watched namespace are readable.
		Expect(asManager.Get(ctx, client.ObjectKey{Namespace: watched[0], Name: "inside-token"}, &corev1.Secret{})).To(Succeed())

		forbidden := func(what string, err error) {
			GinkgoHelper()
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: want 403 Forbidden, got %v", what, err)
		}
		forbidden("get a Secret in "+unwatchedNamespace,
			asManager.Get(ctx, client.ObjectKeyFromObject(outsideSecret), &corev1.Secret{}))
		forbidden("list Secrets in "+unwatchedNamespace,
			asManager.List(ctx, &corev1.SecretList{}, client.InNamespace(unwatchedNamespace)))
		forbidden("list Secrets cluster-wide", asManager.List(ctx, &corev1.SecretList{}))
		forbidden("list Secrets in "+operatorNamespace,
			asManager.List(ctx, &corev1.SecretList{}, client.InNamespace(operatorNamespace)))
		forbidden("get a connection in "+unwatchedNamespace,
			asManager.Get(ctx, client.ObjectKeyFromObject(outside), &igv1.InstagramConnection{}))
		forbidden("list connections cluster-wide", asManager.List(ctx, &igv1.InstagramConnectionList{}))
		forbidden("create a Secret in "+unwatchedNamespace, asManager.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: unwatchedNamespace, Name: "planted"}}))
	})

	It("creates a login's connection in the connection namespace", func() {
		status, body := login(userID)
		Expect(status).To(Equal(http.StatusOK), "result page: %s", body)
		name := "ig-" + userID
		Expect(body).To(ContainSubstring(connectionNamespace + "/" + name))
		waitForReady(connectionNamespace, name, metav1.ConditionTrue, igv1.ReasonConnected)
		for _, ns := range append([]string{unwatchedNamespace, operatorNamespace}, watched...) {
			if ns == connectionNamespace {
				continue
			}
			err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &igv1.InstagramConnection{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a login made a connection in %s: %v", ns, err)
		}
	})

	It("matches Meta's callbacks against the watched namespaces only", func() {
		// Verified and matching nothing: the callback lists the API server, one watched
		// namespace at a time. A cluster-wide LIST would be refused, and Meta answered 503.
		status, body := deauthorize("17841499999999999")
		Expect(status).To(Equal(http.StatusOK), body)
		Expect(body).To(ContainSubstring(`"connections":0`))

		// The account's three watched connections, not the fourth, pinned to it elsewhere.
		status, body = deauthorize(userID)
		Expect(status).To(Equal(http.StatusOK), body)
		Expect(body).To(ContainSubstring(`"connections":3`))
		waitForReady(connectionNamespace, "ig-"+userID, metav1.ConditionFalse, igv1.ReasonDeauthorized)
		for _, ns := range watched {
			waitForReady(ns, "inside", metav1.ConditionFalse, igv1.ReasonDeauthorized)
		}
		expectOutsideUntouched()
	})

	It("was never refused by the API server", func() {
		expectOutsideUntouched()
		expectNoRBACRefusal()
		log, err := os.ReadFile(mgr.LogFile())
		Expect(err).NotTo(HaveOccurred())
		Expect(string(log)).To(ContainSubstring(`"watchNamespaces":"` + strings.Join(watched, ",") + `"`))
	})

	It("does not become ready when told to watch a namespace it has no Role in", func() {
		probe, err := devenv.FreeAddr()
		Expect(err).NotTo(HaveOccurred())
		// It counts as started once it logs the refusal; nothing is waited for before.
		p, err := devenv.StartProcess(ctx, devenv.ProcessSpec{
			Name: "manager-without-role",
			Path: filepath.Join(binDir, "manager"),
			Args: []string{"--public-url", "http://127.0.0.1:1", "--callback-bind-address", "0",
				"--metrics-bind-address", "0", "--health-probe-bind-address", probe, "--namespace", operatorNamespace,
				"--watch-namespaces", watched[0] + "," + unwatchedNamespace},
			Env:       []string{"KUBECONFIG=" + managerKubeconfig},
			LogFile:   filepath.Join(workDir, "manager-without-role.log"),
			ReadyLine: regexp.MustCompile(`forbidden.*in the namespace \\?"` + unwatchedNamespace),
		})
		Expect(err).NotTo(HaveOccurred(), "the manager should log that it may not list %s", unwatchedNamespace)
		DeferCleanup(p.Stop)
		Eventually(func(g Gomega) {
			resp, err := http.Get("http://" + probe + "/readyz")
			g.Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			g.Expect(resp.StatusCode).To(Equal(http.StatusInternalServerError))
		}).Should(Succeed(), "readyz must fail while a cache cannot list its namespace")
	})
})
