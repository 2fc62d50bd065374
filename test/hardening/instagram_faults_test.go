package hardening

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/controller"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// retryBase is the manager's first back-off after a failure worth retrying.
var retryBase = controller.DefaultPolicy().BackoffBase

// TestInstagramFaults makes Instagram misbehave under the real manager, one connection per
// misbehaviour, and checks that each connection reports it, backs off without a single
// extra call, and recovers once Instagram does; that tokens Instagram rejects stop all
// calls until a person logs in again, which then works; and that connections nobody
// touched make no call at all.
//
// Refreshes are asked for with the refresh annotation, one connection at a time, so that
// each fault (which the sandbox applies per endpoint) meets the connection meant for it.
// Lifetimes are 10 minutes, so no scheduled refresh interferes.
func TestInstagramFaults(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "faults")

	type retryCase struct {
		name   string
		fault  fault
		reason string
		// wait is the back-off the manager must keep; recover says whether the test
		// waits it out.
		wait    time.Duration
		recover bool
	}
	retry := []retryCase{
		{"server-error", fault{Kind: "server_error"}, igv1.ReasonInstagramUnavailable, retryBase, true},
		{"server-error-html", fault{Kind: "server_error", Status: 503, HTML: true}, igv1.ReasonInstagramUnavailable, retryBase, true},
		{"throttle", fault{Kind: "throttle"}, igv1.ReasonRateLimited, retryBase, true},
		{"throttle-429", fault{Kind: "throttle", Status: 429}, igv1.ReasonRateLimited, retryBase, true},
		{"malformed", fault{Kind: "malformed"}, igv1.ReasonInstagramUnavailable, retryBase, true},
		{"truncated", fault{Kind: "truncated"}, igv1.ReasonInstagramUnavailable, retryBase, true},
		// Past the client's 10s timeout: the sandbox holds the request until it is given up.
		{"hang", fault{Kind: "hang"}, igv1.ReasonInstagramUnavailable, retryBase, true},
		// Instagram says when access comes back (X-Business-Use-Case-Usage); the manager
		// must wait that long, which the default run does not.
		{"throttle-regain", fault{Kind: "throttle", RegainMinutes: 3}, igv1.ReasonRateLimited, 3 * time.Minute, long},
	}
	type personCase struct {
		name  string
		spoil func(ctx context.Context, token, account string) error
		// subcode is what the Ready message must name, when the sandbox sends one.
		message string
	}
	var s *stack
	person := []personCase{
		{"revoked", func(ctx context.Context, token, _ string) error { return s.sb.Control.RevokeToken(ctx, token) },
			"logged out"},
		{"password-changed", func(ctx context.Context, _, account string) error {
			return s.sb.Control.ChangePassword(ctx, account)
		}, "changed their password"},
		{"app-removed", func(ctx context.Context, _, account string) error {
			return s.sb.Control.RemoveApp(ctx, account, "")
		}, "has not authorized application"},
	}
	bystanders := []string{"bystander-1", "bystander-2"}

	s = startStack(t, c, "faults", stackOptions{ttl: 10 * time.Minute, accounts: len(retry) + len(person) + len(bystanders)})
	ctx := testContext(t, 10*time.Minute)
	mgr := s.mgrs[0]
	account := map[string]sandbox.Account{}
	names := append(append(caseNames(retry, func(r retryCase) string { return r.name }),
		caseNames(person, func(p personCase) string { return p.name })...), bystanders...)
	for i, name := range names {
		account[name] = s.accounts[i]
		s.importConnection(ctx, t, name, s.accounts[i].Username)
	}
	if !scenario(t, "import", func(t *testing.T) { s.settle(t, 60*time.Second, false, names...) }) {
		t.FailNow()
	}
	calls0 := s.calls(ctx, t)
	tokens0 := map[string]string{}
	for _, n := range names {
		conn, _ := s.connection(ctx, n)
		tokens0[n], _, _ = s.token(ctx, conn)
	}
	expectedRefresh := calls0[sandbox.EndpointRefresh]
	var firstFailure time.Time

	for _, rc := range retry {
		scenario(t, "retry/"+rc.name, func(t *testing.T) {
			rc.fault.Endpoint = sandbox.EndpointRefresh
			s.inject(ctx, t, rc.fault)
			defer s.clearFaults(ctx, t)
			asked := time.Now()
			s.requestRefresh(ctx, t, rc.name)
			var conn *igv1.InstagramConnection
			NewWithT(t).Eventually(func(g Gomega) {
				var err error
				conn, err = s.connection(ctx, rc.name)
				g.Expect(err).NotTo(HaveOccurred())
				d := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionDegraded)
				degraded := d != nil && d.Status == metav1.ConditionTrue
				g.Expect(degraded).To(BeTrue(), "Degraded %s", describeCondition(d))
			}).WithTimeout(40*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), "%s Degraded", rc.name)
			failedAt := time.Now()
			if firstFailure.IsZero() {
				firstFailure = asked
			}
			expectedRefresh++
			report.spoiled(1)
			d := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionDegraded)
			ready := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionReady)
			switch {
			case d.Reason != rc.reason:
				t.Errorf("Degraded reason %s, want %s (%s)", d.Reason, rc.reason, d.Message)
			case ready == nil || ready.Status != metav1.ConditionTrue:
				t.Errorf("the token is still usable, but Ready is %s", describeCondition(ready))
			case conn.Status.FailedRefreshAttempts != 1:
				t.Errorf("failedRefreshAttempts %d, want 1", conn.Status.FailedRefreshAttempts)
			case conn.Status.NextRefreshTime == nil:
				t.Errorf("no nextRefreshTime after a failure")
			}
			// The back-off starts at the failure: no sooner than the wait, no later than
			// the wait after Degraded was seen.
			if next := conn.Status.NextRefreshTime; next != nil &&
				(next.Time.Before(asked.Add(rc.wait-2*time.Second)) || next.After(failedAt.Add(rc.wait+2*time.Second))) {
				t.Errorf("next attempt at %s, want %s after the failure (between %s and %s)", next.UTC(), rc.wait,
					asked.Add(rc.wait).UTC(), failedAt.Add(rc.wait).UTC())
			}
			if got := s.calls(ctx, t)[sandbox.EndpointRefresh]; got != expectedRefresh {
				t.Errorf("%d refresh calls, want %d: one attempt, then the back-off", got, expectedRefresh)
				expectedRefresh = got
			}
			NewWithT(t).Eventually(func() bool {
				return s.hasEvent(ctx, rc.name, corev1.EventTypeWarning, rc.reason)
			}).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).Should(BeTrue(), "a Warning event %s", rc.reason)
			if tok, _, _ := s.token(ctx, conn); tok != tokens0[rc.name] {
				t.Errorf("the Secret's token changed although no refresh succeeded")
			}
		})
	}

	b := newBrowser()
	for _, pc := range person {
		scenario(t, "reauthorize/"+pc.name, func(t *testing.T) {
			acct := account[pc.name]
			if err := pc.spoil(ctx, tokens0[pc.name], acct.Username); err != nil {
				t.Fatal(err)
			}
			report.fault("instagram " + pc.name)
			s.requestRefresh(ctx, t, pc.name)
			var conn *igv1.InstagramConnection
			NewWithT(t).Eventually(func(g Gomega) {
				var err error
				conn, err = s.connection(ctx, pc.name)
				g.Expect(err).NotTo(HaveOccurred())
				r := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionReady)
				notReady := r != nil && r.Status == metav1.ConditionFalse
				g.Expect(notReady).To(BeTrue(), "Ready %s", describeCondition(r))
			}).WithTimeout(30*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), "%s Ready=False", pc.name)
			expectedRefresh++
			report.spoiled(1)
			ready := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionReady)
			if ready.Reason != igv1.ReasonReauthorizationRequired {
				t.Errorf("Ready %s, want ReauthorizationRequired", describeCondition(ready))
			}
			if conn.Status.AuthorizationURL == "" || conn.Status.NextRefreshTime != nil {
				t.Errorf("authorizationURL %q, nextRefreshTime %v: want a login link and no refresh scheduled",
					conn.Status.AuthorizationURL, conn.Status.NextRefreshTime)
			}
			// The person is told why: Instagram's reason is in the Warning event.
			NewWithT(t).Eventually(func(g Gomega) {
				evs, err := s.events(ctx, pc.name)
				g.Expect(err).NotTo(HaveOccurred())
				var notes []string
				for _, e := range evs {
					if e.Type == corev1.EventTypeWarning && e.Reason == igv1.ReasonReauthorizationRequired {
						notes = append(notes, e.Note)
					}
				}
				g.Expect(notes).To(ContainElement(ContainSubstring(pc.message)), "the ReauthorizationRequired warnings' notes")
			}).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), "a Warning event naming %s", pc.message)

			if pc.name == "revoked" {
				// A login that meets an Instagram failure says so and changes nothing.
				before, _ := s.connection(ctx, pc.name)
				_, secretBefore, _ := s.token(ctx, before)
				s.inject(ctx, t, fault{Kind: "server_error", Endpoint: sandbox.EndpointCodeExchange, Count: 1})
				res := s.login(ctx, t, b, mgr, mgr, conn.Status.AuthorizationURL, acct.Username)
				report.spoiled(1)
				if res.status < 500 || !strings.Contains(res.body, "Instagram") {
					t.Errorf("a login during an Instagram outage answered %d:\n%s", res.status, res.body)
				}
				after, _ := s.connection(ctx, pc.name)
				_, secretAfter, _ := s.token(ctx, after)
				if after.ResourceVersion != before.ResourceVersion || secretAfter.ResourceVersion != secretBefore.ResourceVersion {
					t.Errorf("a failed login changed the connection or its Secret")
				}
			}
			res := s.login(ctx, t, b, mgr, mgr, conn.Status.AuthorizationURL, acct.Username)
			if res.status != http.StatusOK {
				t.Fatalf("login again: HTTP %d:\n%s", res.status, res.body)
			}
			s.settle(t, 30*time.Second, false, pc.name)
		})
	}

	scenario(t, "backoff-window", func(t *testing.T) {
		// Until the first retry is due, not one refresh call may be made: every connection
		// that failed is backing off, and the others have nothing due.
		until := firstFailure.Add(retryBase - 2*time.Second)
		window := time.Until(until)
		if window < 5*time.Second {
			t.Fatalf("only %s of back-off left to watch; the fault scenarios took too long", window)
		}
		start := s.calls(ctx, t)[sandbox.EndpointRefresh]
		if start != expectedRefresh {
			t.Errorf("%d refresh calls before the window, want %d", start, expectedRefresh)
		}
		NewWithT(t).Consistently(func() int {
			return s.calls(ctx, t)[sandbox.EndpointRefresh]
		}).WithTimeout(window).WithPolling(250*time.Millisecond).Should(Equal(start), func() string {
			return fmt.Sprintf("a refresh call %s before the first back-off ended (refresh calls in all)",
				time.Until(until.Add(2*time.Second)).Round(time.Second))
		})
		t.Logf("no refresh call during %s of back-off", window.Round(time.Second))
	})

	recovering := []string{}
	longest := retryBase
	for _, rc := range retry {
		if rc.recover {
			recovering = append(recovering, rc.name)
			expectedRefresh++
			longest = max(longest, rc.wait)
		}
	}
	scenario(t, "recovery", func(t *testing.T) {
		s.settle(t, longest+45*time.Second, false, recovering...)
		for _, n := range recovering {
			conn, _ := s.connection(ctx, n)
			if tok, _, _ := s.token(ctx, conn); tok == tokens0[n] {
				t.Errorf("%s: recovered without a refresh", n)
			}
			if conn.Status.FailedRefreshAttempts != 0 || conn.Status.LastRefreshTime == nil {
				t.Errorf("%s: failedRefreshAttempts %d, lastRefreshTime %v after recovery", n,
					conn.Status.FailedRefreshAttempts, conn.Status.LastRefreshTime)
			}
			if !s.hasEvent(ctx, n, corev1.EventTypeNormal, igv1.ReasonRefreshed) {
				t.Errorf("%s: no Refreshed event after recovery", n)
			}
		}
		// One attempt each that failed, one that succeeded, and nothing else.
		var got int
		quiet.Consistently(func() int {
			got = s.calls(ctx, t)[sandbox.EndpointRefresh]
			return got
		}).WithTimeout(3 * time.Second).WithPolling(250 * time.Millisecond).Should(BeNumerically("<=", expectedRefresh))
		if got != expectedRefresh {
			t.Errorf("%d refresh calls in all, want %d", got, expectedRefresh)
		}
		calls := s.calls(ctx, t)
		for _, ep := range []string{sandbox.EndpointTokenExchange, sandbox.EndpointProfile} {
			// Only the logins of the reauthorize scenarios call these: an exchange and a /me each.
			if logins := len(person) + 1; calls[ep]-calls0[ep] > logins {
				t.Errorf("%d %s calls, want at most %d (the logins')", calls[ep]-calls0[ep], ep, logins)
			}
		}
	})

	scenario(t, "all-consistent", func(t *testing.T) {
		var settled []string
		for _, n := range names {
			if n != "throttle-regain" || long {
				settled = append(settled, n)
			}
		}
		s.settle(t, 30*time.Second, false, settled...)
		for _, n := range bystanders {
			conn, _ := s.connection(ctx, n)
			if tok, _, _ := s.token(ctx, conn); tok != tokens0[n] {
				t.Errorf("%s: refreshed although nothing was due", n)
			}
		}
		if !long {
			// Still backing off as Instagram asked; its token is usable.
			s.settle(t, 5*time.Second, true, "throttle-regain")
		}
	})
	t.Logf("refresh calls: %d before the faults, %d after", calls0[sandbox.EndpointRefresh], expectedRefresh)
}

// caseNames maps cases to their names.
func caseNames[T any](cases []T, name func(T) string) []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = name(c)
	}
	return out
}
