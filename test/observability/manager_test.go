package observability

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/metrics"
)

// TestManagerServesWhatTheRulesRead starts the real bin/manager (against a local control
// plane and the Instagram sandbox), applies a connection and scrapes /metrics: the binary
// serves igconnect_build_info, the per-connection series the alerts read, and no igconnect_*
// metric that metrics.Names (what the alert and dashboard tests check against) lacks.
func TestManagerServesWhatTheRulesRead(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := os.Getenv("IGCONNECT_BIN")
	if bin == "" {
		bin = filepath.Join(repo, "bin")
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(repo, "bin", "k8s")
	}
	for _, f := range []string{filepath.Join(bin, "manager"), filepath.Join(bin, "instagram-sandbox"), filepath.Join(assets, "kube-apiserver")} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s is missing: run `make build envtest` (or `make test`), or set IGCONNECT_BIN and KUBEBUILDER_ASSETS", f)
		}
	}
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()

	cp, err := devenv.StartControlPlane(devenv.ControlPlaneOptions{AssetsDir: assets,
		CRDDirs: []string{filepath.Join(repo, "config", "crd", "bases")}, KubeconfigPath: filepath.Join(dir, "kubeconfig")})
	if err != nil {
		t.Fatalf("start the control plane: %v", err)
	}
	defer func() { _ = cp.Stop() }()
	sb, err := devenv.StartSandbox(ctx, devenv.SandboxOptions{Binary: filepath.Join(bin, "instagram-sandbox"),
		LogFile: filepath.Join(dir, "sandbox.log")})
	if err != nil {
		t.Fatalf("start the sandbox: %v", err)
	}
	defer func() { _ = sb.Stop() }()
	mgr, err := devenv.StartManager(ctx, devenv.ManagerOptions{Binary: filepath.Join(bin, "manager"),
		Kubeconfig: cp.KubeconfigPath, LogFile: filepath.Join(dir, "manager.log"), SandboxURL: sb.URL})
	if err != nil {
		t.Fatalf("start the manager: %v", err)
	}
	defer func() {
		_ = mgr.Stop()
		if t.Failed() {
			t.Logf("manager log:\n%s", mgr.Tail(80))
		}
	}()

	scheme := runtime.NewScheme()
	g.Expect(igv1.AddToScheme(scheme)).To(Succeed())
	k8s, err := client.New(cp.Config, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	conn := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Name: "metrics-probe", Namespace: "default"},
		Spec: igv1.InstagramConnectionSpec{SecretName: "metrics-probe-token"}}
	g.Expect(k8s.Create(ctx, conn)).To(Succeed())

	var families map[string]*dto.MetricFamily
	g.Eventually(func(g Gomega) {
		families = scrape(g, mgr.MetricsURL+"/metrics")
		g.Expect(series(families, "igconnect_connection_ready", "name", "metrics-probe")).NotTo(BeEmpty())
	}).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())

	build := families["igconnect_build_info"]
	g.Expect(build).NotTo(BeNil(), "no igconnect_build_info")
	g.Expect(build.GetMetric()).To(HaveLen(1))
	labels := labelMap(build.GetMetric()[0])
	g.Expect(build.GetMetric()[0].GetGauge().GetValue()).To(Equal(1.0))
	g.Expect(labels).To(HaveKey("version"))
	g.Expect(labels["version"]).NotTo(BeEmpty())
	g.Expect(labels["revision"]).NotTo(BeEmpty())
	g.Expect(labels["goversion"]).To(HavePrefix("go"))
	t.Logf("igconnect_build_info %v", labels)

	// A new connection awaits its first login, and the last call to Instagram did not fail.
	ready := series(families, "igconnect_connection_ready", "name", "metrics-probe")
	g.Expect(ready).To(HaveLen(1))
	g.Expect(labelMap(ready[0])).To(HaveKeyWithValue("reason", igv1.ReasonAwaitingAuthorization))
	g.Expect(ready[0].GetGauge().GetValue()).To(Equal(0.0))
	degraded := series(families, "igconnect_connection_degraded", "name", "metrics-probe")
	g.Expect(degraded).To(HaveLen(1))
	g.Expect(labelMap(degraded[0])).To(HaveKeyWithValue("reason", igv1.ReasonNoFailures))
	g.Expect(degraded[0].GetGauge().GetValue()).To(Equal(0.0))

	names := metrics.Names()
	var served []string
	for name, f := range families {
		if !strings.HasPrefix(name, "igconnect_") {
			continue
		}
		served = append(served, name)
		want := name
		if f.GetType() == dto.MetricType_HISTOGRAM {
			want = name + "_bucket"
		}
		if !slices.Contains(names, want) {
			t.Errorf("bin/manager serves %s, which metrics.Names lacks: register it with the others in internal/metrics", name)
		}
	}
	slices.Sort(served)
	t.Logf("served: %v", served)
}

// scrape reads a Prometheus text exposition.
func scrape(g Gomega, url string) map[string]*dto.MetricFamily {
	resp, err := http.Get(url) //nolint:noctx // a local test server
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	body, err := io.ReadAll(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	g.Expect(err).NotTo(HaveOccurred(), fmt.Sprintf("parse %s", url))
	return families
}

// series returns the metrics of family name whose label key has value.
func series(families map[string]*dto.MetricFamily, name, key, value string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range families[name].GetMetric() {
		if labelMap(m)[key] == value {
			out = append(out, m)
		}
	}
	return out
}

func labelMap(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
