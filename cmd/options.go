/*
Copyright 2026 The igconnect Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/igconnect/igconnect/internal/controller"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/login"
)

// restConfig keeps main.go's signatures short.
type restConfig = rest.Config

// serviceAccountNamespaceFile holds the pod's namespace when running in a cluster.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// minValidateInterval is the shortest --validate-interval other than 0: shorter would spend
// Instagram's call budget on proving tokens alive (a minute suits benchmarks and demos).
const minValidateInterval = time.Minute

// Defaults of the rate settings, chosen from `make bench` (BENCHMARKS.md has the figures).
const (
	// defaultKubeAPIQPS and defaultKubeAPIBurst bound the manager's requests per client
	// (the main client; the event client has its own). An import costs three requests (a
	// Secret read, its update, the status patch), and the 2-core benchmark control plane
	// absorbed about 150 imports a second, 450 requests: 500 leaves the API server, not the
	// client, as the limit, where the old 50 made an import wave ten times slower than the
	// API server allowed. A cluster's API server protects itself and its other clients with
	// API Priority and Fairness, which puts the manager's ServiceAccount in its own flows.
	defaultKubeAPIQPS   = 500
	defaultKubeAPIBurst = 1000
	// defaultMaxConcurrentReconciles: a reconcile waits on three API calls and an Instagram
	// call in turn, so it is the number of reconciles in flight, not CPU, that keeps the API
	// server busy. 16 left it idle part of the time (an import wave of 2,000 took 17 s
	// instead of 15 s); 128 gained nothing over 64. With real Instagram latencies (0.1 to
	// 0.5 s a call) 64 still sustains over a hundred refreshes a second.
	defaultMaxConcurrentReconciles = 64
	// defaultInstagramCallsPerSecond: an import costs one call (/me) and a refresh one, so
	// at 200 a second neither an import wave nor a refresh wave waits for Instagram's pace
	// longer than for the API server (2,000 in 10.5 s). Meta's published limits are per app
	// user and hour (200 calls per user), which such a wave spends one call of; the cap is
	// igconnect's own bound on bursts.
	defaultInstagramCallsPerSecond = 200
	// defaultInstagramBurst: calls that may leave back to back; above it they are spaced
	// at the rate.
	defaultInstagramBurst = 20
)

// options are the manager's settings: the flags and environment of CONTRACT §3.
type options struct {
	metricsAddr, probeAddr, callbackAddr string
	pprofAddr                            string
	leaderElect                          bool

	publicURL, redirectURL, successURL string
	namespace, connectionNamespace     string
	stateKeySecret                     string
	// watchNamespaces, when set, are the only namespaces the manager caches, watches, reads
	// and writes connections and their Secrets in (docs/namespace-scoped.md); nil means all.
	watchNamespaces []string

	authorizeURL, apiURL, graphURL, graphVersion string
	app                                          instagram.App
	minRefreshAge                                time.Duration
	validateInterval                             time.Duration
	rolloutRestartMinInterval                    time.Duration
	instagramQPS                                 float64
	instagramBurst                               int

	kubeAPIQPS              float32
	kubeAPIBurst            int
	maxConcurrentReconciles int
}

// parseOptions reads the flags and environment. Bad values are reported all at once, with
// the flag's name, before anything starts.
func parseOptions(args []string, getenv func(string) string) (options, *zap.Options, error) {
	var o options
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the metrics endpoint; 0 turns it off.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "0", "Address of the Go profiler (/debug/pprof/) for "+
		"performance work; 0, the default, turns it off.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect one leader among replicas to run the reconciler; "+
		"every replica serves the callback.")
	fs.StringVar(&o.publicURL, "public-url", "", "The callback server's external base URL, e.g. https://ig.example.com.")
	fs.StringVar(&o.redirectURL, "redirect-url", "", "The redirect_uri registered with Meta "+
		"(default <public-url>/auth/instagram/callback).")
	fs.StringVar(&o.successURL, "success-url", "", "Where to send the browser after a login instead of the result page.")
	fs.StringVar(&o.callbackAddr, "callback-bind-address", ":8082", "Address of the callback server; 0 turns it off.")
	fs.StringVar(&o.connectionNamespace, "connection-namespace", "", "Namespace where logins create connections "+
		"(default: the operator's namespace, or the first of --watch-namespaces when that is set).")
	var watch string
	fs.StringVar(&watch, "watch-namespaces", "", "Comma-separated namespaces to manage connections in, e.g. team-a,team-b; "+
		"the manager then needs Roles in those namespaces only (config/namespaced). Empty, the default, means every namespace.")
	fs.StringVar(&o.namespace, "namespace", "", "The operator's own namespace, for its lease and state key "+
		"(default: the pod's namespace, else default).")
	fs.StringVar(&o.stateKeySecret, "state-key-secret", "igconnect-state-key", "Secret holding the key that signs "+
		"OAuth states and tickets when IGCONNECT_STATE_KEY is not set; created on first start.")
	fs.StringVar(&o.authorizeURL, "instagram-authorize-url", instagram.DefaultAuthorizeURL, "Instagram's authorize page.")
	fs.StringVar(&o.apiURL, "instagram-api-url", instagram.DefaultAPIURL, "Instagram's code exchange host.")
	fs.StringVar(&o.graphURL, "instagram-graph-url", instagram.DefaultGraphURL, "Instagram's token and profile host.")
	fs.StringVar(&o.graphVersion, "instagram-graph-version", instagram.DefaultGraphVersion, "Graph API version for /me.")
	fs.DurationVar(&o.minRefreshAge, "min-refresh-age", controller.DefaultMinRefreshAge,
		"Instagram's minimum token age for a refresh.")
	fs.DurationVar(&o.validateInterval, "validate-interval", login.DefaultValidateInterval, "How often each "+
		"token is checked with one cheap call (/me), plus a stable per-connection offset, so that a token revoked "+
		"early (a password change) stops being Ready; 0 turns the periodic check off.")
	fs.DurationVar(&o.rolloutRestartMinInterval, "rollout-restart-min-interval", controller.DefaultRolloutRestartMinInterval,
		"Least time between two restarts of one connection's spec.rolloutRestartTargets; token rotations within it "+
			"are coalesced into one restart at its end.")
	fs.Float64Var(&o.instagramQPS, "instagram-calls-per-second", defaultInstagramCallsPerSecond,
		"Most calls to Instagram in any one second, across all connections and logins.")
	fs.IntVar(&o.instagramBurst, "instagram-burst", defaultInstagramBurst, "Calls to Instagram that may leave "+
		"back to back (at most --instagram-calls-per-second).")
	var qps float64
	fs.Float64Var(&qps, "kube-api-qps", defaultKubeAPIQPS, "Requests per second to the Kubernetes API server.")
	fs.IntVar(&o.kubeAPIBurst, "kube-api-burst", defaultKubeAPIBurst, "Requests to the Kubernetes API server "+
		"allowed at once above the rate.")
	fs.IntVar(&o.maxConcurrentReconciles, "max-concurrent-reconciles", defaultMaxConcurrentReconciles,
		"Connections reconciled at once.")
	zapOpts := &zap.Options{}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, nil, err
	}
	o.kubeAPIQPS = float32(qps)
	o.app = instagram.App{
		ClientID:     strings.TrimSpace(getenv("INSTAGRAM_CLIENT_ID")),
		ClientSecret: strings.TrimSpace(getenv("INSTAGRAM_CLIENT_SECRET")),
	}
	if o.namespace == "" {
		o.namespace = podNamespace(getenv)
	}
	watched, watchProblems := parseWatchNamespaces(watch)
	o.watchNamespaces = watched
	if o.connectionNamespace == "" {
		o.connectionNamespace = o.namespace
		if len(watched) > 0 {
			// The operator's own namespace is seldom one it manages connections in.
			o.connectionNamespace = watched[0]
		}
	}
	o.publicURL = strings.TrimRight(o.publicURL, "/")
	if o.redirectURL == "" && o.publicURL != "" {
		o.redirectURL = o.publicURL + "/auth/instagram/callback"
	}
	return o, zapOpts, o.validate(watchProblems...)
}

// validate reports every bad value at once, after the problems already found.
func (o options) validate(problems ...string) error {
	for name, v := range map[string]string{"--public-url": o.publicURL, "--redirect-url": o.redirectURL,
		"--success-url": o.successURL, "--instagram-authorize-url": o.authorizeURL,
		"--instagram-api-url": o.apiURL, "--instagram-graph-url": o.graphURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("%s must be an absolute http(s) URL, got %q", name, v))
		}
	}
	if o.minRefreshAge <= 0 {
		problems = append(problems, "--min-refresh-age must be positive")
	}
	if o.validateInterval != 0 && o.validateInterval < minValidateInterval {
		problems = append(problems, fmt.Sprintf("--validate-interval must be 0 (off) or at least %v, got %v",
			minValidateInterval, o.validateInterval))
	}
	if o.rolloutRestartMinInterval < time.Second {
		// A restart is stamped with its token's issue time, to the second: two restarts
		// within one second would carry the same stamp, and the second would roll nothing.
		problems = append(problems, "--rollout-restart-min-interval must be at least 1s")
	}
	if o.instagramQPS <= 0 || o.instagramBurst < 1 {
		problems = append(problems, "--instagram-calls-per-second must be positive and --instagram-burst at least 1")
	}
	if o.kubeAPIQPS <= 0 || o.kubeAPIBurst < 1 {
		problems = append(problems, "--kube-api-qps must be positive and --kube-api-burst at least 1")
	}
	if o.maxConcurrentReconciles < 1 {
		problems = append(problems, "--max-concurrent-reconciles must be at least 1")
	}
	if p := connectionNamespaceProblem(o.connectionNamespace, o.watchNamespaces); p != "" {
		problems = append(problems, p)
	}
	if (o.app.ClientID == "") != (o.app.ClientSecret == "") {
		problems = append(problems, "set both INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET, or neither")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// podNamespace is the namespace the manager runs in: POD_NAMESPACE, the service account's
// namespace in a cluster, else "default".
func podNamespace(getenv func(string) string) string {
	if ns := getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if b, err := os.ReadFile(serviceAccountNamespaceFile); err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b))
	}
	return "default"
}
