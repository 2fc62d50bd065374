// Package controller holds the InstagramConnection reconciler: it keeps every connection's
// token usable, refreshing it on a schedule derived from the token, and is the only writer
// of the connection's status.
package controller

import (
	"context"
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

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
)

// Instagram is what the reconciler needs from Instagram; *instagram.Client implements it.
type Instagram interface {
	// ExchangeForLongLived trades a short-lived token for a long-lived one.
	ExchangeForLongLived(ctx context.Context, app instagram.App, shortLived string) (instagram.LongLivedToken, error)
	// RefreshToken extends a long-lived token and returns its replacement.
	RefreshToken(ctx context.Context, longLived string) (instagram.LongLivedToken, error)
	// Profile returns the account a token belongs to.
	Profile(ctx context.Context, token string) (instagram.Profile, error)
}

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
	// Recorder emits events that mirror the condition reasons.
	Recorder events.EventRecorder
	// Clock is read once per reconcile; tests inject a fake one.
	Clock clock.PassiveClock
	// Instagram is the Instagram Platform client.
	Instagram Instagram
	// Credentials resolves each connection's Instagram app.
	Credentials *appcreds.Resolver
	// Tickets mints the ticket of status.authorizationURL.
	Tickets TicketSigner
	// PublicURL is the callback server's external base URL; without it no
	// authorizationURL can be offered.
	PublicURL string
	// Policy holds the refresh schedule and back-off settings.
	Policy Policy
	// MaxConcurrentReconciles bounds the reconciles run at once (default 1).
	MaxConcurrentReconciles int

	// ownWrites lets the Secret watch ignore the echo of this reconciler's own writes, and
	// ownStatus lets a reconcile notice a cached connection older than its own last status
	// patch; both are set up by SetupWithManager.
	ownWrites, ownStatus *ownWrites
	// pending keeps refreshed tokens whose Secret write failed, for the next attempt.
	pending pendingRefreshes
	// unannounced keeps imports whose status write failed, for the next reconcile's event.
	unannounced unannouncedImports
}

// The reconciler reads connections and patches their status; it creates and updates the
// token Secrets it owns, and sets itself as their owner with blockOwnerDeletion, which
// clusters that enforce owner-reference permissions allow only with update on finalizers.
// +kubebuilder:rbac:groups=instagram.igconnect.dev,resources=instagramconnections,verbs=get;list;watch
// +kubebuilder:rbac:groups=instagram.igconnect.dev,resources=instagramconnections/status,verbs=patch
// +kubebuilder:rbac:groups=instagram.igconnect.dev,resources=instagramconnections/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one connection's token Secret and status in line with its token: it
// imports a token a person put in the Secret, refreshes the token when due, and reports
// what needs a person. The status is written once, at the end, and only if it changed.
func (r *InstagramConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	conn := &igv1.InstagramConnection{}
	if err := r.Get(ctx, req.NamespacedName, conn); err != nil {
		forgetConnection(req.NamespacedName, err)
		if apierrors.IsNotFound(err) {
			r.ownStatus.forget(&igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{
				Namespace: req.Namespace, Name: req.Name}})
			r.pending.forget(req.NamespacedName)
			r.unannounced.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !conn.DeletionTimestamp.IsZero() {
		// The token Secret is owned by the connection; garbage collection removes it.
		return ctrl.Result{}, nil
	}
	if r.ownStatus.behind(conn) {
		// The cache has not seen this reconciler's last status patch yet: whatever this
		// reconcile computed from it would be refused by the optimistic lock.
		return ctrl.Result{RequeueAfter: staleRetry}, nil
	}

	now := r.Clock.Now()
	before := conn.DeepCopy()
	notes := r.unannounced.take(conn)
	ctx = withEventNotes(ctx, notes)
	defer func() {
		err := r.finishStatus(ctx, before, conn, now, notes)
		if err != nil {
			r.unannounced.keep(conn, notes)
		}
		switch {
		case apierrors.IsConflict(err):
			// The cached connection was older than the one in the API server (a reconcile
			// triggered by this reconciler's own Secret write can see a connection whose
			// last status patch has not reached the cache yet). Its status must not be
			// written over the newer one: go again once the cache has caught up.
			logFrom(ctx).V(1).Info("Status changed meanwhile; reconciling again")
			res = ctrl.Result{RequeueAfter: staleRetry}
		case err != nil:
			retErr = kerrors.NewAggregate([]error{retErr, err})
		}
	}()
	return r.reconcileToken(ctx, conn, now)
}

// finishStatus stamps the observed generation, records metrics and patches the status if
// anything changed; then it emits the reconcile's events.
func (r *InstagramConnectionReconciler) finishStatus(ctx context.Context, before, conn *igv1.InstagramConnection,
	now time.Time, notes *eventNotes) error {
	conn.Status.ObservedGeneration = conn.Generation
	syncStalled(conn, now)
	stampObservedGeneration(conn)
	// Metrics every time, so a restarted manager exports every connection it has seen.
	recordConnectionMetrics(conn)
	if !equality.Semantic.DeepEqual(before.Status, conn.Status) {
		// The optimistic lock makes a patch computed from a stale cached copy fail with a
		// conflict instead of silently restoring old values.
		patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
		if err := r.Status().Patch(ctx, conn, patch); err != nil {
			return client.IgnoreNotFound(err)
		}
		r.ownStatus.record(conn)
	}
	// Only a status that was written (or needed no write) is announced, so a stale
	// reconcile emits nothing.
	r.emitEvents(before, conn, notes)
	return nil
}

// staleRetry is how soon a reconcile that read a stale connection runs again.
const staleRetry = 100 * time.Millisecond

// SetupWithManager registers the reconciler. Status patches do not trigger it (status is
// its own output); spec changes, annotation changes (the refresh request) and changes to the
// owned token Secret do, except the reconciler's own Secret writes (see ownWrites).
func (r *InstagramConnectionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Policy == (Policy{}) {
		r.Policy = DefaultPolicy()
	}
	r.ownWrites, r.ownStatus = newOwnWrites(), newOwnWrites()
	return ctrl.NewControllerManagedBy(mgr).
		For(&igv1.InstagramConnection{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.Secret{}, builder.WithPredicates(r.ownWrites.predicate())).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Named("instagramconnection").
		Complete(r)
}

func logFrom(ctx context.Context) logr.Logger { return ctrl.LoggerFrom(ctx) }
