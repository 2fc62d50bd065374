package namespaced

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/signedrequest"
)

// importConnection puts a short-lived token of the sandbox's default account into a Secret,
// as a person importing a token does, and creates a connection naming it, pinned to pin
// unless that is empty.
func importConnection(ns, name, pin string) (*igv1.InstagramConnection, *corev1.Secret) {
	GinkgoHelper()
	issued, err := sb.Control.IssueToken(ctx, devenv.TokenRequest{Kind: sandbox.ShortLived})
	Expect(err).NotTo(HaveOccurred())
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-token"},
		StringData: map[string]string{igv1.SecretKeyAccessToken: issued.AccessToken},
	}
	Expect(admin.Create(ctx, secret)).To(Succeed())
	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       igv1.InstagramConnectionSpec{SecretName: secret.Name, InstagramUserID: pin},
	}
	Expect(admin.Create(ctx, conn)).To(Succeed())
	return conn, secret
}

// waitForReady waits until the connection's Ready, for its current generation, is
// status/reason.
func waitForReady(ns, name string, status metav1.ConditionStatus, reason string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		c := &igv1.InstagramConnection{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, c)).To(Succeed())
		cond := apimeta.FindStatusCondition(c.Status.Conditions, igv1.ConditionReady)
		g.Expect(cond).NotTo(BeNil(), "no Ready condition yet")
		g.Expect(cond.ObservedGeneration).To(Equal(c.Generation))
		g.Expect(string(cond.Status)+"/"+cond.Reason).To(Equal(string(status)+"/"+reason), "Ready says: %s", cond.Message)
	}).Should(Succeed(), "connection %s/%s never became Ready=%s %s", ns, name, status, reason)
}

// deauthorize posts a signed_request of the sandbox's default app for userID, as Meta does,
// to the deauthorize callback (CONTRACT §4) and returns the status and body.
func deauthorize(userID string) (int, string) {
	GinkgoHelper()
	sr := signedrequest.Sign(sandbox.DefaultClientSecret, signedrequest.Payload{UserID: userID, IssuedAt: time.Now().Unix()})
	resp, err := http.PostForm(mgr.CallbackURL+"/auth/instagram/deauthorize", url.Values{"signed_request": {sr}})
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body)
}

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// login does what a person's browser does for a login without a ticket: the start page,
// the sandbox's consent page, Allow as the account userID, and the callback's answer, whose
// status and body it returns.
func login(userID string) (int, string) {
	GinkgoHelper()
	jar, err := cookiejar.New(nil)
	Expect(err).NotTo(HaveOccurred())
	hc := &http.Client{Jar: jar, Timeout: 60 * time.Second}
	read := func(resp *http.Response, err error) (*url.URL, int, string) {
		GinkgoHelper()
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		return resp.Request.URL, resp.StatusCode, string(b)
	}
	at, status, consent := read(hc.Get(mgr.StartURL()))
	Expect(status).To(Equal(http.StatusOK), "consent page: %s", consent)
	Expect(consent).To(ContainSubstring(`value="`+userID+`"`), "the consent page offers no account %s", userID)
	form := url.Values{"decision": {"allow"}, "account": {userID}}
	for _, m := range hiddenInput.FindAllStringSubmatch(consent, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	action := formAction.FindStringSubmatch(consent)
	Expect(action).NotTo(BeNil(), "no form on the consent page")
	target, err := at.Parse(html.UnescapeString(action[1]))
	Expect(err).NotTo(HaveOccurred())
	_, status, body := read(hc.Post(target.String(), "application/x-www-form-urlencoded", strings.NewReader(form.Encode())))
	return status, body
}
