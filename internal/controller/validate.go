package controller

import (
	"context"
	"time"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
)

// Validation catches a token that died early (a password change, 190/460; the user logging
// out) long before its next refresh would: every --validate-interval, and when an app reports
// that Instagram rejected its calls, the token is checked with one cheap call. The schedule is
// login.Policy.DecideValidation; a refresh counts as a validation. The time of the last proof
// lives in status.lastValidatedTime, not in the Secret: a validation changes nothing an app
// reads, and a Secret write would restart every pod that mounts it (Reloader) once a day.
// Status is rebuilt from observations, and a lost one costs a single extra validation,
// because the schedule also counts from the token's issue time.

// validate proves the stored token still works. It writes nothing: success is recorded in
// status (updateStatus), a rejection goes through actReject like a refresh's, and a failure
// worth retrying backs off like one.
func (r *InstagramConnectionReconciler) validate(ctx context.Context, s *scope) {
	logFrom(ctx).V(1).Info("Validating token", "reported", rejectionReported(s.conn))
	if _, err := r.Login.Identify(ctx, s.rec.AccessToken); err != nil {
		s.failure = &callFailure{call: callValidate, Failure: r.Login.Classify(err), text: err.Error()}
		return
	}
	s.validatedAt = s.now
}

// validationInput is what the validation schedule sees. A validation or renewal of this
// reconcile has answered any report and ended any back-off.
func (s *scope) validationInput() login.ValidationInput {
	conn := s.conn
	in := login.ValidationInput{Now: s.now, IssuedAt: s.rec.IssuedAt, UID: conn.UID,
		LastValidated: latest(s.validatedAt, s.renewedAt)}
	if t := conn.Status.LastValidatedTime; t != nil {
		in.LastValidated = latest(in.LastValidated, t.Time)
	}
	if s.validatedAt.IsZero() && !s.renewed {
		in.Reported, in.NotBefore = rejectionReported(conn), backoffEnd(conn)
	}
	return in
}

// rejectionReported reports whether the rejection report annotation carries a value not yet
// handled.
func rejectionReported(conn *igv1.InstagramConnection) bool {
	v := conn.Annotations[igv1.AnnotationTokenRejectedAt]
	return v != "" && v != conn.Status.LastHandledRejectionReport
}

// markReportHandled echoes the rejection report annotation's value once a validation,
// renewal or rejection has answered it.
func markReportHandled(conn *igv1.InstagramConnection) {
	if v := conn.Annotations[igv1.AnnotationTokenRejectedAt]; v != "" {
		conn.Status.LastHandledRejectionReport = v
	}
}

// setValidated records that the token was proven to work at t: the last validation, no
// failure pending, any report answered.
func setValidated(conn *igv1.InstagramConnection, now, t time.Time) {
	conn.Status.LastValidatedTime = timePtr(t)
	setBackoff(conn, 0, conn.Status.NextRefreshTime)
	setDegradedCondition(conn, now, nil)
	markReportHandled(conn)
}

// latest returns the later of two times.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earliest returns the earlier of two times, ignoring a zero one.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
