package hardening

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// processTTL is the token lifetime of the process scenarios: refreshes come every 20s, and
// a token outlives a leader's lease (15s) after its refresh was due.
const processTTL = 30 * time.Second

// TestProcessFaults takes the processes around the manager away while refresh waves are
// due, one connection per sandbox account:
//   - the manager is killed with SIGKILL at a random point of a wave (after the k-th refresh
//     call, k random) and started again, several times;
//   - two managers run with --leader-elect, both serve logins, the leader is killed right
//     after a wave, the other takes over and does the next wave.
//
// After each, every connection must be consistent with a valid token, and at the end no
// token may have been refreshed before it was due; refreshes made again because a kill lost
// a result are counted, at most one per connection and kill. (TestAPIServerOutage takes the
// API server away.)
func TestProcessFaults(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("IGCONNECT_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("random kill points from IGCONNECT_SEED=%d", seed)

	c := startCluster(t, "process")
	n := pick(10, 25)
	logins := 3
	s := startStack(t, c, "process", stackOptions{ttl: processTTL, accounts: n + logins})
	ctx := testContext(t, 15*time.Minute)
	chains := s.recordChains(t)
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("wave-%02d", i)
		names = append(names, name)
		s.importConnection(ctx, t, name, s.accounts[i].Username)
	}
	if !scenario(t, "import", func(t *testing.T) { s.settle(t, 60*time.Second, false, names...) }) {
		t.FailNow()
	}
	// Instagram takes 100ms to refresh a token, as a real round trip might: a wave then
	// spreads over a few hundred milliseconds, so a kill lands between any two of its
	// refreshes, while one is in flight, or between a refresh and its Secret write. (Not
	// counted as a fault: every call still succeeds.)
	if err := s.sb.Control.InjectFault(ctx, devenv.Fault{Kind: sandbox.FaultHang, Endpoint: sandbox.EndpointRefresh,
		HangFor: "100ms"}); err != nil {
		t.Fatal(err)
	}

	kills := 0
	for i := 0; i < pick(3, 8); i++ {
		scenario(t, fmt.Sprintf("kill-during-wave-%d", i+1), func(t *testing.T) {
			m := s.mgrs[0]
			wave := s.nextWave(ctx, t, names)
			start, base := s.awaitWave(ctx, t, names, 300*time.Millisecond)
			k := 1 + rng.IntN(len(wave))
			NewWithT(t).Eventually(func() int {
				return s.calls(ctx, t)[sandbox.EndpointRefresh] - base
			}).WithTimeout(15*time.Second).WithPolling(2*time.Millisecond).Should(BeNumerically(">=", k), "the wave's refresh calls")
			if err := m.Kill(); err != nil {
				t.Fatal(err)
			}
			t.Logf("killed at %s", time.Now().UTC().Format("15:04:05.000"))
			report.fault("process manager SIGKILL during a wave")
			kills++
			t.Logf("killed the manager after %d of %d refresh calls of the wave (aimed at %d)",
				s.calls(ctx, t)[sandbox.EndpointRefresh]-base, len(wave), k)
			if err := m.Start(ctx); err != nil {
				t.Fatal(err)
			}
			s.requireRefreshedSinceWithin(ctx, t, 30*time.Second, start, wave...)
			s.settle(t, 30*time.Second, false, names...)
		})
	}

	scenario(t, "leader-handover", func(t *testing.T) {
		// Two replicas with leader election replace the single manager.
		if err := s.mgrs[0].Stop(); err != nil {
			t.Fatal(err)
		}
		a := s.addManager(ctx, t, true)
		b := s.addManager(ctx, t, true)
		replicas := []*devenv.Manager{a, b}
		leader := awaitLeader(ctx, t, replicas, 30*time.Second)
		follower := replicas[1-leader]

		// Right after a wave, so that the next is due while nobody leads: both replicas
		// serve logins (a state one replica signed is good on the other), then the
		// leader is killed. The logins' tokens start their lives with the wave's.
		NewWithT(t).Eventually(func() time.Duration {
			return time.Until(s.earliestRefresh(ctx, t, names[:n]))
		}).WithTimeout(processTTL).WithPolling(100*time.Millisecond).Should(BeNumerically(">", processTTL/2),
			"a wave just done (time to the next refresh)")
		br := newBrowser()
		start := "http://" + publicHost + "/auth/instagram/start"
		for i, pair := range [][2]*devenv.Manager{{a, b}, {b, a}} {
			res := s.login(ctx, t, br, pair[0], pair[1], start, s.accounts[n+i].Username)
			if res.status != http.StatusOK {
				t.Fatalf("login %d across replicas: HTTP %d:\n%s", i, res.status, res.body)
			}
			names = append(names, "ig-"+s.accounts[n+i].UserID)
		}
		killed := time.Now()
		if err := replicas[leader].Kill(); err != nil {
			t.Fatal(err)
		}
		report.fault("process leader SIGKILL")
		kills++

		// Without a leader, logins still work on the other replica.
		res := s.login(ctx, t, br, follower, follower, start, s.accounts[n+2].Username)
		if res.status != http.StatusOK {
			t.Fatalf("login while nobody leads: HTTP %d:\n%s", res.status, res.body)
		}
		names = append(names, "ig-"+s.accounts[n+2].UserID)

		awaitLeader(ctx, t, []*devenv.Manager{follower}, 45*time.Second)
		t.Logf("the follower took over %s after the leader was killed", time.Since(killed).Round(100*time.Millisecond))
		if err := replicas[leader].Start(ctx); err != nil {
			t.Fatal(err)
		}
		s.settle(t, 40*time.Second, false, names...)
		s.requireRefreshedSinceWithin(ctx, t, processTTL, killed, names[:n]...)
	})

	scenario(t, "refresh-accounting", func(t *testing.T) {
		acct := s.accountRefreshes(ctx, t, chains, processTTL*2/3, names...)
		report.refreshed(acct.stored, acct.redone, len(acct.needless))
		if most := kills * n; acct.redone > most {
			t.Errorf("%d refreshes made again after %d kills of %d connections, want at most %d", acct.redone, kills, n, most)
		}
		t.Logf("%d refreshes stored, %d made again after a lost result %v, %d needless", acct.stored, acct.redone,
			acct.redoneAt, len(acct.needless))
		for _, msg := range acct.needless {
			t.Errorf("needless refresh: %s", msg)
		}
	})
}

// nextWave returns the named connections whose refresh is due within a second of the
// earliest: the wave to come.
func (s *stack) nextWave(ctx context.Context, t *testing.T, names []string) []string {
	t.Helper()
	due := s.earliestRefresh(ctx, t, names)
	var wave []string
	for _, n := range names {
		conn, err := s.connection(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if next := conn.Status.NextRefreshTime; next != nil && next.Time.Before(due.Add(time.Second)) {
			wave = append(wave, n)
		}
	}
	return wave
}

// awaitWave waits until lead before the earliest scheduled refresh of the named
// connections and returns that moment and the refresh call count then.
func (s *stack) awaitWave(ctx context.Context, t *testing.T, names []string, lead time.Duration) (time.Time, int) {
	t.Helper()
	due := s.earliestRefresh(ctx, t, names)
	waitUntil(t, due.Add(-lead))
	return time.Now(), s.calls(ctx, t)[sandbox.EndpointRefresh]
}

// earliestRefresh returns the earliest status.nextRefreshTime of the named connections.
func (s *stack) earliestRefresh(ctx context.Context, t *testing.T, names []string) time.Time {
	t.Helper()
	var due time.Time
	for _, n := range names {
		conn, err := s.connection(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if next := conn.Status.NextRefreshTime; next != nil && (due.IsZero() || next.Time.Before(due)) {
			due = next.Time
		}
	}
	if due.IsZero() {
		t.Fatal("no connection has a refresh scheduled")
	}
	return due
}

// waitUntil returns at time at, polling the clock: the wait is for a moment the processes
// under test scheduled, not a guess.
func waitUntil(t *testing.T, at time.Time) {
	t.Helper()
	if d := time.Until(at); d > time.Minute {
		t.Fatalf("asked to wait %s", d)
	}
	NewWithT(t).Eventually(time.Now).WithTimeout(time.Until(at) + time.Second).WithPolling(20 * time.Millisecond).Should(BeTemporally(">=", at))
}

// requireRefreshedSinceWithin waits until every named connection's token was issued at or
// after since (less a second of rounding): the wave was completed, not skipped.
func (s *stack) requireRefreshedSinceWithin(ctx context.Context, t *testing.T, timeout time.Duration, since time.Time,
	names ...string) {
	t.Helper()
	defer func() {
		if t.Failed() {
			s.dump(ctx, t, names...)
		}
	}()
	NewWithT(t).Eventually(func(g Gomega) {
		for _, n := range names {
			conn, err := s.connection(ctx, n)
			g.Expect(err).NotTo(HaveOccurred())
			st := conn.Status.TokenIssuedAt
			refreshed := st != nil && !st.Time.Before(since.Add(-time.Second))
			g.Expect(refreshed).To(BeTrue(), "%s: token issued at %v", n, st)
		}
	}).WithTimeout(timeout).WithPolling(200*time.Millisecond).Should(Succeed(), "every token refreshed since %s", since.Format(time.RFC3339Nano))
}

// leaderMetric is the controller-runtime gauge that is 1 on the replica that leads.
const leaderMetric = `leader_election_master_status{name="igconnect.instagram.igconnect.dev"}`

// awaitLeader waits until one of ms leads and returns its index.
func awaitLeader(ctx context.Context, t *testing.T, ms []*devenv.Manager, timeout time.Duration) int {
	t.Helper()
	leader := -1
	NewWithT(t).Eventually(func() bool {
		for i, m := range ms {
			if isLeader(ctx, m) {
				leader = i
				return true
			}
		}
		return false
	}).WithTimeout(timeout).WithPolling(200*time.Millisecond).Should(BeTrue(), "a leader: no replica reports %s 1", leaderMetric)
	return leader
}

// isLeader reads the leader gauge from a manager's metrics endpoint.
func isLeader(ctx context.Context, m *devenv.Manager) bool {
	if !m.Running() {
		return false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.MetricsURL+"/metrics", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, leaderMetric) {
			return strings.TrimSpace(strings.TrimPrefix(line, leaderMetric)) == "1"
		}
	}
	return false
}

// dump logs the status and Secret of the named connections, for a failure's report.
func (s *stack) dump(ctx context.Context, t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		conn, err := s.connection(ctx, n)
		if err != nil {
			t.Logf("%s: %v", n, err)
			continue
		}
		_, secret, err := s.token(ctx, conn)
		var ann map[string]string
		if err == nil {
			ann = secret.Annotations
		}
		t.Logf("%s: rv %s, status %+v; Secret annotations %v", n, conn.ResourceVersion, conn.Status, ann)
	}
}
