package controller

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// updateStatus computes the connection's status from what the reconcile found and did: the
// token record, the step that ended the reconcile, and the renewal or back-off it made. It
// is the only place that sets status; each set function below sets one part of it from its
// inputs. A reconcile that ended in an error (no final step) reports only what it stored.
func updateStatus(s *scope) {
	conn, now := s.conn, s.now
	switch {
	case s.stored:
		setTokenStatus(conn, s.rec)
	case s.noToken:
		clearTokenTimes(conn)
	}
	if !s.renewedAt.IsZero() {
		conn.Status.LastRefreshTime = timePtr(s.renewedAt)
		markRequestHandled(conn)
	}
	// A renewal proves the token works as a validation does.
	if proof := latest(s.renewedAt, s.validatedAt); !proof.IsZero() {
		setValidated(conn, now, proof)
	}
	setRolloutStatus(conn, s.rollout)
	switch st := s.final; st.action {
	case actConflict:
		clearTokenTimes(conn)
		setNeedsPerson(conn, now, st.reason, st.message)
	case actAwaitLogin:
		reportAwaitLogin(s, st)
	case actWait:
		// While attempts are failing, nextRefreshTime is the back-off's end, which a
		// failed validation shares with the refresh (setBackoff).
		if conn.Status.FailedRefreshAttempts == 0 {
			conn.Status.NextRefreshTime = timePtr(st.at)
			setDegradedCondition(conn, now, nil)
		}
		setUsable(conn, now, readyMessage(s.rec, st.at))
	case actRetry:
		reportRetry(s)
	}
}

// reportAwaitLogin reports a connection that needs a login, offered in
// status.authorizationURL; without app credentials no login can be offered.
func reportAwaitLogin(s *scope, st step) {
	conn := s.conn
	if why := s.offer.credentialsMissing; why != "" {
		conn.Status.AuthorizationURL = ""
		setNeedsPerson(conn, s.now, igv1.ReasonAppCredentialsMissing, why)
		return
	}
	message := st.message
	if s.offer.url == "" {
		message += noLoginLinkNote
	}
	conn.Status.AuthorizationURL = s.offer.url
	setNeedsPerson(conn, s.now, st.reason, message)
	markRequestHandled(conn)
	markReportHandled(conn)
}

// reportRetry reports a failure worth retrying and its back-off. The token stays Ready while
// it is usable; an import that could not be validated yet is Ready=Unknown, with the
// failure's Degraded reason (docs/user-guide.md).
func reportRetry(s *scope) {
	conn, now := s.conn, s.now
	setBackoff(conn, s.retry.attempts, timePtr(s.retry.at))
	setDegradedCondition(conn, now, &degradation{failure: s.failure, attempts: s.retry.attempts, next: s.retry.at})
	switch {
	case s.imported || !s.rec.HasToken():
		setReadyCondition(conn, now, metav1.ConditionUnknown, s.failure.Degraded,
			"could not validate the imported token yet; see the Degraded condition")
	case s.rec.ExpiresAt.IsZero():
		setUsable(conn, now, "token valid; its expiry is not known until a refresh succeeds")
	default:
		setUsable(conn, now, readyMessage(s.rec, s.retry.at))
	}
}

// setNeedsPerson reports a connection that cannot become Ready without a person or a fix:
// Ready=False with reason; no retryable failure is pending, so there is no back-off and
// Degraded is False.
func setNeedsPerson(conn *igv1.InstagramConnection, now time.Time, reason, message string) {
	setReadyCondition(conn, now, metav1.ConditionFalse, reason, message)
	setDegradedCondition(conn, now, nil)
	setBackoff(conn, 0, nil)
}

// setUsable reports a usable token: Ready=True, and no login to offer.
func setUsable(conn *igv1.InstagramConnection, now time.Time, message string) {
	setReadyCondition(conn, now, metav1.ConditionTrue, igv1.ReasonConnected, message)
	conn.Status.AuthorizationURL = ""
}

// setReadyCondition sets the Ready condition.
func setReadyCondition(conn *igv1.InstagramConnection, now time.Time, status metav1.ConditionStatus, reason, message string) {
	setCondition(conn, now, igv1.ConditionReady, status, reason, message)
}

// degradation is a failure worth retrying, as the Degraded condition reports it.
type degradation struct {
	failure  *callFailure
	attempts int32
	next     time.Time
}

// setDegradedCondition sets Degraded: True for a failure worth retrying, False for none.
func setDegradedCondition(conn *igv1.InstagramConnection, now time.Time, d *degradation) {
	if d == nil {
		setCondition(conn, now, igv1.ConditionDegraded, metav1.ConditionFalse, igv1.ReasonNoFailures,
			"no Instagram call is failing")
		return
	}
	setCondition(conn, now, igv1.ConditionDegraded, metav1.ConditionTrue, d.failure.Degraded,
		fmt.Sprintf("attempt %d failed, next at %s: %s", d.attempts, formatTime(d.next), d.failure.text))
}

// setBackoff records the failed attempts in a row and, while there are any, when the next
// attempt is due.
func setBackoff(conn *igv1.InstagramConnection, attempts int32, next *metav1.Time) {
	conn.Status.FailedRefreshAttempts = attempts
	conn.Status.NextRefreshTime = next
}

// markRequestHandled echoes the refresh annotation's value once it has been acted on.
func markRequestHandled(conn *igv1.InstagramConnection) {
	if v := conn.Annotations[igv1.AnnotationRefreshRequestedAt]; v != "" {
		conn.Status.LastHandledRefreshRequest = v
	}
}

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

// formatTime renders a time for condition messages and events.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// describeAccount names an account for messages: "@acme (17841400000000001)".
func describeAccount(username, userID string) string {
	if username == "" {
		return userID
	}
	return fmt.Sprintf("@%s (%s)", username, userID)
}
