// Package metrics defines igconnect's Prometheus metrics, registered on controller-runtime's
// registry so they are served on the manager's metrics endpoint. Per-connection series carry
// only the namespace and name; nothing secret is ever a label.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/version"
)

// Label names of the per-connection series.
const (
	labelNamespace = "namespace"
	labelName      = "name"
	labelReason    = "reason"
)

var (
	// TokenExpiry is each connection's token expiry, as a Unix timestamp.
	TokenExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "igconnect_token_expiry_timestamp_seconds",
		Help: "When each connection's token expires (Unix seconds).",
	}, []string{labelNamespace, labelName})

	// NextRefresh is when each connection's token is next refreshed, as a Unix timestamp.
	NextRefresh = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "igconnect_token_next_refresh_timestamp_seconds",
		Help: "When each connection's token is next refreshed (Unix seconds).",
	}, []string{labelNamespace, labelName})

	// ConnectionReady is 1 while a connection is Ready, labelled with the Ready reason.
	ConnectionReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "igconnect_connection_ready",
		Help: "1 when the connection is Ready, else 0; reason is the Ready condition's reason.",
	}, []string{labelNamespace, labelName, labelReason})

	// ConnectionDegraded is 1 while a connection's Degraded condition is True (the last refresh
	// or validation failed for a reason worth retrying, the token still usable), labelled with
	// Degraded's reason. Alerts use it to tell a failure that lasts from one that passed.
	ConnectionDegraded = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "igconnect_connection_degraded",
		Help: "1 while the connection's Degraded condition is True, else 0; reason is Degraded's reason.",
	}, []string{labelNamespace, labelName, labelReason})

	// Refreshes counts token refresh attempts by result.
	Refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "igconnect_refresh_total",
		Help: "Token refresh attempts by result: success or the class of the failure.",
	}, []string{"result"})

	// InstagramCalls counts HTTP requests to Instagram by endpoint and outcome.
	InstagramCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "igconnect_instagram_calls_total",
		Help: "HTTP requests to Instagram by endpoint and outcome (success or the class of the failure).",
	}, []string{"endpoint", "outcome"})

	// InstagramCallDuration observes the duration of HTTP requests to Instagram.
	InstagramCallDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "igconnect_instagram_call_duration_seconds",
		Help:    "Duration of HTTP requests to Instagram by endpoint.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
	}, []string{"endpoint"})

	// InstagramAppUsage is the highest usage percentage Instagram last reported in its
	// rate-limit headers; throttling starts at 100.
	InstagramAppUsage = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "igconnect_instagram_usage_percent",
		Help: "Highest call, CPU or time usage percentage in Instagram's last rate-limit headers.",
	})

	// Logins counts logins through the callback server by result.
	Logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "igconnect_logins_total",
		Help: "Logins through the callback server by result.",
	}, []string{"result"})

	// buildInfo (igconnect_build_info) is always 1; its labels say which build runs. It is
	// also the series that tells "no manager is scraped" (absent) from "no connection
	// exists" (no other series).
	buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "igconnect_build_info",
		Help: "Always 1; the labels name the running build: version, revision and Go version.",
	}, []string{"version", "revision", "goversion"})
)

// collectors is every igconnect metric, registered once at start-up; Names reads the same
// list, so the shipped alerts and dashboard are checked against what is really registered.
var collectors = []prometheus.Collector{TokenExpiry, NextRefresh, ConnectionReady, ConnectionDegraded, Refreshes,
	InstagramCalls, InstagramCallDuration, InstagramAppUsage, Logins, buildInfo}

func init() {
	ctrlmetrics.Registry.MustRegister(collectors...)
	setBuildInfo(version.Get())
}

// setBuildInfo exports the one igconnect_build_info series of this process.
func setBuildInfo(info version.Info) {
	buildInfo.Reset()
	buildInfo.WithLabelValues(info.Version, info.Revision, info.GoVersion).Set(1)
}

// ObserveInstagramCall records one HTTP request to Instagram; it is the instagram.Config
// Observer the manager installs.
func ObserveInstagramCall(c instagram.CallInfo) {
	InstagramCalls.WithLabelValues(string(c.Endpoint), string(c.Outcome)).Inc()
	InstagramCallDuration.WithLabelValues(string(c.Endpoint)).Observe(c.Duration.Seconds())
	if p := c.Usage.MaxPercent(); p > 0 {
		InstagramAppUsage.Set(float64(p))
	}
}

// SetConnection records a connection's token times and readiness. Zero times remove the
// series, so a dashboard never shows a stale expiry.
func SetConnection(key types.NamespacedName, expiresAt, nextRefresh time.Time, ready bool, reason string) {
	setTimestamp(TokenExpiry, key, expiresAt)
	setTimestamp(NextRefresh, key, nextRefresh)
	ConnectionReady.DeletePartialMatch(prometheus.Labels{labelNamespace: key.Namespace, labelName: key.Name})
	v := 0.0
	if ready {
		v = 1
	}
	ConnectionReady.WithLabelValues(key.Namespace, key.Name, reason).Set(v)
}

// ForgetConnection removes a deleted connection's series.
func ForgetConnection(key types.NamespacedName) {
	labels := prometheus.Labels{labelNamespace: key.Namespace, labelName: key.Name}
	TokenExpiry.Delete(labels)
	NextRefresh.Delete(labels)
	ConnectionReady.DeletePartialMatch(labels)
	ConnectionDegraded.DeletePartialMatch(labels)
}

func setTimestamp(g *prometheus.GaugeVec, key types.NamespacedName, t time.Time) {
	if t.IsZero() {
		g.DeleteLabelValues(key.Namespace, key.Name)
		return
	}
	g.WithLabelValues(key.Namespace, key.Name).Set(float64(t.Unix()))
}
