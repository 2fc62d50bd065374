package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/metrics"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// credentialsRecheck is how often a connection waiting for app credentials looks again:
// app Secrets carry no igconnect label, so no watch tells the reconciler they appeared.
const credentialsRecheck = time.Minute

// cacheLagRetry is how soon a refresh is tried again when the cached token Secret was
// found behind the API server; the Secret watch usually brings the connection back sooner.
const cacheLagRetry = 2 * time.Second

// foreignSecretRecheck is how often a connection whose Secret name is taken looks again,
// for the same reason.
const foreignSecretRecheck = 5 * time.Minute

// reconcileToken dispatches on what the token Secret holds: nothing, a token a person put
// there, or a token igconnect manages.
func (r *InstagramConnectionReconciler) reconcileToken(ctx context.Context, conn *igv1.InstagramConnection, now time.Time) (ctrl.Result, error) {
	secret, err := r.getTokenSecret(ctx, conn)
	if err != nil {
		return ctrl.Result{}, err
	}
	var rec tokensecret.Record
	if secret != nil {
		rec = tokensecret.Read(secret)
		switch ownership := tokensecret.OwnershipOf(secret, conn); {
		case ownership == tokensecret.Foreign:
			return r.secretConflict(conn, now, fmt.Sprintf("Secret %s belongs to another object; igconnect leaves it "+
				"untouched: choose another spec.secretName", conn.Spec.SecretName))
		case ownership == tokensecret.Unowned && !rec.HasToken():
			return r.secretConflict(conn, now, fmt.Sprintf("Secret %s exists and holds no access_token; igconnect "+
				"adopts an existing Secret only to import the token in it: choose another spec.secretName",
				conn.Spec.SecretName))
		}
	}

	switch {
	case !rec.HasToken():
		return r.reconcileNoToken(ctx, conn, secret, rec, now)
	case rec.Imported():
		return r.importToken(ctx, conn, secret, rec, now)
	default:
		return r.reconcileManagedToken(ctx, conn, secret, rec, now)
	}
}

// secretConflict reports that the Secret name is taken and looks again later.
func (r *InstagramConnectionReconciler) secretConflict(conn *igv1.InstagramConnection, now time.Time, message string) (ctrl.Result, error) {
	setNotReady(conn, now, igv1.ReasonSecretConflict, message)
	clearTokenTimes(conn)
	return ctrl.Result{RequeueAfter: foreignSecretRecheck}, nil
}

// reconcileNoToken handles a connection whose Secret holds no token: never authorized, the
// Secret deleted, or the token removed by the deauthorize callback. A person must log in.
func (r *InstagramConnectionReconciler) reconcileNoToken(ctx context.Context, conn *igv1.InstagramConnection,
	secret *corev1.Secret, rec tokensecret.Record, now time.Time) (ctrl.Result, error) {
	clearTokenTimes(conn)
	if rec.Rejected == igv1.ReasonDeauthorized {
		return r.needsLogin(ctx, conn, now, igv1.ReasonDeauthorized,
			"the Instagram user removed the app and the token was removed from the Secret; log in again through "+
				"status.authorizationURL to reconnect")
	}
	message := "no token yet: open status.authorizationURL and log in with the Instagram account"
	if secret == nil && conn.Status.UserID != "" {
		message = fmt.Sprintf("the token Secret %s was deleted; open status.authorizationURL and log in again",
			conn.Spec.SecretName)
	}
	return r.needsLogin(ctx, conn, now, igv1.ReasonAwaitingAuthorization, message)
}

// needsLogin sets Ready=False with reason and offers the login that fixes it in
// status.authorizationURL. A login needs the connection's app, so missing app
// credentials take precedence.
func (r *InstagramConnectionReconciler) needsLogin(ctx context.Context, conn *igv1.InstagramConnection, now time.Time,
	reason, message string) (ctrl.Result, error) {
	if _, err := r.Credentials.For(ctx, conn); err != nil {
		if !errors.Is(err, appcreds.ErrMissing) {
			return ctrl.Result{}, err
		}
		setNotReady(conn, now, igv1.ReasonAppCredentialsMissing, err.Error())
		conn.Status.AuthorizationURL = ""
		return ctrl.Result{RequeueAfter: credentialsRecheck}, nil
	}
	if r.PublicURL == "" || r.Tickets == nil {
		message += noLoginLinkNote
		conn.Status.AuthorizationURL = ""
	} else {
		ticket := r.Tickets.Ticket(oauthstate.TicketRef{Namespace: conn.Namespace, Name: conn.Name, UID: conn.UID})
		conn.Status.AuthorizationURL = oauthstate.AuthorizationURL(r.PublicURL, ticket)
	}
	setNotReady(conn, now, reason, message)
	r.markRequestHandled(conn)
	return ctrl.Result{}, nil
}

// noLoginLinkNote ends the message of a connection that needs a login the operator cannot
// offer a link for.
const noLoginLinkNote = " (the operator runs without --public-url, so it cannot offer a login link)"

// importToken adopts a token a person put in the Secret: it validates the token with /me,
// checks the account against spec.instagramUserID, trades a short-lived token for a
// long-lived one, and hands the result to the managed path, which learns an unknown expiry
// with a refresh.
func (r *InstagramConnectionReconciler) importToken(ctx context.Context, conn *igv1.InstagramConnection,
	secret *corev1.Secret, rec tokensecret.Record, now time.Time) (ctrl.Result, error) {
	log := logFrom(ctx).WithValues("secret", klog.KObj(secret))
	log.Info("Importing token")
	original := rec.AccessToken
	if rec.Fingerprint != "" {
		// A person replaced a token igconnect managed. The Secret's bookkeeping (when the
		// token was issued, whether its expiry was estimated) describes the old token; kept,
		// the issue time would make the new token look like the old one with hand-edited
		// keys, and the old expiry would be restored over the one the person set.
		rec.IssuedAt, rec.ExpiryEstimated = time.Time{}, false
		if staleExpiry(conn, rec) {
			rec.ExpiresAt = time.Time{}
		}
	}

	profile, err := r.Instagram.Profile(ctx, rec.AccessToken)
	if err != nil {
		return r.importFailed(ctx, conn, secret, rec, now, err)
	}
	rec.UserID, rec.Username = profile.UserID, profile.Username
	rec.AccountType, rec.AppScopedUserID = profile.AccountType, profile.ID
	rec.Rejected = ""
	if pin := conn.Spec.InstagramUserID; pin != "" && pin != profile.UserID {
		rec.Rejected = igv1.ReasonAccountMismatch
	}

	if rec.Rejected == "" && rec.ExpiresAt.IsZero() {
		// Only the long-lived exchange tells a short-lived token from a long-lived one: it
		// succeeds for the first and fails for the second. It needs the app secret.
		if app, cerr := r.Credentials.For(ctx, conn); cerr == nil {
			ll, xerr := r.Instagram.ExchangeForLongLived(ctx, app, rec.AccessToken)
			switch {
			case xerr == nil:
				rec = withLongLivedToken(rec, ll, now, r.Policy)
			case instagram.ClassOf(xerr) == instagram.ClassRetryLater:
				return r.retryLater(conn, now, rec, xerr)
			default:
				log.V(1).Info("Token is not short-lived; keeping it", "reason", instagram.ClassOf(xerr))
			}
		}
	}
	if rec.IssuedAt.IsZero() && !rec.ExpiresAt.IsZero() {
		rec.IssuedAt = r.Policy.AssumedIssuedAt(rec.ExpiresAt, now)
	}

	written, err := r.writeTokenSecret(ctx, conn, secret, original, rec)
	if err != nil {
		return ctrl.Result{}, err
	}
	if rec.Rejected == "" {
		noteImport(ctx, written, fmt.Sprintf("Imported the token of %s from Secret %s",
			describeAccount(rec.Username, rec.UserID), secret.Name))
	}
	return r.reconcileManagedToken(ctx, conn, written, rec, now)
}

// importFailed handles a failed validation of an imported token. A token Instagram rejects
// is adopted with the rejection recorded, so it is not tried again until a person replaces
// it; a failure worth retrying leaves the Secret as the person wrote it and backs off.
func (r *InstagramConnectionReconciler) importFailed(ctx context.Context, conn *igv1.InstagramConnection,
	secret *corev1.Secret, rec tokensecret.Record, now time.Time, callErr error) (ctrl.Result, error) {
	if reason, rejected := rejectionReason(callErr); rejected {
		return r.rejectToken(ctx, conn, secret, rec, now, reason, "Instagram rejected the imported token: "+callErr.Error())
	}
	return r.retryLater(conn, now, rec, callErr)
}

// reconcileManagedToken handles a token igconnect manages: it keeps the Secret's keys and
// metadata current, reports a token that needs a person, and refreshes when due.
func (r *InstagramConnectionReconciler) reconcileManagedToken(ctx context.Context, conn *igv1.InstagramConnection,
	secret *corev1.Secret, rec tokensecret.Record, now time.Time) (ctrl.Result, error) {
	rec = restoreHandEdits(conn, rec)
	if pin := conn.Spec.InstagramUserID; pin != "" && rec.UserID != "" && pin != rec.UserID {
		rec.Rejected = igv1.ReasonAccountMismatch
	}
	secret, err := r.writeTokenSecret(ctx, conn, secret, rec.AccessToken, rec)
	if err != nil {
		return ctrl.Result{}, err
	}
	setTokenStatus(conn, rec)

	switch {
	case rec.Rejected == igv1.ReasonAccountMismatch:
		return r.needsLogin(ctx, conn, now, igv1.ReasonAccountMismatch, fmt.Sprintf(
			"the token in Secret %s belongs to %s, but spec.instagramUserID is %s; log in with that account",
			conn.Spec.SecretName, describeAccount(rec.Username, rec.UserID), conn.Spec.InstagramUserID))
	case rec.Rejected != "":
		return r.needsLogin(ctx, conn, now, rec.Rejected, rejectedTokenMessage(conn, rec.Rejected))
	case !rec.ExpiresAt.IsZero() && !rec.ExpiryEstimated && !now.Before(rec.ExpiresAt) &&
		// A refresh of this token that could not be stored yet is stored below instead.
		!r.pending.holds(types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}, conn.UID, rec.AccessToken):
		return r.needsLogin(ctx, conn, now, igv1.ReasonTokenExpired, fmt.Sprintf(
			"the token expired at %s without a refresh; Instagram cannot revive it: log in again",
			formatTime(rec.ExpiresAt)))
	}

	decision := r.Policy.DecideRefresh(RefreshInput{
		Now:           now,
		IssuedAt:      rec.IssuedAt,
		ExpiresAt:     rec.ExpiresAt,
		RefreshBefore: conn.Spec.RefreshBeforeOrDefault(),
		UID:           conn.UID,
		Requested:     refreshRequested(conn),
		NotBefore:     backoffEnd(conn),
	})
	if !decision.Due {
		return r.scheduled(conn, now, rec, decision.At)
	}
	return r.refresh(ctx, conn, secret, rec, now)
}

// refresh trades the token for a new one and stores it: the Secret first, then status, so a
// crash or conflict in between leaves the new token in the Secret, where the next reconcile
// finds it.
func (r *InstagramConnectionReconciler) refresh(ctx context.Context, conn *igv1.InstagramConnection,
	secret *corev1.Secret, rec tokensecret.Record, now time.Time) (ctrl.Result, error) {
	log := logFrom(ctx)
	key := types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
	old := rec.AccessToken
	// The cache may lag behind the API server: after an outage its watches back off for up
	// to 30 seconds. Refreshing a token the Secret no longer holds would be a wasted call
	// whose result could not be stored, so the Secret is read afresh first, once per refresh.
	current := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: conn.Spec.SecretName},
		current); err != nil {
		return ctrl.Result{}, fmt.Errorf("read token Secret %s/%s: %w", conn.Namespace, conn.Spec.SecretName, err)
	}
	if tokensecret.Read(current).AccessToken != old {
		log.V(1).Info("The cached token Secret is behind the API server; refreshing once it caught up")
		return ctrl.Result{RequeueAfter: cacheLagRetry}, nil
	}
	refreshedAt := now
	if pr, ok := r.pending.take(key, conn.UID, old); ok {
		// An earlier attempt refreshed the token but could not store it.
		log.Info("Storing the token an earlier attempt refreshed", "refreshedAt", pr.at)
		rec, refreshedAt = pr.rec, pr.at
	} else {
		log.Info("Refreshing token", "expiresAt", rec.ExpiresAt)
		ll, err := r.Instagram.RefreshToken(ctx, old)
		if err != nil {
			metrics.Refreshes.WithLabelValues(string(instagram.ClassOf(err))).Inc()
			return r.refreshFailed(ctx, conn, secret, rec, now, err)
		}
		rec = withLongLivedToken(rec, ll, now, r.Policy)
	}
	if _, err := r.writeTokenSecret(ctx, conn, secret, old, rec); err != nil {
		// The refreshed token is not stored. The old one is still valid: keep the new one
		// for the next attempt, unless a new login arrived meanwhile, which wins.
		if !isSuperseded(err) {
			r.pending.keep(key, pendingRefresh{uid: conn.UID, basedOn: old, rec: rec, at: refreshedAt})
		}
		return ctrl.Result{}, err
	}
	r.pending.forget(key)
	metrics.Refreshes.WithLabelValues("success").Inc()
	log.Info("Refreshed token", "expiresAt", rec.ExpiresAt)
	setTokenStatus(conn, rec)
	conn.Status.LastRefreshTime = timePtr(refreshedAt)
	conn.Status.FailedRefreshAttempts = 0
	r.markRequestHandled(conn)
	clearDegraded(conn, now)
	r.Recorder.Eventf(conn, nil, corev1.EventTypeNormal, igv1.ReasonRefreshed, "Refresh",
		"Refreshed the token; it now expires at %s", formatTime(rec.ExpiresAt))

	return r.scheduleNext(conn, now, rec)
}

// refreshFailed maps a failed refresh to what happens next: a rejected token waits for a
// person; an unknown expiry refused because the token is too young is estimated; anything
// else is retried with back-off while the token stays usable.
func (r *InstagramConnectionReconciler) refreshFailed(ctx context.Context, conn *igv1.InstagramConnection,
	secret *corev1.Secret, rec tokensecret.Record, now time.Time, callErr error) (ctrl.Result, error) {
	if reason, rejected := rejectionReason(callErr); rejected {
		return r.rejectToken(ctx, conn, secret, rec, now, reason, rejectionMessage(reason)+": "+callErr.Error())
	}
	if rec.ExpiresAt.IsZero() && instagram.IsRefreshTooEarly(callErr) {
		// Instagram refuses to refresh a token under 24 hours old, and a refresh is the only
		// call that reports an expiry. A token that young expires no sooner than a full
		// lifetime less that minimum age from now: assume that, and say so.
		token := rec.AccessToken
		rec.IssuedAt = now.Truncate(time.Second)
		rec.ExpiresAt = rec.IssuedAt.Add(r.Policy.TokenLifetime - r.Policy.MinRefreshAge)
		rec.ExpiryEstimated = true
		if _, err := r.writeTokenSecret(ctx, conn, secret, token, rec); err != nil {
			return ctrl.Result{}, err
		}
		setTokenStatus(conn, rec)
		return r.scheduleNext(conn, now, rec)
	}
	return r.retryLater(conn, now, rec, callErr)
}

// rejectToken records on the Secret that the token was rejected with reason, so no
// Instagram call is made for it until a new token arrives, and asks for a person.
func (r *InstagramConnectionReconciler) rejectToken(ctx context.Context, conn *igv1.InstagramConnection,
	secret *corev1.Secret, rec tokensecret.Record, now time.Time, reason, message string) (ctrl.Result, error) {
	token := rec.AccessToken
	rec.Rejected = reason
	if _, err := r.writeTokenSecret(ctx, conn, secret, token, rec); err != nil {
		return ctrl.Result{}, err
	}
	setTokenStatus(conn, rec)
	return r.needsLogin(ctx, conn, now, reason, message)
}

// scheduleNext schedules the refresh of a token just written to the Secret.
func (r *InstagramConnectionReconciler) scheduleNext(conn *igv1.InstagramConnection, now time.Time,
	rec tokensecret.Record) (ctrl.Result, error) {
	next := r.Policy.DecideRefresh(RefreshInput{Now: now, IssuedAt: rec.IssuedAt, ExpiresAt: rec.ExpiresAt,
		RefreshBefore: conn.Spec.RefreshBeforeOrDefault(), UID: conn.UID})
	return r.scheduled(conn, now, rec, next.At)
}

// retryLater records a failure worth retrying and backs off: exponentially, capped, and no
// sooner than Instagram asked. The back-off lives in status so a restart does not shorten it.
func (r *InstagramConnectionReconciler) retryLater(conn *igv1.InstagramConnection, now time.Time,
	rec tokensecret.Record, callErr error) (ctrl.Result, error) {
	conn.Status.FailedRefreshAttempts++
	wait := r.Policy.Backoff(conn.Status.FailedRefreshAttempts, instagram.RetryAfterOf(callErr))
	retryAt := now.Add(wait)
	conn.Status.NextRefreshTime = timePtr(retryAt)
	setDegraded(conn, now, degradedReason(callErr), fmt.Sprintf("attempt %d failed, next at %s: %s",
		conn.Status.FailedRefreshAttempts, formatTime(retryAt), callErr.Error()))

	switch {
	case !rec.HasToken() || rec.Imported():
		setCondition(conn, now, igv1.ConditionReady, metav1.ConditionUnknown, degradedReason(callErr),
			"could not validate the imported token yet; see the Degraded condition")
	case rec.ExpiresAt.IsZero():
		setReady(conn, now, "token valid; its expiry is not known until a refresh succeeds")
	default:
		setReady(conn, now, readyMessage(rec, retryAt))
	}
	return ctrl.Result{RequeueAfter: untilEarlier(now, retryAt, rec.ExpiresAt)}, nil
}

// scheduled reports a usable token and requeues for its refresh, or for its expiry should
// that come first: a connection makes no call while nothing is due.
func (r *InstagramConnectionReconciler) scheduled(conn *igv1.InstagramConnection, now time.Time,
	rec tokensecret.Record, refreshAt time.Time) (ctrl.Result, error) {
	conn.Status.NextRefreshTime = timePtr(refreshAt)
	if conn.Status.FailedRefreshAttempts == 0 {
		clearDegraded(conn, now)
	}
	setReady(conn, now, readyMessage(rec, refreshAt))
	return ctrl.Result{RequeueAfter: untilEarlier(now, refreshAt, rec.ExpiresAt)}, nil
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

// readyMessage describes a usable token.
func readyMessage(rec tokensecret.Record, next time.Time) string {
	switch {
	case rec.ExpiresAt.IsZero():
		return fmt.Sprintf("token valid; its expiry is unknown until a refresh succeeds, next attempt at %s", formatTime(next))
	case rec.ExpiryEstimated:
		return fmt.Sprintf("token valid; Instagram refused to refresh it because it is under 24 hours old, so it expires "+
			"no sooner than %s (estimated); next refresh at %s", formatTime(rec.ExpiresAt), formatTime(next))
	default:
		return fmt.Sprintf("token valid until %s; next refresh at %s", formatTime(rec.ExpiresAt), formatTime(next))
	}
}

// withLongLivedToken puts a token from the long-lived exchange or a refresh into rec.
func withLongLivedToken(rec tokensecret.Record, ll instagram.LongLivedToken, now time.Time, p Policy) tokensecret.Record {
	now = now.Truncate(time.Second) // the precision the Secret keeps
	rec.AccessToken = ll.AccessToken
	rec.IssuedAt = now
	rec.ExpiryEstimated = false
	if ll.ExpiresIn > 0 {
		rec.ExpiresAt = now.Add(ll.ExpiresIn)
	} else {
		// Instagram documents a 60-day lifetime; without expires_in, assume it and say so.
		rec.ExpiresAt = now.Add(p.TokenLifetime)
		rec.ExpiryEstimated = true
	}
	if len(ll.Permissions) > 0 {
		rec.GrantedScopes = ll.Permissions
	}
	return rec
}

// restoreHandEdits repairs the Secret's keys other than the token when a person edited
// them: while the Secret still holds the token generation status describes (same issue
// time), status is the record of what they were. After a crash between the Secret write and
// the status patch the issue times differ, and the Secret is right.
func restoreHandEdits(conn *igv1.InstagramConnection, rec tokensecret.Record) tokensecret.Record {
	s := conn.Status
	if s.TokenIssuedAt == nil || rec.IssuedAt.IsZero() || !s.TokenIssuedAt.Time.Equal(rec.IssuedAt.Truncate(time.Second)) {
		return rec
	}
	if s.ExpiresAt != nil && !s.ExpiresAt.Time.Equal(rec.ExpiresAt.Truncate(time.Second)) {
		rec.ExpiresAt = s.ExpiresAt.Time
	}
	if s.UserID != "" {
		rec.UserID = s.UserID
	}
	if s.Username != "" {
		rec.Username = s.Username
	}
	return rec
}

// refreshRequested reports whether the refresh annotation carries a value not yet handled.
func refreshRequested(conn *igv1.InstagramConnection) bool {
	v := conn.Annotations[igv1.AnnotationRefreshRequestedAt]
	return v != "" && v != conn.Status.LastHandledRefreshRequest
}

// markRequestHandled echoes the refresh annotation's value once it has been acted on.
func (r *InstagramConnectionReconciler) markRequestHandled(conn *igv1.InstagramConnection) {
	if v := conn.Annotations[igv1.AnnotationRefreshRequestedAt]; v != "" {
		conn.Status.LastHandledRefreshRequest = v
	}
}

// backoffEnd returns the end of the current back-off, or zero when nothing failed.
func backoffEnd(conn *igv1.InstagramConnection) time.Time {
	if conn.Status.FailedRefreshAttempts == 0 || conn.Status.NextRefreshTime == nil {
		return time.Time{}
	}
	return conn.Status.NextRefreshTime.Time
}

// staleExpiry reports whether the expiry in a Secret whose token a person replaced belongs
// to the old token: igconnect wrote the Secret before (it has a fingerprint) and its
// expires_at is still the one status reports for the old token. A person who sets
// expires_at along with the new token is believed.
func staleExpiry(conn *igv1.InstagramConnection, rec tokensecret.Record) bool {
	return rec.Fingerprint != "" && conn.Status.ExpiresAt != nil && rec.ExpiresAt.Equal(conn.Status.ExpiresAt.Time)
}
