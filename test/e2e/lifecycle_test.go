package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// The accounts of the main stack's sandbox, one per scenario so that scenarios do not
// depend on one another's connections.
var mainAccounts = []string{
	"--account", "alice:17841400000000101",
	"--account", "bob:17841400000000102",
	"--account", "carol:17841400000000103",
	"--account", "dave:17841400000000104",
	"--account", "erin:17841400000000105",
	"--account", "frank:17841400000000106",
}

// These specs share one sandbox with Instagram's real lifetimes (60-day tokens, 24-hour
// minimum age) and one manager with its defaults, as a user would run them: nothing is due
// for refresh, so every refresh call the sandbox counts would be a bug.
var _ = Describe("igconnect with Instagram's lifetimes", Ordered, func() {
	var s *stack

	BeforeAll(func() {
		s = startStack("e2e-main", mainAccounts, nil)
	})

	It("reports ready only once its caches have synced, on both probe endpoints", func() {
		probes := newBrowser()
		manager := probes.get(s.mgr.ProbeURL + "/readyz?verbose")
		Expect(manager.status).To(Equal(http.StatusOK), manager.body)
		Expect(manager.body).To(ContainSubstring("[+]caches ok"))
		callback := probes.get(s.mgr.CallbackURL + "/readyz")
		Expect(callback.status).To(Equal(http.StatusOK), callback.body)
	})

	It("connects an account through the callback: start page, consent, result page, Ready", func() {
		alice := s.account("alice")
		name := "ig-" + alice.UserID

		result := newBrowser().login(s.mgr.StartURL(), alice.UserID)
		s.expectConnectedPage(result, alice, name)

		conn := s.connection(name)
		Expect(conn.Spec.InstagramUserID).To(Equal(alice.UserID), "a callback-created connection pins its account")
		Expect(conn.Spec.SecretName).To(Equal(name + "-token"))
		first := s.expectMountedReady(name, alice)

		By("logging in again with the same account: the same connection, a new token")
		s.expectConnectedPage(newBrowser().login(s.mgr.StartURL(), alice.UserID), alice, name)
		Eventually(func() (string, error) { return s.tokenIn(name + "-token") }).ShouldNot(Equal(first))
		second := s.expectMountedReady(name, alice)
		Expect(second).NotTo(Equal(first))
		Expect(s.listConnections()).To(ConsistOf(name), "a second login must not create a second connection")
		Expect(s.calls(sandbox.EndpointRefresh)).To(BeZero())
	})

	It("completes the GitOps flow: a connection without a token offers status.authorizationURL", func() {
		bob := s.account("bob")
		s.createConnection("shop", "shop-token")
		conn := s.waitForReason("shop", metav1.ConditionFalse, igv1.ReasonAwaitingAuthorization)
		Expect(conn.Status.AuthorizationURL).To(HavePrefix(s.mgr.PublicURL + "/auth/instagram/start?ticket="))

		result := newBrowser().login(conn.Status.AuthorizationURL, bob.UserID)
		s.expectConnectedPage(result, bob, "shop")
		s.expectMountedReady("shop", bob)
		Expect(s.listConnections()).NotTo(ContainElement("ig-"+bob.UserID),
			"a login through a ticket updates that connection and creates no other")
		Expect(s.connection("shop").Status.AuthorizationURL).To(BeEmpty(), "a Ready connection offers no login link")
	})

	It("imports a short-lived token a person put in a Secret and manages it from then on", func() {
		carol := s.account("carol")
		issued, err := s.sb.Control.IssueToken(ctx, devenv.TokenRequest{Account: carol.Username, Kind: sandbox.ShortLived})
		Expect(err).NotTo(HaveOccurred())
		s.importSecret("carol-token", issued.AccessToken)
		s.createConnection("carol", "carol-token")

		token := s.expectMountedReady("carol", carol)
		Expect(token).NotTo(Equal(issued.AccessToken), "a short-lived token is exchanged for a long-lived one")
		sec := s.secret("carol-token")
		Expect(metav1.IsControlledBy(sec, s.connection("carol"))).To(BeTrue(), "the imported Secret is adopted")
	})

	It("removes the token when the person removes the app (deauthorize callback)", func() {
		dave := s.account("dave")
		name := "ig-" + dave.UserID
		s.expectConnectedPage(newBrowser().login(s.mgr.StartURL(), dave.UserID), dave, name)
		s.expectMountedReady(name, dave)

		// The person removes the app in Instagram's settings; Meta then calls the
		// deauthorize URL with the app-scoped id.
		Expect(s.sb.Control.RemoveApp(ctx, dave.UserID, "")).To(Succeed())
		status, body := s.signedPost("/auth/instagram/deauthorize", dave.AppScopedID)
		Expect(status).To(Equal(http.StatusOK), body)
		Expect(body).To(MatchJSON(`{"success":true,"connections":1}`))

		conn := s.waitForReason(name, metav1.ConditionFalse, igv1.ReasonDeauthorized)
		Expect(conn.Status.AuthorizationURL).NotTo(BeEmpty(), "a deauthorized connection offers a new login")
		sec := s.secret(name + "-token")
		Expect(sec.Data).NotTo(HaveKey(igv1.SecretKeyAccessToken), "the token must be gone from the Secret")
		Expect(sec.Data).NotTo(HaveKey(igv1.SecretKeyTokenType))
		Expect(string(sec.Data[igv1.SecretKeyUserID])).To(Equal(dave.UserID), "the Secret still says whose it was")

		By("a forged signed_request changes nothing")
		alice := s.account("alice")
		resp, err := http.PostForm(s.mgr.CallbackURL+"/auth/instagram/deauthorize",
			map[string][]string{"signed_request": {"Zm9yZ2Vk.eyJ1c2VyX2lkIjoiMTc4NDE0MDAwMDAwMDAxMDEifQ"}})
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(BeNumerically(">=", 400))
		s.waitForReason("ig-"+alice.UserID, metav1.ConditionTrue, igv1.ReasonConnected)
	})

	It("deletes the connection and its Secret on a data-deletion request, with a status page", func() {
		erin := s.account("erin")
		name := "ig-" + erin.UserID
		s.expectConnectedPage(newBrowser().login(s.mgr.StartURL(), erin.UserID), erin, name)
		s.expectMountedReady(name, erin)

		status, body := s.signedPost("/auth/instagram/data-deletion", erin.UserID)
		Expect(status).To(Equal(http.StatusOK), body)
		var answer struct {
			URL              string `json:"url"`
			ConfirmationCode string `json:"confirmation_code"`
		}
		Expect(json.Unmarshal([]byte(body), &answer)).To(Succeed(), body)
		Expect(answer.ConfirmationCode).NotTo(BeEmpty())
		Expect(answer.URL).To(HavePrefix(s.mgr.PublicURL + "/auth/instagram/data-deletion/status?code="))

		expectGone(&igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name}})
		expectGone(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name + "-token"}})

		statusPage := newBrowser().get(answer.URL)
		Expect(statusPage.status).To(Equal(http.StatusOK))
		Expect(statusPage.body).To(ContainSubstring("<!DOCTYPE html>"))
		Expect(statusPage.body).To(ContainSubstring("Data deletion completed"))
		Expect(statusPage.body).To(ContainSubstring(strings.ToUpper(answer.ConfirmationCode)))
		Expect(statusPage.body).To(ContainSubstring("deleted 1 Instagram connection"))
	})

	It("loses nothing when the manager is killed in the middle of its work and started again", func() {
		frank := s.account("frank")
		dave := s.account("dave")
		refreshesBefore := s.calls(sandbox.EndpointRefresh)

		// What the cluster holds before the crash: each connection's reason and token.
		type snapshot struct{ Status, Reason, Token string }
		before := map[string]snapshot{}
		for _, name := range s.listConnections() {
			c := s.connection(name)
			st, reason := readyReason(c)
			token, err := s.tokenIn(c.Spec.SecretName)
			Expect(err).NotTo(HaveOccurred())
			before[name] = snapshot{string(st), reason, token}
		}
		Expect(before).To(HaveKeyWithValue("ig-"+dave.UserID, HaveField("Reason", igv1.ReasonDeauthorized)))
		ticketURL := s.connection("ig-" + dave.UserID).Status.AuthorizationURL

		By("holding two of six imports in Instagram's /me, so the manager is mid-work when killed")
		Expect(s.sb.Control.InjectFault(ctx, devenv.Fault{Kind: sandbox.FaultHang, Endpoint: sandbox.EndpointProfile,
			Count: 2})).To(Succeed())
		const imports = 6
		for i := range imports {
			issued, err := s.sb.Control.IssueToken(ctx, devenv.TokenRequest{Account: frank.Username, Kind: sandbox.ShortLived})
			Expect(err).NotTo(HaveOccurred())
			s.importSecret(fmt.Sprintf("import-%d-token", i), issued.AccessToken)
			s.createConnection(fmt.Sprintf("import-%d", i), fmt.Sprintf("import-%d-token", i))
		}
		readyImports := func() int {
			n := 0
			for i := range imports {
				if st, _ := readyReason(s.connection(fmt.Sprintf("import-%d", i))); st == metav1.ConditionTrue {
					n++
				}
			}
			return n
		}
		Eventually(func(g Gomega) {
			faults, err := s.sb.Control.Faults(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(faults).To(BeEmpty(), "both hangs should have caught a request")
			g.Expect(readyImports()).To(Equal(imports - 2))
		}).Should(Succeed())

		By("killing the manager with SIGKILL and starting it again")
		Expect(s.mgr.Kill()).To(Succeed())
		Expect(s.sb.Control.ClearFaults(ctx)).To(Succeed())
		Expect(s.mgr.Start(ctx)).To(Succeed())

		for i := range imports {
			s.expectMountedReady(fmt.Sprintf("import-%d", i), frank)
		}
		for name, was := range before {
			c := s.connection(name)
			st, reason := readyReason(c)
			Expect(snapshot{string(st), reason, ""}).To(Equal(snapshot{was.Status, was.Reason, ""}),
				"%s changed its Ready across the restart", name)
			token, err := s.tokenIn(c.Spec.SecretName)
			Expect(err).NotTo(HaveOccurred())
			Expect(token).To(Equal(was.Token), "%s's token changed across the restart", name)
			if token != "" {
				info, found, err := s.sb.Control.InspectToken(ctx, token)
				Expect(err).NotTo(HaveOccurred())
				Expect(found && info.Valid).To(BeTrue(), "%s's token is no longer valid", name)
			}
		}
		Expect(s.listConnections()).To(HaveLen(len(before)+imports), "no connection lost or duplicated")
		Expect(s.calls(sandbox.EndpointRefresh)).To(Equal(refreshesBefore), "a restart must not refresh tokens that are not due")

		By("a login link minted before the restart still works after it (the state key is shared)")
		result := newBrowser().login(ticketURL, dave.UserID)
		s.expectConnectedPage(result, dave, "ig-"+dave.UserID)
		s.expectMountedReady("ig-"+dave.UserID, dave)
		Expect(time.Since(s.connection("ig-" + dave.UserID).Status.TokenIssuedAt.Time)).To(BeNumerically("<", time.Minute))
	})
})
