package controller

import (
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// setCondition sets one condition; the transition time comes from the reconcile's clock
// reading, so tests with a fake clock see exact times.
func setCondition(conn *igv1.InstagramConnection, now time.Time, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&conn.Status.Conditions, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: conn.Generation,
		LastTransitionTime: metav1.NewTime(now),
	})
}

// setReady sets Ready=True/Connected and clears the authorization URL: no person is needed.
func setReady(conn *igv1.InstagramConnection, now time.Time, message string) {
	setCondition(conn, now, igv1.ConditionReady, metav1.ConditionTrue, igv1.ReasonConnected, message)
	conn.Status.AuthorizationURL = ""
}

// setNotReady sets Ready=False with reason; the connection needs a person or a fix, so no
// retryable failure is pending and Degraded is cleared.
func setNotReady(conn *igv1.InstagramConnection, now time.Time, reason, message string) {
	setCondition(conn, now, igv1.ConditionReady, metav1.ConditionFalse, reason, message)
	clearDegraded(conn, now)
	conn.Status.FailedRefreshAttempts = 0
	conn.Status.NextRefreshTime = nil
}

// setDegraded records a failure worth retrying.
func setDegraded(conn *igv1.InstagramConnection, now time.Time, reason, message string) {
	setCondition(conn, now, igv1.ConditionDegraded, metav1.ConditionTrue, reason, message)
}

// clearDegraded records that no retryable failure is pending.
func clearDegraded(conn *igv1.InstagramConnection, now time.Time) {
	setCondition(conn, now, igv1.ConditionDegraded, metav1.ConditionFalse, igv1.ReasonNoFailures,
		"no Instagram call is failing")
}

// setTokenStatus mirrors what the Secret says about the token into status. Times are
// truncated to seconds, the precision of metav1.Time on the wire, so that an unchanged
// status compares equal and is not patched again.
func setTokenStatus(conn *igv1.InstagramConnection, rec tokensecret.Record) {
	s := &conn.Status
	s.UserID, s.Username = rec.UserID, rec.Username
	s.AccountType, s.AppScopedUserID = rec.AccountType, rec.AppScopedUserID
	s.GrantedScopes = rec.GrantedScopes
	s.TokenIssuedAt = timePtr(rec.IssuedAt)
	s.ExpiresAt = timePtr(rec.ExpiresAt)
}

// clearTokenTimes removes the token's times from status when there is no token.
func clearTokenTimes(conn *igv1.InstagramConnection) {
	conn.Status.TokenIssuedAt, conn.Status.ExpiresAt, conn.Status.NextRefreshTime = nil, nil, nil
}

func timePtr(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}

// syncStalled derives the Stalled condition from Ready: True, with Ready's reason and
// message, while the connection needs a person to become Ready; absent otherwise, including
// while it awaits its first login.
func syncStalled(conn *igv1.InstagramConnection, now time.Time) {
	ready := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason == igv1.ReasonAwaitingAuthorization {
		meta.RemoveStatusCondition(&conn.Status.Conditions, igv1.ConditionStalled)
		return
	}
	setCondition(conn, now, igv1.ConditionStalled, metav1.ConditionTrue, ready.Reason, ready.Message)
}

// stampObservedGeneration marks every condition as computed from the current generation.
func stampObservedGeneration(conn *igv1.InstagramConnection) {
	for i := range conn.Status.Conditions {
		conn.Status.Conditions[i].ObservedGeneration = conn.Generation
	}
}

// recordConnectionMetrics exports the connection's token times, readiness and Degraded.
func recordConnectionMetrics(conn *igv1.InstagramConnection) {
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
	connMetrics.set(key, expires, next, isReady, reason)
	degraded := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionDegraded)
	if degraded == nil {
		connMetrics.setDegraded(key, false, condition{})
		return
	}
	connMetrics.setDegraded(key, true, condition{isTrue: degraded.Status == metav1.ConditionTrue, reason: degraded.Reason})
}

// forgetConnection drops a deleted connection's metrics.
func forgetConnection(key types.NamespacedName, getErr error) {
	if apierrors.IsNotFound(getErr) {
		connMetrics.forget(key)
	}
}

// formatTime renders a time for condition messages and events.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// describeAccount names an account for messages: "@acme (17841400000000001)".
func describeAccount(username, userID string) string {
	if username == "" {
		return userID
	}
	return fmt.Sprintf("@%s (%s)", username, userID)
}

// isSuperseded reports whether err says a newer token arrived meanwhile.
func isSuperseded(err error) bool { return errors.Is(err, errTokenSuperseded) }
