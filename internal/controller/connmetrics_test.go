package controller

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	"github.com/igconnect/igconnect/internal/metrics"
)

// series returns the values of g's series for the connection ns/name, keyed by reason (""
// for the timestamp gauges).
func series(t *testing.T, g *prometheus.GaugeVec, ns, name string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(g); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == ns && labels["name"] == name {
				out[labels["reason"]] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestConnectionMetricsFollowTheLastExport(t *testing.T) {
	key := types.NamespacedName{Namespace: "metrics-test", Name: "acme"}
	expires := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	next := expires.Add(-480 * time.Hour)
	ready := func() map[string]float64 { return series(t, metrics.ConnectionReady, key.Namespace, key.Name) }
	expiry := func() map[string]float64 { return series(t, metrics.TokenExpiry, key.Namespace, key.Name) }
	nextRefresh := func() map[string]float64 { return series(t, metrics.NextRefresh, key.Namespace, key.Name) }

	connMetrics := newConnectionMetrics()
	connMetrics.set(key, time.Time{}, time.Time{}, false, "AwaitingAuthorization")
	if got := expiry(); len(got) != 0 {
		t.Errorf("no expiry yet, want no expiry series, got %v", got)
	}
	connMetrics.set(key, expires, next, true, "Connected")
	connMetrics.set(key, expires, next, true, "Connected") // unchanged: nothing to do
	if got := ready(); len(got) != 1 || got["Connected"] != 1 {
		t.Errorf("readiness series = %v, want only Connected=1: the old reason's series must go", got)
	}
	if got := expiry(); got[""] != float64(expires.Unix()) {
		t.Errorf("expiry series = %v, want %d", got, expires.Unix())
	}
	if got := nextRefresh(); got[""] != float64(next.Unix()) {
		t.Errorf("next refresh series = %v, want %d", got, next.Unix())
	}
	connMetrics.set(key, expires, time.Time{}, false, "ReauthorizationRequired")
	if got := nextRefresh(); len(got) != 0 {
		t.Errorf("a cleared next refresh must remove its series, got %v", got)
	}
	if got := ready(); len(got) != 1 || got["ReauthorizationRequired"] != 0 {
		t.Errorf("readiness series = %v, want only ReauthorizationRequired=0", got)
	}
	connMetrics.forget(key)
	if r, e, n := ready(), expiry(), nextRefresh(); len(r)+len(e)+len(n) != 0 {
		t.Errorf("a forgotten connection keeps series %v %v %v", r, e, n)
	}
}

// TestConnectionMetricsSkipUnchanged shows what remembering the last export saves: a
// reconcile whose values did not change touches no series (here, one removed behind the
// memory's back stays removed).
func TestConnectionMetricsSkipUnchanged(t *testing.T) {
	key := types.NamespacedName{Namespace: "metrics-test", Name: "unchanged"}
	expires := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	m := newConnectionMetrics()
	m.set(key, expires, time.Time{}, true, "Connected")
	metrics.TokenExpiry.DeleteLabelValues(key.Namespace, key.Name)
	m.set(key, expires, time.Time{}, true, "Connected")
	if got := series(t, metrics.TokenExpiry, key.Namespace, key.Name); len(got) != 0 {
		t.Errorf("an unchanged export rewrote its series: %v", got)
	}
	m.forget(key)
}
func TestConnectionMetricsFollowDegraded(t *testing.T) {
	key := types.NamespacedName{Namespace: "metrics-test", Name: "degraded"}
	m := newConnectionMetrics()
	degraded := func() map[string]float64 { return series(t, metrics.ConnectionDegraded, key.Namespace, key.Name) }

	m.setDegraded(key, true, exportedCondition{reason: "NoFailures"})
	if got := degraded(); len(got) != 1 || got["NoFailures"] != 0 {
		t.Errorf("degraded series = %v, want only NoFailures=0", got)
	}
	m.setDegraded(key, true, exportedCondition{isTrue: true, reason: "RateLimited"})
	if got := degraded(); len(got) != 1 || got["RateLimited"] != 1 {
		t.Errorf("degraded series = %v, want only RateLimited=1: the old reason's series must go", got)
	}
	m.setDegraded(key, false, exportedCondition{})
	if got := degraded(); len(got) != 0 {
		t.Errorf("a connection without Degraded keeps series %v", got)
	}
	m.setDegraded(key, true, exportedCondition{isTrue: true, reason: "InstagramUnavailable"})
	m.forget(key)
	if got := degraded(); len(got) != 0 {
		t.Errorf("a forgotten connection keeps degraded series %v", got)
	}
}
