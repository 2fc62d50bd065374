package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/metrics"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// Each act method performs one step decide chose: at most one call to the login and one
// Secret write. A step that fails its call records the failure in the scope for decide's
// next answer; an error returned is a Kubernetes API failure, which ends the reconcile and
// is retried by the work queue.

// maxSteps bounds one reconcile's steps. The longest path (an import of unknown expiry that
// is then refreshed: identify, upgrade, adopt, renew, wait) has five; reaching the bound
// means decide cycles, a bug.
const maxSteps = 8

// credentialsRecheck is how often a connection waiting for app credentials looks again:
// app Secrets carry no igconnect label, so no watch tells the reconciler they appeared.
const credentialsRecheck = time.Minute

// cacheLagRetry is how soon a refresh is tried again when the cached token Secret was
// found behind the API server; the Secret watch usually brings the connection back sooner.
const cacheLagRetry = 2 * time.Second

// foreignSecretRecheck is how often a connection whose Secret name is taken looks again,
// for the same reason.
const foreignSecretRecheck = 5 * time.Minute

// noLoginLinkNote ends the message of a connection that needs a login the operator cannot
// offer a link for.
const noLoginLinkNote = " (the operator runs without --public-url, so it cannot offer a login link)"

// reconcileToken runs the reconcile's steps: it reads the token Secret, then asks decide for
// a step and performs it until a step ends the reconcile.
func (r *InstagramConnectionReconciler) reconcileToken(ctx context.Context, s *scope) error {
	if err := r.observe(ctx, s); err != nil {
		return err
	}
	key := types.NamespacedName{Namespace: s.conn.Namespace, Name: s.conn.Name}
	for range maxSteps {
		st := decide(s.state(r.Login, r.Policy, r.pending.holds(key, s.conn.UID, s.rec.AccessToken)))
		logFrom(ctx).V(2).Info("Token step", "action", st.action.String())
		stop, err := r.act(ctx, s, st)
		if err != nil || stop {
			return err
		}
	}
	return fmt.Errorf("the token of %s took more than %d steps", klog.KObj(s.conn), maxSteps)
}

// act performs st and reports whether the reconcile ends with it.
func (r *InstagramConnectionReconciler) act(ctx context.Context, s *scope, st step) (bool, error) {
	switch st.action {
	case actConflict:
		s.final, s.result.RequeueAfter = st, foreignSecretRecheck
		return true, nil
	case actAwaitLogin:
		return true, r.awaitLogin(ctx, s, st)
	case actIdentify:
		r.identify(ctx, s)
		return false, nil
	case actUpgrade:
		r.upgrade(ctx, s)
		return false, nil
	case actAdopt:
		return false, r.adopt(ctx, s)
	case actStore:
		return false, r.store(ctx, s, s.rec)
	case actReject:
		// The provider's words go on the Secret with the rejection, so later reconciles keep
		// them in Ready without reading status back.
		rec := s.rec
		rec.Rejected, rec.RejectedMessage = st.reason, st.message
		s.failure = nil
		return false, r.store(ctx, s, rec)
	case actEstimate:
		return false, r.estimate(ctx, s)
	case actRenew:
		return r.renew(ctx, s)
	case actRetry:
		r.retryLater(s, st)
		return true, nil
	case actWait:
		s.final, s.result.RequeueAfter = st, untilEarlier(s.now, earliest(st.at, st.validateAt), s.rec.ExpiresAt)
		return true, nil
	case actValidate:
		r.validate(ctx, s)
		return false, nil
	}
	return true, fmt.Errorf("unknown token step %d", st.action)
}

// observe reads the token Secret and what it says about the token. The cache holds only
// igconnect's Secrets; getTokenSecret checks a miss against the API server.
func (r *InstagramConnectionReconciler) observe(ctx context.Context, s *scope) error {
	secret, err := r.getTokenSecret(ctx, s.conn)
	if err != nil {
		return err
	}
	conn := s.conn
	if secret == nil {
		s.secretState, s.noToken = secretMissing, true
		return nil
	}
	rec := tokensecret.Read(secret)
	switch ownership := tokensecret.OwnershipOf(secret, conn); {
	case ownership == tokensecret.Foreign:
		s.secretState, s.noToken = secretForeign, true
		return nil
	case ownership == tokensecret.Unowned && !rec.HasToken():
		s.secretState, s.noToken = secretNotAToken, true
		return nil
	}
	s.secretState, s.secret, s.basedOn = secretHeld, secret, rec.AccessToken
	switch {
	case !rec.HasToken():
		s.noToken = true
	case rec.Imported():
		s.imported = true
		rec = forgetReplacedToken(conn, rec)
	default:
		rec = restoreHandEdits(conn, rec)
		if pin := conn.Spec.InstagramUserID; pin != "" && rec.UserID != "" && pin != rec.UserID {
			rec.Rejected = igv1.ReasonAccountMismatch
		}
	}
	s.rec = rec
	s.stored = s.inSync()
	return nil
}

// awaitLogin offers the login a person must make in status.authorizationURL. A login needs
// the connection's app, so missing app credentials come first.
func (r *InstagramConnectionReconciler) awaitLogin(ctx context.Context, s *scope, st step) error {
	conn := s.conn
	if _, err := r.Credentials.For(ctx, conn); err != nil {
		if !errors.Is(err, appcreds.ErrMissing) {
			return err
		}
		s.final, s.offer = st, loginOffer{credentialsMissing: err.Error()}
		s.result.RequeueAfter = credentialsRecheck
		return nil
	}
	s.final = st
	if r.PublicURL != "" && r.Tickets != nil {
		ticket := r.Tickets.Ticket(oauthstate.TicketRef{Namespace: conn.Namespace, Name: conn.Name, UID: conn.UID})
		s.offer.url = oauthstate.AuthorizationURL(r.PublicURL, ticket)
	}
	return nil
}

// identify validates an imported token with the login and checks the account against
// spec.instagramUserID.
func (r *InstagramConnectionReconciler) identify(ctx context.Context, s *scope) {
	logFrom(ctx).Info("Importing token", "secret", klog.KObj(s.secret))
	s.identified = true
	id, err := r.Login.Identify(ctx, s.rec.AccessToken)
	if err != nil {
		s.failure = &callFailure{call: callIdentify, Failure: r.Login.Classify(err), text: err.Error()}
		return
	}
	s.rec = id.Apply(s.rec)
	s.rec.Rejected = ""
	// The import's /me proved the token works: its first validation is a full interval away.
	s.validatedAt = s.now
	if pin := s.conn.Spec.InstagramUserID; pin != "" && pin != id.UserID {
		s.rec.Rejected = igv1.ReasonAccountMismatch
	}
}

// upgrade tries to trade an imported token of unknown expiry for a long-lived one. It needs
// the app secret; without one the token is kept as it is.
func (r *InstagramConnectionReconciler) upgrade(ctx context.Context, s *scope) {
	s.upgradeTried = true
	app, err := r.Credentials.For(ctx, s.conn)
	if err != nil {
		return
	}
	tok, upgraded, err := r.Login.Upgrade(ctx, app, s.rec.AccessToken, s.now)
	switch {
	case err != nil:
		s.failure = &callFailure{call: callUpgrade, Failure: r.Login.Classify(err), text: err.Error()}
	case upgraded:
		s.rec = tok.Apply(s.rec)
	default:
		logFrom(ctx).V(1).Info("Token is not short-lived; keeping it")
	}
}

// adopt stores an identified import as igconnect's, and notes it for the Connected event.
func (r *InstagramConnectionReconciler) adopt(ctx context.Context, s *scope) error {
	rec := s.rec
	if rec.IssuedAt.IsZero() && !rec.ExpiresAt.IsZero() {
		rec.IssuedAt = r.Policy.AssumedIssuedAt(rec.ExpiresAt, s.now)
	}
	if err := r.store(ctx, s, rec); err != nil {
		return err
	}
	s.imported = false
	if rec.Rejected == "" {
		s.importEvent = &importNote{secret: s.secret, what: fmt.Sprintf("Imported the token of %s from Secret %s",
			describeAccount(rec.Username, rec.UserID), s.secret.GetName())}
	}
	return nil
}

// estimate bounds an unknown expiry that Instagram will not tell yet: it refuses to refresh
// a token under MinRefreshAge old, and a refresh is the only call that reports an expiry.
// A token that young expires no sooner than a full lifetime less that age from now: assume
// that, and say so.
func (r *InstagramConnectionReconciler) estimate(ctx context.Context, s *scope) error {
	rec := s.rec
	rec.IssuedAt = s.now.Truncate(time.Second)
	rec.ExpiresAt = rec.IssuedAt.Add(r.Policy.TokenLifetime - r.Policy.MinRefreshAge)
	rec.ExpiryEstimated = true
	if err := r.store(ctx, s, rec); err != nil {
		return err
	}
	s.failure, s.renewed = nil, true
	return nil
}

// store writes rec to the Secret and makes it the scope's record.
func (r *InstagramConnectionReconciler) store(ctx context.Context, s *scope, rec tokensecret.Record) error {
	written, err := r.writeTokenSecret(ctx, s.conn, s.secret, s.basedOn, rec)
	if err != nil {
		return err
	}
	s.secret, s.rec, s.stored, s.written, s.imported = written, rec, true, true, false
	// The Secret holds this token now: a later write of this reconcile starts from it.
	s.basedOn = rec.AccessToken
	return nil
}

// renew renews the stored token and stores the result: the Secret first, then status, so a
// crash or conflict in between leaves the new token in the Secret, where the next reconcile
// finds it.
func (r *InstagramConnectionReconciler) renew(ctx context.Context, s *scope) (bool, error) {
	log := logFrom(ctx)
	conn := s.conn
	key := types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
	old := s.rec.AccessToken
	// The cache may lag behind the API server: after an outage its watches back off for up
	// to 30 seconds. Renewing a token the Secret no longer holds would be a wasted call
	// whose result could not be stored, so the Secret is read afresh first, once per renewal.
	current := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: conn.Spec.SecretName},
		current); err != nil {
		return true, fmt.Errorf("read token Secret %s/%s: %w", conn.Namespace, conn.Spec.SecretName, err)
	}
	if tokensecret.Read(current).AccessToken != old {
		log.V(1).Info("The cached token Secret is behind the API server; refreshing once it caught up")
		s.result.RequeueAfter = cacheLagRetry
		return true, nil
	}
	rec, renewedAt := s.rec, s.now
	if pr, ok := r.pending.take(key, conn.UID, old); ok {
		// An earlier attempt renewed the token but could not store it.
		log.Info("Storing the token an earlier attempt refreshed", "refreshedAt", pr.at)
		rec, renewedAt = pr.rec, pr.at
	} else {
		log.Info("Refreshing token", "expiresAt", rec.ExpiresAt)
		tok, err := r.Login.Renew(ctx, old, s.now)
		if err != nil {
			f := r.Login.Classify(err)
			metrics.Refreshes.WithLabelValues(f.Class).Inc()
			s.failure = &callFailure{call: callRenew, Failure: f, text: err.Error()}
			return false, nil
		}
		rec = tok.Apply(rec)
	}
	if err := r.store(ctx, s, rec); err != nil {
		// The renewed token is not stored. The old one is still valid: keep the new one
		// for the next attempt, unless a new login arrived meanwhile, which wins.
		if !isSuperseded(err) {
			r.pending.keep(key, pendingRefresh{uid: conn.UID, basedOn: old, rec: rec, at: renewedAt})
		}
		return true, err
	}
	r.pending.forget(key)
	metrics.Refreshes.WithLabelValues("success").Inc()
	log.Info("Refreshed token", "expiresAt", rec.ExpiresAt)
	s.renewed, s.renewedAt = true, renewedAt
	s.refreshedEvent = "Refreshed the token; it now expires at " + formatTime(rec.ExpiresAt)
	return false, nil
}

// retryLater backs off after a failure worth retrying: exponentially, capped, and no sooner
// than the provider asked. The back-off lives in status so a restart does not shorten it.
func (r *InstagramConnectionReconciler) retryLater(s *scope, st step) {
	attempts := s.conn.Status.FailedRefreshAttempts + 1
	at := s.now.Add(r.Policy.Backoff(attempts, s.failure.RetryAfter))
	s.final, s.retry = st, backoff{attempts: attempts, at: at}
	s.result.RequeueAfter = untilEarlier(s.now, at, s.rec.ExpiresAt)
}

// untilEarlier returns how long from now until the earlier of two times (a zero time is
// ignored), at least a second so that a reconcile never spins.
func untilEarlier(now, a, b time.Time) time.Duration {
	at := a
	if !b.IsZero() && b.Before(at) {
		at = b
	}
	return max(at.Sub(now), time.Second)
}

// forgetReplacedToken drops what a Secret says about a token igconnect managed once a
// person replaced that token: kept, the old issue time would make the new token look like
// the old one with hand-edited keys, and the old expiry would be restored over the one the
// person set. A person who sets expires_at along with the new token is believed.
func forgetReplacedToken(conn *igv1.InstagramConnection, rec tokensecret.Record) tokensecret.Record {
	if rec.Fingerprint == "" {
		return rec
	}
	rec.IssuedAt, rec.ExpiryEstimated = time.Time{}, false
	if conn.Status.ExpiresAt != nil && rec.ExpiresAt.Equal(conn.Status.ExpiresAt.Time) {
		rec.ExpiresAt = time.Time{}
	}
	return rec
}

// restoreHandEdits repairs the Secret's keys other than the token when a person edited
// them: while the Secret still holds the token generation status describes (same issue
// time), status is the record of what they were. After a crash between the Secret write and
// the status patch the issue times differ, and the Secret is right.
func restoreHandEdits(conn *igv1.InstagramConnection, rec tokensecret.Record) tokensecret.Record {
	st := conn.Status
	if st.TokenIssuedAt == nil || rec.IssuedAt.IsZero() || !st.TokenIssuedAt.Time.Equal(rec.IssuedAt.Truncate(time.Second)) {
		return rec
	}
	if st.ExpiresAt != nil && !st.ExpiresAt.Time.Equal(rec.ExpiresAt.Truncate(time.Second)) {
		rec.ExpiresAt = st.ExpiresAt.Time
	}
	if st.UserID != "" {
		rec.UserID = st.UserID
	}
	if st.Username != "" {
		rec.Username = st.Username
	}
	return rec
}
