package controller

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/envtest/komega"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// The envtest suite runs the real manager and reconciler against a real kube-apiserver and
// etcd, and the real Instagram client against the sandbox. One fake clock drives both the
// reconciler and the sandbox, so a test steps over days of a token's life at once; it then
// pokes the connection (an annotation change) to have it reconciled at the new time.

const publicURL = "https://ig.example.test"

var (
	testEnv   *envtest.Environment
	k8sClient client.Client
	fakeClock *clocktesting.FakeClock
	ig        *sandbox.Sandbox
	signer    *oauthstate.Signer
	ctx       context.Context
	cancel    context.CancelFunc
	// reconciles tells which connection versions the reconciler has finished with.
	reconciles *reconcileLog
)

// reconcileLog wraps the reconciler and records, per connection, the resourceVersion of the
// connection read by the last reconcile that finished: a test's sync point, so that a
// negative assertion ("no call follows") starts only once the reconcile it is about ran.
type reconcileLog struct {
	r    *InstagramConnectionReconciler
	mu   sync.Mutex
	seen map[client.ObjectKey]string
}

func (l *reconcileLog) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	c := &igv1.InstagramConnection{}
	rv := ""
	if err := l.r.Get(ctx, req.NamespacedName, c); err == nil {
		rv = c.ResourceVersion
	}
	res, err := l.r.Reconcile(ctx, req)
	l.mu.Lock()
	l.seen[req.NamespacedName] = rv
	l.mu.Unlock()
	return res, err
}

// finishedWith reports whether a reconcile of key that read the connection at resourceVersion
// rv or later has finished.
func (l *reconcileLog) finishedWith(key client.ObjectKey, rv string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen, ok := l.seen[key]
	if !ok {
		return false
	}
	cmp, err := resourceversion.CompareResourceVersion(seen, rv)
	return err == nil && cmp >= 0
}

func TestController(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "InstagramConnection controller")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start the control plane: run `make envtest` or set KUBEBUILDER_ASSETS")

	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(igv1.AddToScheme(scheme)).To(Succeed())
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	fakeClock = clocktesting.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	ig = sandbox.New(sandbox.Options{Clock: fakeClock})
	srv := httptest.NewServer(ig)
	DeferCleanup(srv.Close)

	signer, err = oauthstate.NewSigner([]byte("0123456789abcdef0123456789abcdef"), fakeClock)
	Expect(err).NotTo(HaveOccurred())

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{igv1.LabelManagedBy: igv1.ManagedByValue})},
		}},
	})
	Expect(err).NotTo(HaveOccurred())
	// The recorder production uses, sending until the suite ends.
	recorder, err := NewEventRecorder(ctx, cfg, scheme, "igconnect")
	Expect(err).NotTo(HaveOccurred())
	r := &InstagramConnectionReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  recorder,
		Clock:     fakeClock,
		Instagram: instagram.New(instagram.Config{APIURL: srv.URL, GraphURL: srv.URL, Timeout: 5 * time.Second}),
		Credentials: &appcreds.Resolver{Reader: mgr.GetAPIReader(),
			Default: instagram.App{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret}},
		Tickets:   signer,
		PublicURL: publicURL,
		Policy:    DefaultPolicy(),
	}
	reconciles = &reconcileLog{r: r, seen: map[client.ObjectKey]string{}}
	Expect(r.setup(mgr, reconciles)).To(Succeed())
	komega.SetClient(k8sClient)
	komega.SetContext(ctx)
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	cancel()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})
