package tokensecret_test

import (
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/igconnect/igconnect/internal/tokensecret"
)

// The Writer's suite runs it against a real kube-apiserver and etcd: server-side apply,
// field ownership, resourceVersion and UID checks are the API server's, and a fake client
// would only mirror what the test assumes of them.
var (
	testEnv *envtest.Environment
	// k8s is the test's own client, for setting the scene and reading the result.
	k8s client.Client
	// writer writes through a client whose requests are counted in requests.
	writer   *tokensecret.Writer
	requests atomic.Int64
)

func TestWriter(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "tokensecret Writer")
}

var _ = BeforeSuite(func() {
	testEnv = &envtest.Environment{}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		testEnv.BinaryAssetsDirectory = filepath.Join("..", "..", "bin", "k8s")
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start the control plane: run `make envtest` or set KUBEBUILDER_ASSETS")
	DeferCleanup(testEnv.Stop)

	k8s, err = client.New(cfg, client.Options{})
	Expect(err).NotTo(HaveOccurred())

	counted := rest.CopyConfig(cfg)
	counted.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{rt} })
	c, err := client.New(counted, client.Options{})
	Expect(err).NotTo(HaveOccurred())
	writer = &tokensecret.Writer{Client: c, Reader: c}
})

// countingTransport counts every request the Writer sends, reads included.
type countingTransport struct{ next http.RoundTripper }

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	requests.Add(1)
	return t.next.RoundTrip(r)
}

// requestsDuring returns how many requests f sent.
func requestsDuring(f func()) int64 {
	before := requests.Load()
	f()
	return requests.Load() - before
}
