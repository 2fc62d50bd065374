package controller

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// TestUpdateStatus covers the status each final step leads to, from the scope alone.
func TestUpdateStatus(t *testing.T) {
	rec := tokensecret.Record{AccessToken: "IGAAtoken", UserID: "17841400000000001", Username: "acme",
		IssuedAt: t0.Add(-10 * day), ExpiresAt: t0.Add(50 * day)}
	throttled := &callFailure{call: callRenew, Failure: login.Failure{Degraded: igv1.ReasonRateLimited, Transient: true},
		text: "(#4) throttled"}
	inBackoff := func(c *igv1.InstagramConnection) {
		c.Status.FailedRefreshAttempts, c.Status.NextRefreshTime = 2, timePtr(t0)
		setDegradedCondition(c, t0, &degradation{failure: throttled, attempts: 2, next: t0})
	}
	cases := []struct {
		name     string
		prepare  func(*igv1.InstagramConnection)
		scope    func(*scope)
		ready    string // Status/Reason
		degraded string // Status/Reason, "" for no condition
		attempts int32
		next     *time.Time
		url      string
		keepsURL bool // the step leaves status.authorizationURL as it was
		handled  bool
		message  string
	}{
		{name: "conflict: needs a person, no back-off, token times cleared", prepare: inBackoff,
			scope: func(s *scope) {
				s.noToken, s.final = true, step{action: actConflict, reason: igv1.ReasonSecretConflict}
			},
			ready: "False/SecretConflict", degraded: "False/NoFailures", keepsURL: true},
		{name: "await login with a link",
			scope: func(s *scope) {
				s.noToken, s.offer.url = true, "https://ig.example.test/auth/instagram/start?ticket=t"
				s.final = step{action: actAwaitLogin, reason: igv1.ReasonAwaitingAuthorization, message: "no token yet"}
			},
			ready: "False/AwaitingAuthorization", degraded: "False/NoFailures",
			url: "https://ig.example.test/auth/instagram/start?ticket=t", handled: true, message: "no token yet"},
		{name: "await login without --public-url: said so",
			scope: func(s *scope) {
				s.final = step{action: actAwaitLogin, reason: igv1.ReasonTokenExpired, message: "expired"}
			},
			ready: "False/TokenExpired", degraded: "False/NoFailures", handled: true, message: noLoginLinkNote},
		{name: "await login without app credentials: not handled, no link",
			scope: func(s *scope) {
				s.offer.credentialsMissing = "Secret no-such-app not found"
				s.final = step{action: actAwaitLogin, reason: igv1.ReasonAwaitingAuthorization}
			},
			ready: "False/AppCredentialsMissing", degraded: "False/NoFailures", message: "no-such-app"},
		{name: "wait: Ready, next refresh", scope: func(s *scope) {
			s.stored, s.final = true, step{action: actWait, at: t0.Add(30 * day)}
		}, ready: "True/Connected", degraded: "False/NoFailures", next: ptrTo(t0.Add(30 * day)), message: "token valid until"},
		{name: "wait in a back-off: Degraded stays", prepare: inBackoff, scope: func(s *scope) {
			s.stored, s.final = true, step{action: actWait, at: t0}
		}, ready: "True/Connected", degraded: "True/RateLimited", attempts: 2, next: ptrTo(t0)},
		{name: "renewed, then wait: back-off over, request handled", prepare: inBackoff, scope: func(s *scope) {
			s.stored, s.renewedAt, s.final = true, t0, step{action: actWait, at: t0.Add(40 * day)}
		}, ready: "True/Connected", degraded: "False/NoFailures", next: ptrTo(t0.Add(40 * day)), handled: true},
		{name: "retry a managed token: still Ready, Degraded, back-off", scope: func(s *scope) {
			s.stored, s.failure, s.retry = true, throttled, backoff{attempts: 1, at: t0.Add(time.Minute)}
			s.final = step{action: actRetry}
		}, ready: "True/Connected", degraded: "True/RateLimited", attempts: 1, next: ptrTo(t0.Add(time.Minute))},
		{name: "retry an import: Ready Unknown with the failure's reason", scope: func(s *scope) {
			s.imported, s.failure, s.retry = true, throttled, backoff{attempts: 1, at: t0.Add(time.Minute)}
			s.final = step{action: actRetry}
		}, ready: "Unknown/RateLimited", degraded: "True/RateLimited", attempts: 1, next: ptrTo(t0.Add(time.Minute)),
			keepsURL: true, message: "could not validate the imported token yet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 1,
				Annotations: map[string]string{igv1.AnnotationRefreshRequestedAt: "req"}}}
			conn.Status.AuthorizationURL = "https://old"
			if tc.prepare != nil {
				tc.prepare(conn)
			}
			s := newScope(conn, t0)
			s.rec = rec
			tc.scope(s)
			updateStatus(s)

			st := conn.Status
			if got := condition(conn, igv1.ConditionReady); got != tc.ready {
				t.Errorf("Ready %s, want %s", got, tc.ready)
			}
			if got := condition(conn, igv1.ConditionDegraded); got != tc.degraded {
				t.Errorf("Degraded %s, want %s", got, tc.degraded)
			}
			if st.FailedRefreshAttempts != tc.attempts {
				t.Errorf("failedRefreshAttempts %d, want %d", st.FailedRefreshAttempts, tc.attempts)
			}
			if (st.NextRefreshTime == nil) != (tc.next == nil) || (tc.next != nil && !st.NextRefreshTime.Time.Equal(*tc.next)) {
				t.Errorf("nextRefreshTime %v, want %v", st.NextRefreshTime, tc.next)
			}
			wantURL := tc.url
			if tc.keepsURL {
				wantURL = "https://old"
			}
			if st.AuthorizationURL != wantURL {
				t.Errorf("authorizationURL %q, want %q", st.AuthorizationURL, wantURL)
			}
			if handled := st.LastHandledRefreshRequest == "req"; handled != tc.handled {
				t.Errorf("refresh request handled %v, want %v", handled, tc.handled)
			}
			if ready := meta.FindStatusCondition(st.Conditions, igv1.ConditionReady); !strings.Contains(ready.Message, tc.message) {
				t.Errorf("Ready message %q, want it to contain %q", ready.Message, tc.message)
			}
		})
	}
}

func condition(conn *igv1.InstagramConnection, typ string) string {
	c := meta.FindStatusCondition(conn.Status.Conditions, typ)
	if c == nil {
		return ""
	}
	return string(c.Status) + "/" + c.Reason
}

func ptrTo(t time.Time) *time.Time { return &t }
