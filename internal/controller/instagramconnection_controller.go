// Package controller holds the InstagramConnection reconciler: it keeps every connection's
// token usable, refreshing it on a schedule derived from the token, and is the only writer
// of the connection's status.
//
// A reconcile reads the connection and its token Secret into a scope (scope.go), then asks
// decide (decide.go, a pure function) for the next step and performs it (act.go) until a
// step ends the reconcile; updateStatus (status.go) then computes status from what was
// found and done, and one patch writes it. What is specific to Instagram Login sits behind
// internal/login.
package controller

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// TicketSigner mints the tickets that bind a login to one connection; *oauthstate.Signer
// implements it.
type TicketSigner interface {
	// Ticket returns the ticket for the connection ref names.
	Ticket(ref oauthstate.TicketRef) string
}

// InstagramConnectionReconciler reconciles InstagramConnection objects.
type InstagramConnectionReconciler struct {
	// Client reads through the manager's cache, which holds only igconnect's own Secrets.
	client.Client
	// APIReader reads Secrets that carry no igconnect label yet: a token a person put there
	// to be imported, or a foreign Secret.
	APIReader client.Reader
	// Recorder emits events that mirror the condition reasons (NewEventRecorder).
	Recorder events.EventRecorder
	// Clock is read once per reconcile; tests inject a fake one. Nil means the real clock.
	Clock clock.PassiveClock
	// Login is the login connections use; nil means Instagram Login over Instagram.
	Login login.Login
	// Instagram is the Instagram Platform client of the default Login; unused when Login
	// is set.
	Instagram login.InstagramAPI
	// Credentials resolves each connection's app.
	Credentials *appcreds.Resolver
	// Tickets mints the ticket of status.authorizationURL.
	Tickets TicketSigner
	// PublicURL is the callback server's external base URL; without it no
	// authorizationURL can be offered.
	PublicURL string
	// Policy holds the refresh schedule and back-off settings; zero means DefaultPolicy.
	Policy Policy
	// RolloutRestartMinInterval is the least time between two restarts of one connection's
	// spec.rolloutRestartTargets; zero means DefaultRolloutRestartMinInterval.
	RolloutRestartMinInterval time.Duration
	// MaxConcurrentReconciles bounds the reconciles run at once (default 1).
	MaxConcurrentReconciles int

	// The process-local structures below are optimisations: each saves API or Instagram
	// calls, and the reconciler is correct without them (their files say why and which
	// test shows the saving). They are set up by complete.

	// secrets writes the token Secrets.
	secrets *tokensecret.Writer
	// secretEchoes lets the Secret watch ignore the echo of this reconciler's own writes.
	secretEchoes *ownWrites
	// statusWrites lets a reconcile notice a cached connection older than its own last
	// status patch.
	statusWrites *ownWrites
	// pending keeps refreshed tokens whose Secret write failed, for the next attempt.
	pending pendingRefreshes
	// unannounced keeps imports whose status write failed, for the next reconcile's event.
	unannounced unannouncedImports
	// metrics remembers what was exported per connection.
	metrics *connectionMetrics
}

// The reconciler reads connections and patches their status; it creates and updates the
// token Secrets it owns, and sets itself as their owner with blockOwnerDeletion, which
// clusters that enforce owner-reference permissions allow only with update on finalizers.
// +kubebuilder:rbac:groups=instagram.igconnect.dev,resources=instagramconnections,verbs=get;list;watch
// +kubebuilder:rbac:groups=instagram.igconnect.dev,resources=instagramconnections/status,verbs=patch
// +kubebuilder:rbac:groups=instagram.igconnect.dev,resources=instagramconnections/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one connection's token Secret and status in line with its token: it
// imports a token a person put in the Secret, refreshes the token when due, and reports
// what needs a person. The status is written once, at the end, and only if it changed.
func (r *InstagramConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	conn := &igv1.InstagramConnection{}
	if err := r.Get(ctx, req.NamespacedName, conn); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !conn.DeletionTimestamp.IsZero() {
		// The token Secret is owned by the connection; garbage collection removes it.
		return ctrl.Result{}, nil
	}
	if r.statusWrites.behind(conn) {
		// The cache has not seen this reconciler's last status patch yet: whatever this
		// reconcile computed from it would be refused by the optimistic lock.
		return ctrl.Result{RequeueAfter: staleRetry}, nil
	}

	s := newScope(conn, r.Clock.Now())
	defer func() {
		err := r.finishStatus(ctx, s)
		switch {
		case apierrors.IsConflict(err) && retErr == nil:
			// The cached connection was older than the one in the API server. Its status
			// must not be written over the newer one: go again once the cache caught up.
			logFrom(ctx).V(1).Info("Status changed meanwhile; reconciling again")
			res = ctrl.Result{RequeueAfter: staleRetry}
		case err != nil:
			retErr = kerrors.NewAggregate([]error{retErr, err})
		}
		if retErr != nil {
			// controller-runtime ignores a Result returned with an error; the error's
			// back-off decides when the reconcile runs again.
			res = ctrl.Result{}
		}
	}()
	err := r.reconcileToken(ctx, s)
	if err == nil {
		err = r.rolloutRestart(ctx, s)
	}
	return s.result, err
}

// finishStatus computes the status, stamps the observed generation, records metrics and
// patches the status if anything changed; then it emits the reconcile's events.
func (r *InstagramConnectionReconciler) finishStatus(ctx context.Context, s *scope) error {
	conn := s.conn
	updateStatus(s)
	conn.Status.ObservedGeneration = conn.Generation
	syncStalled(conn, s.now)
	stampObservedGeneration(conn)
	// Metrics every time, so a restarted manager exports every connection it has seen.
	r.metrics.record(conn)
	r.emitStepEvents(s)
	note := s.importEvent
	if note == nil {
		note = r.unannounced.take(conn)
	}
	if !equality.Semantic.DeepEqual(s.before.Status, conn.Status) {
		// The optimistic lock makes a patch computed from a stale cached copy fail with a
		// conflict instead of silently restoring old values.
		patch := client.MergeFromWithOptions(s.before, client.MergeFromWithOptimisticLock{})
		if err := r.Status().Patch(ctx, conn, patch); err != nil {
			r.unannounced.keep(conn, note)
			return client.IgnoreNotFound(err)
		}
		r.statusWrites.record(conn)
	}
	// Only a status that was written (or needed no write) is announced, so a stale
	// reconcile emits nothing.
	r.emitEvents(s, note)
	r.emitRolloutEvents(s)
	return nil
}

// forget drops what the process keeps about a deleted connection.
func (r *InstagramConnectionReconciler) forget(req ctrl.Request) {
	r.metrics.forget(req.NamespacedName)
	r.statusWrites.forget(&igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Namespace: req.Namespace, Name: req.Name}})
	r.pending.forget(req.NamespacedName)
	r.unannounced.forget(req.NamespacedName)
}

// staleRetry is how soon a reconcile that read a stale connection runs again.
const staleRetry = 100 * time.Millisecond

// SetupWithManager checks the reconciler's dependencies and registers it. Status patches do
// not trigger it (status is its own output); spec changes, annotation changes (the refresh
// request) and changes to the owned token Secret do, except the reconciler's own Secret
// writes (see ownWrites).
func (r *InstagramConnectionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return r.setup(mgr, r)
}

// setup registers rec for r's watches: r itself, or in the envtest suite r wrapped so that
// tests know when a reconcile has finished.
func (r *InstagramConnectionReconciler) setup(mgr ctrl.Manager, rec reconcile.Reconciler) error {
	if err := r.complete(); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&igv1.InstagramConnection{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.Secret{}, builder.WithPredicates(r.secretEchoes.predicate())).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Named("instagramconnection").
		Complete(rec)
}

// complete refuses a reconciler that lacks a dependency, rather than panic on its first
// reconcile, and fills in the defaults and the process-local structures.
func (r *InstagramConnectionReconciler) complete() error {
	var errs []error
	missing := func(name string) {
		errs = append(errs, errors.New("controller: InstagramConnectionReconciler."+name+" is required"))
	}
	if r.Client == nil {
		missing("Client")
	}
	if r.APIReader == nil {
		missing("APIReader")
	}
	if r.Recorder == nil {
		missing("Recorder")
	}
	if r.Login == nil && r.Instagram == nil {
		missing("Login (or Instagram)")
	}
	if r.Credentials == nil || r.Credentials.Reader == nil {
		missing("Credentials (with a Reader)")
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Policy == (Policy{}) {
		r.Policy = DefaultPolicy()
	}
	if r.Login == nil {
		r.Login = login.NewInstagram(r.Instagram, r.Policy)
	}
	r.secrets = &tokensecret.Writer{Client: r.Client, Reader: r.APIReader}
	r.secretEchoes, r.statusWrites = newOwnWrites(r.Clock), newOwnWrites(r.Clock)
	r.metrics = newConnectionMetrics()
	return nil
}

// logFrom returns the reconcile's logger, which controller-runtime puts in ctx.
func logFrom(ctx context.Context) logr.Logger { return ctrl.LoggerFrom(ctx) }
