package controller

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/metrics"
)

// connectionMetrics keeps the per-connection series of internal/metrics in step with what
// the reconciler last exported for each connection. It is an optimisation: the general
// metrics.SetConnection finds a connection's old readiness series with DeletePartialMatch,
// a scan of every connection's series, so a wave of N reconciles cost O(N²) (BENCHMARKS.md).
// Remembering the last exported values makes an unchanged reconcile free and a changed one
// O(1): only the series that change are touched, and the old reason's series is deleted by
// its full label set. TestConnectionMetricsSkipUnchanged fails without it.
type connectionMetrics struct {
	mu       sync.Mutex
	last     map[types.NamespacedName]exported
	degraded map[types.NamespacedName]exportedCondition
}

func newConnectionMetrics() *connectionMetrics {
	return &connectionMetrics{last: map[types.NamespacedName]exported{}, degraded: map[types.NamespacedName]exportedCondition{}}
}

// exportedCondition is a condition's exported state: True or not, and its reason.
type exportedCondition struct {
	isTrue bool
	reason string
}

// exported is what was last exported for one connection.
type exported struct {
	expires, next time.Time
	ready         bool
	reason        string
}

// set exports a connection's token times and readiness, as metrics.SetConnection does:
// zero times remove their series, and the readiness series carries the Ready reason.
func (m *connectionMetrics) set(key types.NamespacedName, expires, next time.Time, ready bool, reason string) {
	cur := exported{expires: expires, next: next, ready: ready, reason: reason}
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, seen := m.last[key]
	if seen && prev.expires.Equal(expires) && prev.next.Equal(next) && prev.ready == ready && prev.reason == reason {
		return
	}
	m.last[key] = cur
	if !seen || !prev.expires.Equal(expires) {
		setTimestamp(metrics.TokenExpiry, key, expires)
	}
	if !seen || !prev.next.Equal(next) {
		setTimestamp(metrics.NextRefresh, key, next)
	}
	if seen && prev.reason != reason {
		metrics.ConnectionReady.DeleteLabelValues(key.Namespace, key.Name, prev.reason)
	}
	v := 0.0
	if ready {
		v = 1
	}
	metrics.ConnectionReady.WithLabelValues(key.Namespace, key.Name, reason).Set(v)
}

// setDegraded exports the Degraded condition; a connection without one has no series.
func (m *connectionMetrics) setDegraded(key types.NamespacedName, present bool, cur exportedCondition) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, seen := m.degraded[key]
	if seen && present && prev == cur {
		return
	}
	if seen && (!present || prev.reason != cur.reason) {
		metrics.ConnectionDegraded.DeleteLabelValues(key.Namespace, key.Name, prev.reason)
	}
	if !present {
		delete(m.degraded, key)
		return
	}
	m.degraded[key] = cur
	v := 0.0
	if cur.isTrue {
		v = 1
	}
	metrics.ConnectionDegraded.WithLabelValues(key.Namespace, key.Name, cur.reason).Set(v)
}

// forget removes a deleted connection's series.
func (m *connectionMetrics) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, seen := m.degraded[key]; seen {
		delete(m.degraded, key)
		metrics.ConnectionDegraded.DeleteLabelValues(key.Namespace, key.Name, d.reason)
	}
	prev, seen := m.last[key]
	if !seen {
		// Nothing was exported for it by this process's reconciler; the general removal
		// covers series exported any other way.
		metrics.ForgetConnection(key)
		return
	}
	delete(m.last, key)
	metrics.TokenExpiry.DeleteLabelValues(key.Namespace, key.Name)
	metrics.NextRefresh.DeleteLabelValues(key.Namespace, key.Name)
	metrics.ConnectionReady.DeleteLabelValues(key.Namespace, key.Name, prev.reason)
}

// record exports the connection's token times, readiness and Degraded from its status.
func (m *connectionMetrics) record(conn *igv1.InstagramConnection) {
	ready := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionReady)
	reason, isReady := "", false
	if ready != nil {
		reason, isReady = ready.Reason, ready.Status == metav1.ConditionTrue
	}
	var expires, next time.Time
	if conn.Status.ExpiresAt != nil {
		expires = conn.Status.ExpiresAt.Time
	}
	if conn.Status.NextRefreshTime != nil {
		next = conn.Status.NextRefreshTime.Time
	}
	key := types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
	m.set(key, expires, next, isReady, reason)
	degraded := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionDegraded)
	if degraded == nil {
		m.setDegraded(key, false, exportedCondition{})
		return
	}
	m.setDegraded(key, true, exportedCondition{isTrue: degraded.Status == metav1.ConditionTrue, reason: degraded.Reason})
}

// setTimestamp sets a timestamp series to t in Unix seconds, or removes it for a zero time.
func setTimestamp(g *prometheus.GaugeVec, key types.NamespacedName, t time.Time) {
	if t.IsZero() {
		g.DeleteLabelValues(key.Namespace, key.Name)
		return
	}
	g.WithLabelValues(key.Namespace, key.Name).Set(float64(t.Unix()))
}
