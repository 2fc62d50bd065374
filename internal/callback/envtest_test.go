package callback

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/controller"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/signedrequest"
)

// TestEnvtest runs the callback's envtest suite; the package's other tests are unit tests
// against the fake client.
func TestEnvtest(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "callback envtest")
}

// The envtest suite runs logins through the real HTTP server into a real kube-apiserver and
// etcd, with the manager and the reconciler running as in production: the browser follows
// the redirect to the sandbox's consent page, clicks Allow and comes back; the connection
// and Secret appear in the API server and the reconciler reports Ready=True Connected. Then
// a ticket login for an existing connection, Meta's deauthorize (Ready=False Deauthorized)
// and Meta's data deletion (everything gone). The steps build on each other, so they run in
// order.
var _ = Describe("Logins against a real API server", Ordered, func() {
	var (
		ctx  context.Context
		k8s  client.Client
		e    *env
		name = "ig-" + defaultUserID
	)

	BeforeAll(func() {
		logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(context.Background())
		DeferCleanup(cancel)

		testEnv := &envtest.Environment{
			CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
			ErrorIfCRDPathMissing: true,
		}
		if os.Getenv("KUBEBUILDER_ASSETS") == "" {
			testEnv.BinaryAssetsDirectory = filepath.Join("..", "..", "bin", "k8s")
		}
		cfg, err := testEnv.Start()
		Expect(err).NotTo(HaveOccurred(), "start the control plane: run `make envtest` or set KUBEBUILDER_ASSETS")
		DeferCleanup(testEnv.Stop)

		scheme := testScheme()
		k8s, err = client.New(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		for _, ns := range []string{connNS, "marketing"} {
			Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		}

		clk := clocktesting.NewFakeClock(time.Now().UTC().Truncate(time.Second))
		ig := sandbox.New(sandbox.Options{Clock: clk})
		igSrv := httptest.NewServer(ig)
		DeferCleanup(igSrv.Close)
		igClient := instagram.New(instagram.Config{AuthorizeURL: igSrv.URL + "/oauth/authorize", APIURL: igSrv.URL,
			GraphURL: igSrv.URL, Timeout: 10 * time.Second, Clock: clk})
		signer, err := oauthstate.NewSigner([]byte(testKey), clk)
		Expect(err).NotTo(HaveOccurred())

		// The callback server's address must be known before the reconciler, which puts it
		// in status.authorizationURL, so the handler is bound after the server starts.
		var handler http.Handler
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
		DeferCleanup(srv.Close)

		mgr, err := ctrl.NewManager(cfg, ctrl.Options{
			Scheme:  scheme,
			Metrics: metricsserver.Options{BindAddress: "0"},
			// -count=N runs this suite N times in one process, each with its own manager.
			Controller: config.Controller{SkipNameValidation: ptr.To(true)},
			Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
				&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{igv1.LabelManagedBy: igv1.ManagedByValue})},
			}},
		})
		Expect(err).NotTo(HaveOccurred())
		creds := &appcreds.Resolver{Reader: mgr.GetAPIReader(),
			Default: instagram.App{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret}}
		// The event recorder the manager binary runs.
		recorder, err := controller.NewEventRecorder(ctx, cfg, scheme, "igconnect")
		Expect(err).NotTo(HaveOccurred())
		r := &controller.InstagramConnectionReconciler{
			Client:      mgr.GetClient(),
			APIReader:   mgr.GetAPIReader(),
			Recorder:    recorder,
			Clock:       clk,
			Instagram:   igClient,
			Credentials: creds,
			Tickets:     signer,
			PublicURL:   srv.URL,
			Policy:      controller.DefaultPolicy(),
		}
		Expect(r.SetupWithManager(mgr)).To(Succeed())
		Expect(IndexConnections(ctx, mgr.GetFieldIndexer())).To(Succeed())
		handler, err = NewHandler(Config{
			Client:              mgr.GetClient(),
			APIReader:           mgr.GetAPIReader(),
			Cache:               mgr.GetCache(),
			WaitForCacheSync:    mgr.GetCache().WaitForCacheSync,
			Instagram:           igClient,
			Credentials:         creds,
			Signer:              signer,
			Replay:              oauthstate.NewReplayGuard(clk, 0),
			Clock:               clk,
			PublicURL:           srv.URL,
			ConnectionNamespace: connNS,
			Log:                 logf.Log.WithName("callback"),
		})
		Expect(err).NotTo(HaveOccurred())
		done := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			Expect(mgr.Start(ctx)).To(Succeed())
		}()
		// Registered after testEnv.Stop, so it runs before it: the manager stops first.
		DeferCleanup(func() { cancel(); <-done })

		e = &env{t: GinkgoTB(), clock: clk, ig: ig, igURL: igSrv.URL, srv: srv, signer: signer}
	})

	It("stores a browser login without a ticket, through the consent page", func() {
		// It starts as soon as the manager does, as a person's might, so its callback may
		// come before the caches have synced: it must wait for them, not fail.
		b := e.newBrowser()
		authz := b.start("")
		Expect(b.do(mustRequest(e.t, http.MethodGet, authz.String(), nil)).status).To(Equal(http.StatusOK))
		form := authz.Query()
		form.Set("decision", "allow")
		req := mustRequest(e.t, http.MethodPost, e.igURL+"/oauth/authorize", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		back := b.do(req)
		Expect(back.status).To(Equal(http.StatusFound))
		Expect(back.header.Get("Location")).To(And(HavePrefix(e.srv.URL+CallbackPath+"?code="), HaveSuffix("#_")))
		page := b.do(mustRequest(e.t, http.MethodGet, back.header.Get("Location"), nil))
		Expect(page.status).To(Equal(http.StatusOK), pageText(page.body))
		Expect(page.body).To(ContainSubstring("kubectl get igconn -n " + connNS + " " + name))

		secret := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: connNS, Name: name + "-token"}, secret)).To(Succeed())
		Expect(secret.Data).To(HaveKey("access_token"))
		Expect(string(secret.Data["user_id"])).To(Equal(defaultUserID))
		Expect(string(secret.Data["token_type"])).To(Equal("bearer"))
		conn := &igv1.InstagramConnection{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: connNS, Name: name}, conn)).To(Succeed())
		Expect(metav1.GetControllerOf(secret).UID).To(Equal(conn.UID))
		Expect(conn.Spec.InstagramUserID).To(Equal(defaultUserID))
		expectReady(ctx, Default, k8s, connNS, name, metav1.ConditionTrue, igv1.ReasonConnected)
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: connNS, Name: name}, conn)).To(Succeed())
		Expect(conn.Status.UserID).To(Equal(defaultUserID))
		Expect(conn.Status.Username).To(Equal(defaultUsername))
	})

	It("stores a ticket login for a connection a person created, through its authorizationURL", func() {
		acme := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "marketing", Name: "acme"},
			Spec: igv1.InstagramConnectionSpec{SecretName: "acme-instagram-token"}}
		Expect(k8s.Create(ctx, acme)).To(Succeed())
		expectReady(ctx, Default, k8s, "marketing", "acme", metav1.ConditionFalse, igv1.ReasonAwaitingAuthorization)
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(acme), acme)).To(Succeed())
		Expect(acme.Status.AuthorizationURL).To(HavePrefix(e.srv.URL + StartPath + "?ticket="))
		b := e.newBrowser()
		start := b.do(mustRequest(e.t, http.MethodGet, acme.Status.AuthorizationURL, nil))
		Expect(start.status).To(Equal(http.StatusFound))
		authz, err := url.Parse(start.header.Get("Location"))
		Expect(err).NotTo(HaveOccurred())
		code, err := e.ig.IssueCode(sandbox.CodeRequest{RedirectURI: e.srv.URL + CallbackPath})
		Expect(err).NotTo(HaveOccurred())
		page := b.get(CallbackPath + callbackQuery(code, authz.Query().Get("state")))
		Expect(page.status).To(Equal(http.StatusOK), pageText(page.body))
		expectReady(ctx, Default, k8s, "marketing", "acme", metav1.ConditionTrue, igv1.ReasonConnected)
	})

	It("removes the token of both connections of the account on Meta's deauthorize", func() {
		resp := postSignedTo(e.t, e.srv.URL+DeauthorizePath, signedrequest.Sign(sandbox.DefaultClientSecret,
			signedrequest.Payload{UserID: defaultUserID}))
		Expect(resp.status).To(Equal(http.StatusOK))
		Expect(resp.body).To(ContainSubstring(`"connections":2`))
		expectReady(ctx, Default, k8s, connNS, name, metav1.ConditionFalse, igv1.ReasonDeauthorized)
		expectReady(ctx, Default, k8s, "marketing", "acme", metav1.ConditionFalse, igv1.ReasonDeauthorized)
		secret := &corev1.Secret{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: connNS, Name: name + "-token"}, secret)).To(Succeed())
		Expect(secret.Data).NotTo(HaveKey("access_token"))
	})

	It("deletes the connections and their Secrets on Meta's data deletion", func() {
		resp := postSignedTo(e.t, e.srv.URL+DataDeletionPath, signedrequest.Sign(sandbox.DefaultClientSecret,
			signedrequest.Payload{UserID: defaultUserID}))
		Expect(resp.status).To(Equal(http.StatusOK))
		for _, key := range []client.ObjectKey{{Namespace: connNS, Name: name}, {Namespace: "marketing", Name: "acme"}} {
			Eventually(func() bool {
				return apierrors.IsNotFound(k8s.Get(ctx, key, &igv1.InstagramConnection{}))
			}).WithTimeout(30 * time.Second).Should(BeTrue())
		}
		for _, key := range []client.ObjectKey{{Namespace: connNS, Name: name + "-token"}, {Namespace: "marketing", Name: "acme-instagram-token"}} {
			Eventually(func() bool {
				return apierrors.IsNotFound(k8s.Get(ctx, key, &corev1.Secret{}))
			}).WithTimeout(30 * time.Second).Should(BeTrue())
		}
	})
})

// expectReady waits until the connection's Ready condition has status and reason.
func expectReady(ctx context.Context, g Gomega, k8s client.Client, ns, name string, status metav1.ConditionStatus, reason string) {
	g.Eventually(func(g Gomega) {
		c := &igv1.InstagramConnection{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, c)).To(Succeed())
		ready := apimeta.FindStatusCondition(c.Status.Conditions, igv1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(status), ready.Message)
		g.Expect(ready.Reason).To(Equal(reason), ready.Message)
	}).WithTimeout(30 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
}

// postSignedTo posts a signed_request form to u.
func postSignedTo(t testing.TB, u, value string) response {
	t.Helper()
	resp, err := http.PostForm(u, url.Values{signedRequestField: {value}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	return response{resp.StatusCode, resp.Header, b.String()}
}
