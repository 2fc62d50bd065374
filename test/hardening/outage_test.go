package hardening

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// TestAPIServerOutage takes kube-apiserver away between Instagram's answer to a refresh and
// the Secret write: a refresh wave is asked for (the refresh annotation), Instagram takes a
// few seconds to answer, and kube-apiserver is stopped meanwhile, so the refreshed tokens
// under way come back to a manager that cannot store them, and the rest of the wave waits.
// Once kube-apiserver is back (and its RBAC caches warm, during which the manager's user is
// refused), every connection must hold a token refreshed after it was asked for, with
// exactly one refresh call each: the results kept through the outage stored late, none
// refreshed again, none lost.
//
// Lifetimes are 5 minutes here: the manager's work queue backs off for about as long as the
// outage lasted, which a 30-second test lifetime would not survive but a real one (60 days,
// refreshed on day 40) does by weeks.
func TestAPIServerOutage(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "outage")
	n := pick(10, 25)
	s := startStack(t, c, "outage", stackOptions{ttl: 5 * time.Minute, accounts: n})
	ctx := testContext(t, 10*time.Minute)
	chains := s.recordChains(t)
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("outage-%02d", i)
		names = append(names, name)
		s.importConnection(ctx, t, name, s.accounts[i].Username)
	}
	if !scenario(t, "import", func(t *testing.T) { s.settle(t, 60*time.Second, false, names...) }) {
		t.FailNow()
	}

	for round, down := range pick([]time.Duration{0}, []time.Duration{0, 20 * time.Second}) {
		scenario(t, fmt.Sprintf("outage-between-refresh-and-write-%d", round+1), func(t *testing.T) {
			calls := s.calls(ctx, t)[sandbox.EndpointRefresh]
			issued, err := s.sb.Control.Issued(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Instagram answers refreshes after 4 seconds (under the client's timeout).
			if err := s.sb.Control.InjectFault(ctx, devenv.Fault{Kind: sandbox.FaultHang,
				Endpoint: sandbox.EndpointRefresh, HangFor: "4s"}); err != nil {
				t.Fatal(err)
			}
			requested := map[string]string{}
			for _, name := range names {
				s.requestRefresh(ctx, t, name)
				conn, _ := s.connection(ctx, name)
				requested[name] = conn.Annotations[igv1.AnnotationRefreshRequestedAt]
			}
			// The first refreshes are under way (the manager works on four at once); the
			// others are made while the API server is away, from the manager's cache.
			// After an earlier outage the manager's watches may still be backing off (up to
			// client-go's 30s) before they see the annotations.
			NewWithT(t).Eventually(func() int {
				return s.calls(ctx, t)[sandbox.EndpointRefresh]
			}).WithTimeout(60*time.Second).WithPolling(20*time.Millisecond).Should(BeNumerically(">", calls), "a refresh under way (refresh calls in all)")
			stopped := time.Now()
			if err := c.cp.StopAPIServer(); err != nil {
				t.Fatal(err)
			}
			restarted := false
			defer func() {
				if !restarted {
					_ = c.cp.StartAPIServer()
				}
			}()
			report.fault("process kube-apiserver stopped")
			// Instagram answers the refreshes under way while the API server is away. (No new
			// one starts: the manager reads the Secret from the API server before a refresh.)
			NewWithT(t).Eventually(func(g Gomega) {
				now, err := s.sb.Control.Issued(ctx)
				g.Expect(err).NotTo(HaveOccurred())
				minted := len(now.Tokens) - len(issued.Tokens)
				made := s.calls(ctx, t)[sandbox.EndpointRefresh] - calls
				g.Expect(minted).To(Equal(made), "tokens minted for the %d refresh calls made", made)
			}).WithTimeout(30*time.Second).WithPolling(50*time.Millisecond).Should(Succeed(), "the refreshes under way answered")
			if err := s.sb.Control.ClearFaults(ctx); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, time.Now().Add(down))
			lost := s.calls(ctx, t)[sandbox.EndpointRefresh] - calls
			if err := c.cp.StartAPIServer(); err != nil {
				t.Fatal(err)
			}
			restarted = true
			t.Logf("kube-apiserver was down %s; %d refreshes answered meanwhile, their results kept for later",
				time.Since(stopped).Round(100*time.Millisecond), lost)
			NewWithT(t).Eventually(func(g Gomega) {
				for _, name := range names {
					conn, err := s.connection(ctx, name)
					g.Expect(err).NotTo(HaveOccurred())
					asked, _ := time.Parse(time.RFC3339Nano, requested[name])
					st := conn.Status.TokenIssuedAt
					stored := st != nil && !st.Time.Before(asked.Add(-time.Second)) &&
						conn.Status.LastHandledRefreshRequest == requested[name]
					g.Expect(stored).To(BeTrue(), "%s: token issued at %v, refresh asked at %s", name, st, requested[name])
				}
			}).WithTimeout(90*time.Second).WithPolling(200*time.Millisecond).Should(Succeed(), "every requested refresh stored")
			s.settle(t, 30*time.Second, false, names...)
			if got := s.calls(ctx, t)[sandbox.EndpointRefresh] - calls; got != n {
				t.Errorf("%d refresh calls for %d requested refreshes: the results lost to the outage were "+
					"refreshed again", got, n)
			}
			for _, name := range names {
				if !s.hasEvent(ctx, name, corev1.EventTypeNormal, igv1.ReasonRefreshed) {
					t.Errorf("%s: no Refreshed event", name)
				}
			}
		})
	}

	scenario(t, "refresh-accounting", func(t *testing.T) {
		acct := s.accountRefreshes(ctx, t, chains, 0, names...)
		report.refreshed(acct.stored, acct.redone, len(acct.needless))
		t.Logf("%d refreshes stored, %d made again after a lost result %v", acct.stored, acct.redone, acct.redoneAt)
		if acct.redone != 0 {
			t.Errorf("%d refreshes made again: a refreshed token the outage kept from its Secret was lost", acct.redone)
		}
	})
}
