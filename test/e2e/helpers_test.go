package e2e

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/signedrequest"
)

// sandboxBanner is the sentence every sandbox page carries.
const sandboxBanner = "This is the igconnect Instagram sandbox, not Instagram."

// stack is one sandbox and one manager serving one namespace of the suite's control plane.
// Specs that share a stack live in one Ordered container.
type stack struct {
	ns  string
	sb  *devenv.Sandbox
	mgr *devenv.Manager
	// accounts by username, as the sandbox reports them (with their app-scoped IDs).
	accounts map[string]sandbox.Account
}

// startStack creates namespace ns and starts a sandbox with the given flags and a manager
// pointed at it, with the given flags; both are stopped, and everything in ns deleted, when
// the calling container ends. A manager watches every namespace, so leftovers would be
// reconciled by the next stack's manager against a sandbox that never issued their tokens.
func startStack(ns string, sandboxArgs, managerArgs []string) *stack {
	GinkgoHelper()
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	s := &stack{ns: ns, accounts: map[string]sandbox.Account{}}
	var err error
	s.sb, err = devenv.StartSandbox(ctx, devenv.SandboxOptions{
		Binary:  filepath.Join(binDir, "instagram-sandbox"),
		LogFile: filepath.Join(workDir, ns+"-sandbox.log"),
		Args:    sandboxArgs,
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(s.sb.Stop()).To(Succeed()) })

	s.mgr, err = devenv.StartManager(ctx, devenv.ManagerOptions{
		Binary:     filepath.Join(binDir, "manager"),
		Kubeconfig: controlPlane.KubeconfigPath,
		LogFile:    filepath.Join(workDir, ns+"-manager.log"),
		Namespace:  ns,
		SandboxURL: s.sb.URL,
		Args:       managerArgs,
	})
	Expect(err).NotTo(HaveOccurred())
	current = s
	DeferCleanup(func() {
		// The manager stops before the cleanup, so it does not recreate what is deleted.
		Expect(s.mgr.Stop()).To(Succeed())
		Expect(s.mgr.ExitErr()).NotTo(HaveOccurred(), "the manager should exit cleanly on SIGTERM")
		Expect(k8s.DeleteAllOf(ctx, &igv1.InstagramConnection{}, client.InNamespace(ns))).To(Succeed())
		// No garbage collector runs in this control plane: owned Secrets stay behind.
		Expect(k8s.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(ns))).To(Succeed())
		current = nil
	})

	accounts, err := s.sb.Control.Accounts(ctx)
	Expect(err).NotTo(HaveOccurred())
	for _, a := range accounts {
		s.accounts[a.Username] = a
	}
	DeferCleanup(func() { collectForLeakScan(s) }) // first of the cleanups: see leaks_test.go
	return s
}

// account returns the sandbox account with this username.
func (s *stack) account(username string) sandbox.Account {
	GinkgoHelper()
	a, ok := s.accounts[username]
	Expect(ok).To(BeTrue(), "the sandbox has no account %q", username)
	return a
}

// calls returns the sandbox's call count for one endpoint.
func (s *stack) calls(endpoint string) int {
	GinkgoHelper()
	calls, err := s.sb.Control.Calls(ctx)
	Expect(err).NotTo(HaveOccurred())
	return calls[endpoint]
}

// connection reads a connection.
func (s *stack) connection(name string) *igv1.InstagramConnection {
	GinkgoHelper()
	c := &igv1.InstagramConnection{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, c)).To(Succeed())
	return c
}

// secret reads a Secret.
func (s *stack) secret(name string) *corev1.Secret {
	GinkgoHelper()
	sec := &corev1.Secret{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, sec)).To(Succeed())
	return sec
}

// readyReason returns Ready's status and reason, or "" when the connection has no Ready yet.
func readyReason(c *igv1.InstagramConnection) (metav1.ConditionStatus, string) {
	cond := apimeta.FindStatusCondition(c.Status.Conditions, igv1.ConditionReady)
	if cond == nil {
		return "", ""
	}
	return cond.Status, cond.Reason
}

// waitForReason waits until the connection's Ready has this status and reason, for the
// connection's current generation.
func (s *stack) waitForReason(name string, status metav1.ConditionStatus, reason string) *igv1.InstagramConnection {
	GinkgoHelper()
	var c *igv1.InstagramConnection
	Eventually(func(g Gomega) {
		c = &igv1.InstagramConnection{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, c)).To(Succeed())
		cond := apimeta.FindStatusCondition(c.Status.Conditions, igv1.ConditionReady)
		g.Expect(cond).NotTo(BeNil(), "no Ready condition yet")
		g.Expect(cond.ObservedGeneration).To(Equal(c.Generation))
		g.Expect(string(cond.Status)+"/"+cond.Reason).To(Equal(string(status)+"/"+reason), "Ready says: %s", cond.Message)
	}).Should(Succeed(), "connection %s/%s never became Ready=%s %s", s.ns, name, status, reason)
	return c
}

// expectMountedReady is what an app that mounts the Secret relies on: the connection is
// Ready, and its Secret holds every key of the contract, consistent with what Instagram (the
// sandbox) knows about the token and with the connection's status. It waits for all of that
// at once, because after a new login or a refresh the Secret changes first and the status
// follows. It returns the token.
func (s *stack) expectMountedReady(name string, acct sandbox.Account) string {
	GinkgoHelper()
	s.waitForReason(name, metav1.ConditionTrue, igv1.ReasonConnected)
	var token string
	Eventually(func(g Gomega) {
		conn := &igv1.InstagramConnection{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, conn)).To(Succeed())
		st, reason := readyReason(conn)
		g.Expect(string(st) + "/" + reason).To(Equal("True/" + igv1.ReasonConnected))
		sec := &corev1.Secret{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: conn.Spec.SecretName}, sec)).To(Succeed())
		g.Expect(sec.Type).To(Equal(corev1.SecretTypeOpaque))
		for _, key := range []string{igv1.SecretKeyAccessToken, igv1.SecretKeyTokenType, igv1.SecretKeyExpiresAt,
			igv1.SecretKeyUserID, igv1.SecretKeyUsername} {
			g.Expect(sec.Data).To(HaveKey(key), "Secret %s lacks %s", sec.Name, key)
			g.Expect(sec.Data[key]).NotTo(BeEmpty(), "Secret %s has an empty %s", sec.Name, key)
		}
		g.Expect(string(sec.Data[igv1.SecretKeyTokenType])).To(Equal("bearer"))
		g.Expect(string(sec.Data[igv1.SecretKeyUserID])).To(Equal(acct.UserID))
		g.Expect(string(sec.Data[igv1.SecretKeyUsername])).To(Equal(acct.Username))
		g.Expect(sec.Labels).To(HaveKeyWithValue(igv1.LabelManagedBy, igv1.ManagedByValue))
		g.Expect(sec.Labels).To(HaveKeyWithValue(igv1.LabelConnection, name))
		expiresAt, err := time.Parse(time.RFC3339, string(sec.Data[igv1.SecretKeyExpiresAt]))
		g.Expect(err).NotTo(HaveOccurred(), "expires_at must be RFC 3339")
		g.Expect(string(sec.Data[igv1.SecretKeyExpiresAt])).To(HaveSuffix("Z"), "expires_at must be UTC")

		token = string(sec.Data[igv1.SecretKeyAccessToken])
		info, found, err := s.sb.Control.InspectToken(ctx, token)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(found).To(BeTrue(), "the sandbox never issued the token in Secret %s", sec.Name)
		g.Expect(info.Valid).To(BeTrue(), "the token in Secret %s is not valid: %s", sec.Name, info.Reason)
		g.Expect(info.Kind).To(Equal(sandbox.LongLived))
		g.Expect(info.UserID).To(Equal(acct.UserID))
		g.Expect(info.Username).To(Equal(acct.Username))
		// The operator computes the expiry from expires_in when the answer arrives, to the second.
		g.Expect(expiresAt).To(BeTemporally("~", info.ExpiresAt, 3*time.Second))

		g.Expect(conn.Status.UserID).To(Equal(acct.UserID))
		g.Expect(conn.Status.Username).To(Equal(acct.Username))
		g.Expect(conn.Status.ExpiresAt).NotTo(BeNil())
		g.Expect(conn.Status.ExpiresAt.Time.Equal(expiresAt)).To(BeTrue(), "status.expiresAt %s, Secret %s",
			conn.Status.ExpiresAt, expiresAt)
		g.Expect(conn.Status.NextRefreshTime).NotTo(BeNil())
	}).Should(Succeed(), "connection %s/%s and its Secret never agreed with the sandbox", s.ns, name)
	return token
}

// signedPost posts a signed_request, as Meta does, to a callback endpoint and returns the
// status and body.
func (s *stack) signedPost(path, userID string) (int, string) {
	GinkgoHelper()
	sr := signedrequest.Sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: userID, IssuedAt: time.Now().Unix()})
	resp, err := http.PostForm(s.mgr.CallbackURL+path, url.Values{"signed_request": {sr}})
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body)
}

// expectGone waits until the object no longer exists.
func expectGone(obj client.Object) {
	GinkgoHelper()
	Eventually(func() bool {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err)
	}).Should(BeTrue(), "%T %s still exists", obj, client.ObjectKeyFromObject(obj))
}

// browser is what a person's browser does with plain HTTP: it keeps cookies, follows
// redirects and submits forms.
type browser struct {
	hc *http.Client
}

func newBrowser() *browser {
	jar, err := cookiejar.New(nil)
	Expect(err).NotTo(HaveOccurred())
	return &browser{hc: &http.Client{Jar: jar, Timeout: 60 * time.Second}}
}

// page is a page the browser landed on.
type page struct {
	url    *url.URL
	status int
	body   string
}

func (b *browser) do(req *http.Request) page {
	GinkgoHelper()
	resp, err := b.hc.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return page{url: resp.Request.URL, status: resp.StatusCode, body: string(body)}
}

// get opens a URL and follows its redirects.
func (b *browser) get(u string) page {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	Expect(err).NotTo(HaveOccurred())
	return b.do(req)
}

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// login opens startURL (the start page or a status.authorizationURL), lands on the
// sandbox's consent page, allows as the account with userID, and returns the page the
// callback server answers with.
func (b *browser) login(startURL, userID string) page {
	GinkgoHelper()
	consent := b.get(startURL)
	Expect(consent.status).To(Equal(http.StatusOK), "consent page: %s", consent.body)
	Expect(consent.body).To(ContainSubstring(sandboxBanner), "the consent page must say it is a sandbox")
	Expect(consent.body).To(ContainSubstring(`id="allow"`))
	Expect(consent.body).To(ContainSubstring(`value="`+userID+`"`), "the consent page offers no account %s", userID)

	form := url.Values{"decision": {"allow"}, "account": {userID}}
	for _, m := range hiddenInput.FindAllStringSubmatch(consent.body, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	action := formAction.FindStringSubmatch(consent.body)
	Expect(action).NotTo(BeNil(), "no form on the consent page")
	target, err := consent.url.Parse(html.UnescapeString(action[1]))
	Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// expectConnectedPage checks the callback's result page names the account and connection.
func (s *stack) expectConnectedPage(p page, acct sandbox.Account, connName string) {
	GinkgoHelper()
	Expect(p.status).To(Equal(http.StatusOK), "result page: %s", p.body)
	Expect(p.url.String()).To(HavePrefix(s.mgr.PublicURL+"/auth/instagram/callback"), "the browser should end on the callback")
	Expect(p.body).To(ContainSubstring("Instagram account connected"))
	Expect(p.body).To(ContainSubstring("@" + acct.Username))
	Expect(p.body).To(ContainSubstring(s.ns + "/" + connName))
}

// listConnections returns the names of the connections in the stack's namespace.
func (s *stack) listConnections() []string {
	GinkgoHelper()
	list := &igv1.InstagramConnectionList{}
	Expect(k8s.List(ctx, list, client.InNamespace(s.ns))).To(Succeed())
	names := make([]string, len(list.Items))
	for i, c := range list.Items {
		names[i] = c.Name
	}
	return names
}

// tokenIn returns the access_token of a Secret, or "" when it has none or is gone.
func (s *stack) tokenIn(secretName string) (string, error) {
	sec := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: secretName}, sec); err != nil {
		return "", err
	}
	return string(sec.Data[igv1.SecretKeyAccessToken]), nil
}

// importSecret creates a Secret holding just an access_token, as a person importing a token
// from the App Dashboard would.
func (s *stack) importSecret(name, token string) {
	GinkgoHelper()
	Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name},
		StringData: map[string]string{igv1.SecretKeyAccessToken: token},
	})).To(Succeed())
}

// createConnection creates a connection with only the required secretName.
func (s *stack) createConnection(name, secretName string) {
	GinkgoHelper()
	Expect(k8s.Create(ctx, &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name},
		Spec:       igv1.InstagramConnectionSpec{SecretName: secretName},
	})).To(Succeed())
}
