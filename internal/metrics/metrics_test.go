package metrics

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/igconnect/igconnect/internal/version"
)

func TestBuildInfoIsOneSeriesOnTheManagersRegistry(t *testing.T) {
	want := `
# HELP igconnect_build_info Always 1; the labels name the running build: version, revision and Go version.
# TYPE igconnect_build_info gauge
igconnect_build_info{goversion="` + runtime.Version() + `",revision="unknown",version="dev"} 1
`
	// A test binary has no link-time version and no VCS stamp: the fallbacks.
	if err := testutil.GatherAndCompare(ctrlmetrics.Registry, strings.NewReader(want), "igconnect_build_info"); err != nil {
		t.Error(err)
	}

	setBuildInfo(version.Info{Version: "v0.3.0", Revision: "abc1234", GoVersion: "go1.26.8"})
	defer setBuildInfo(version.Get())
	want = `
# HELP igconnect_build_info Always 1; the labels name the running build: version, revision and Go version.
# TYPE igconnect_build_info gauge
igconnect_build_info{goversion="go1.26.8",revision="abc1234",version="v0.3.0"} 1
`
	if err := testutil.GatherAndCompare(ctrlmetrics.Registry, strings.NewReader(want), "igconnect_build_info"); err != nil {
		t.Errorf("setting the build info again must replace the series, not add one: %v", err)
	}
}

func TestNamesListsEveryRegisteredMetric(t *testing.T) {
	names := Names()
	for _, n := range []string{
		"igconnect_build_info",
		"igconnect_token_expiry_timestamp_seconds",
		"igconnect_connection_degraded",
		"igconnect_instagram_call_duration_seconds_bucket",
		"igconnect_instagram_call_duration_seconds_count",
	} {
		if !slices.Contains(names, n) {
			t.Errorf("Names() lacks %s: %v", n, names)
		}
	}
	if slices.Contains(names, "igconnect_instagram_call_duration_seconds") {
		t.Errorf("a histogram has no series under its bare name: %v", names)
	}
	// One name per collector, two more for the histogram: a descriptor Names cannot read
	// would go missing here.
	if want := len(collectors) + 2; len(names) != want {
		t.Errorf("Names() has %d names, want %d: %v", len(names), want, names)
	}
}

func TestForgetConnectionRemovesDegraded(t *testing.T) {
	ConnectionDegraded.WithLabelValues("forget-test", "acme", "RateLimited").Set(1)
	ForgetConnection(types.NamespacedName{Namespace: "forget-test", Name: "acme"})
	if n := testutil.CollectAndCount(ConnectionDegraded); n != 0 {
		t.Errorf("%d degraded series left after ForgetConnection", n)
	}
}
