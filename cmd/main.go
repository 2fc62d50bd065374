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

// Command manager runs igconnect: the InstagramConnection reconciler and the OAuth callback
// server, in one process, against the cluster of the current kubeconfig or service account.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/callback"
	"github.com/igconnect/igconnect/internal/controller"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/metrics"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/version"
)

var setupLog = ctrl.Log.WithName("setup")

// defaultGCPercent replaces Go's GOGC default of 100 unless GOGC is set. The manager's live
// heap is mostly its caches (about 85 MB with 10,000 connections and their Secrets, make
// bench); at 100 the heap grows to twice that between collections and the resident set
// passed 200 MiB. At 50 it stays near one and a half times the live heap, for a few more
// collections during waves, when the API server, not the manager, is the bottleneck.
const defaultGCPercent = 50

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	opts, zapOpts, err := parseOptions(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(zapOpts)))
	if err := run(ctrl.SetupSignalHandler(), opts); err != nil {
		setupLog.Error(err, "Manager stopped")
		os.Exit(1)
	}
}

// run builds the manager from opts and runs it until ctx ends.
func run(ctx context.Context, o options) error {
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("find the cluster (kubeconfig or in-cluster service account): %w", err)
	}
	restCfg.QPS, restCfg.Burst = o.kubeAPIQPS, o.kubeAPIBurst

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := igv1.AddToScheme(scheme); err != nil {
		return err
	}

	key, err := stateKey(ctx, o, restCfg, scheme)
	if err != nil {
		return err
	}

	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:        o.probeAddr,
		PprofBindAddress:              o.pprofAddr,
		LeaderElection:                o.leaderElect,
		LeaderElectionID:              "igconnect.instagram.igconnect.dev",
		LeaderElectionNamespace:       o.namespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			// With --watch-namespaces every informer (connections, Secrets) lists and
			// watches only those namespaces, which namespaced Roles allow.
			DefaultNamespaces: cacheNamespaces(o.watchNamespaces),
			ByObject: map[client.Object]cache.ByObject{
				// Only igconnect's own Secrets are cached and watched: a cluster's other
				// Secrets are none of its business and would cost memory.
				&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{igv1.LabelManagedBy: igv1.ManagedByValue})},
			},
			// Nothing reads managedFields, and they were a fifth of the heap with 10,000
			// connections cached (make bench). Writes of a cached object without them keep
			// the server's managedFields.
			DefaultTransform: cache.TransformStripManagedFields(),
		},
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}

	clk := clock.RealClock{}
	ig := instagram.New(instagram.Config{
		AuthorizeURL: o.authorizeURL,
		APIURL:       o.apiURL,
		GraphURL:     o.graphURL,
		GraphVersion: o.graphVersion,
		HTTPClient:   instagramHTTPClient(o.maxConcurrentReconciles),
		Observer:     metrics.ObserveInstagramCall,
		Limiter:      newCallLimiter(o.instagramQPS, o.instagramBurst),
	})
	creds := &appcreds.Resolver{Reader: mgr.GetAPIReader(), Default: o.app}
	signer, err := oauthstate.NewSigner(key, clk)
	if err != nil {
		return fmt.Errorf("state key: %w", err)
	}

	// Events are sent until run returns, so that those of the reconciles still finishing
	// while the manager stops are not dropped on the signal.
	eventsCtx, stopEvents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEvents()
	recorder, err := controller.NewEventRecorder(eventsCtx, restCfg, scheme, "igconnect")
	if err != nil {
		return fmt.Errorf("event recorder: %w", err)
	}
	policy := controller.DefaultPolicy()
	policy.MinRefreshAge = o.minRefreshAge
	policy.ValidateInterval = o.validateInterval
	// One Instagram Login for the reconciler and the callback server, so both assume the
	// same token rules.
	instagramLogin := login.NewInstagram(ig, policy)
	if err := (&controller.InstagramConnectionReconciler{
		Client:                    mgr.GetClient(),
		APIReader:                 mgr.GetAPIReader(),
		Recorder:                  recorder,
		Clock:                     clk,
		Login:                     instagramLogin,
		Credentials:               creds,
		Tickets:                   signer,
		PublicURL:                 o.publicURL,
		Policy:                    policy,
		MaxConcurrentReconciles:   o.maxConcurrentReconciles,
		RolloutRestartMinInterval: o.rolloutRestartMinInterval,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up the controller: %w", err)
	}

	if o.callbackAddr != "0" {
		// Logins find their account's connection through a cache index, not by listing
		// the namespace from the API server each time.
		if err := callback.IndexConnections(ctx, mgr.GetFieldIndexer()); err != nil {
			return fmt.Errorf("index connections: %w", err)
		}
		handler, err := callback.NewHandler(callback.Config{
			Client:              mgr.GetClient(),
			APIReader:           mgr.GetAPIReader(),
			Cache:               mgr.GetCache(),
			WaitForCacheSync:    mgr.GetCache().WaitForCacheSync,
			Login:               instagramLogin,
			Credentials:         creds,
			Signer:              signer,
			Replay:              oauthstate.NewReplayGuard(clk, 100_000),
			Clock:               clk,
			PublicURL:           o.publicURL,
			RedirectURL:         o.redirectURL,
			ConnectionNamespace: o.connectionNamespace,
			WatchNamespaces:     o.watchNamespaces,
			SuccessURL:          o.successURL,
			Log:                 ctrl.Log.WithName("callback"),
		})
		if err != nil {
			return fmt.Errorf("set up the callback server: %w", err)
		}
		shutdown := 10 * time.Second
		// Every replica serves logins; the callback writes only spec and Secrets,
		// which is safe from any replica.
		if err := mgr.Add(&manager.Server{Name: "callback", Server: callback.NewServer(o.callbackAddr, handler),
			ShutdownTimeout: &shutdown}); err != nil {
			return err
		}
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("caches", cachesSynced(mgr.GetCache())); err != nil {
		return err
	}
	// The same build identity igconnect_build_info exports (internal/metrics registers it).
	build := version.Get()
	setupLog.Info("igconnect build", "version", build.Version, "revision", build.Revision, "goVersion", build.GoVersion)
	setupLog.Info("Starting manager", "namespace", o.namespace, "watchNamespaces", watchedForLog(o.watchNamespaces),
		"connectionNamespace", o.connectionNamespace, "publicURL", o.publicURL,
		"callback", o.callbackAddr, "instagramAPI", o.apiURL, "instagramGraph", o.graphURL,
		"operatorApp", o.app.ClientID != "", "kubeAPIQPS", o.kubeAPIQPS, "kubeAPIBurst", o.kubeAPIBurst,
		"maxConcurrentReconciles", o.maxConcurrentReconciles, "instagramCallsPerSecond", o.instagramQPS,
		"instagramBurst", o.instagramBurst)
	return mgr.Start(ctx)
}

// cachesSynced is a readiness check that passes once the manager's caches have synced. The
// manager serves probes and the callback before its caches, and a replica is not ready to
// take logins, nor to reconcile from a complete view, before then.
func cachesSynced(c cache.Cache) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), 200*time.Millisecond)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("the caches have not synced yet")
		}
		return nil
	}
}

// instagramHTTPClient is the Instagram client's HTTP client: instagram.New's default (no
// redirects followed, the per-call timeout) with a connection pool as deep as the calls that
// can run at once. The default transport keeps two idle connections per host, so with more
// reconciles or logins in flight every further call opened a new connection, a TLS
// handshake with graph.instagram.com each, and left one more socket in TIME_WAIT.
func instagramHTTPClient(concurrent int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Logins run beside the reconciles; 32 more covers a burst of them.
	tr.MaxIdleConnsPerHost = max(concurrent, 1) + 32
	tr.MaxIdleConns = 2 * tr.MaxIdleConnsPerHost
	return &http.Client{
		Transport: tr,
		Timeout:   instagram.DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// stateKey returns the key that signs OAuth states and tickets: IGCONNECT_STATE_KEY when
// set, else a Secret in the operator's namespace that the first replica creates, so that
// every replica verifies what any other signed.
func stateKey(ctx context.Context, o options, restCfg *restConfig, scheme *runtime.Scheme) ([]byte, error) {
	key, err := oauthstate.KeyFromEnv()
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, oauthstate.ErrKeyNotSet) {
		return nil, fmt.Errorf("IGCONNECT_STATE_KEY: %w", err)
	}
	c, err := client.New(restCfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	key, err = oauthstate.LoadOrCreateKey(ctx, c, o.namespace, o.stateKeySecret)
	if err != nil {
		return nil, fmt.Errorf("state key Secret %s/%s: %w", o.namespace, o.stateKeySecret, err)
	}
	return key, nil
}
