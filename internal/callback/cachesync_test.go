package callback

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// cacheGate stands in for the manager cache's WaitForCacheSync: closed until open is
// closed, and it counts who asked.
type cacheGate struct {
	open  chan struct{}
	calls atomic.Int32
}

func (g *cacheGate) wait(ctx context.Context) bool {
	g.calls.Add(1)
	select {
	case <-g.open:
		return true
	case <-ctx.Done():
		return false
	}
}

// At start-up the manager serves HTTP before its caches have synced. A callback that
// arrives then waits for them instead of failing, and /readyz says not ready meanwhile.
func TestCallbackWaitsForTheCachesAtStartup(t *testing.T) {
	g := NewWithT(t)
	gate := &cacheGate{open: make(chan struct{})}
	e := newEnv(t, envOptions{configure: func(c *Config) { c.WaitForCacheSync = gate.wait }})
	b := e.newBrowser()

	g.Expect(b.get(ReadyzPath).status).To(Equal(http.StatusServiceUnavailable))
	g.Expect(b.get(HealthzPath).status).To(Equal(http.StatusOK), "liveness does not depend on the caches")

	// Starting a login reads nothing cached, so it does not wait.
	state := b.start("").Query().Get("state")
	u := e.srv.URL + CallbackPath + callbackQuery(e.code(""), state)
	answered := make(chan int, 1)
	go func() {
		resp, err := b.c.Get(u)
		if err != nil {
			answered <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		answered <- resp.StatusCode
	}()
	// The readyz probe asked once; the callback is the second.
	g.Eventually(gate.calls.Load).Should(BeNumerically(">=", 2))
	g.Expect(answered).NotTo(Receive(), "the callback must wait for the caches")
	g.Expect(e.connection(connNS, "ig-"+defaultUserID)).To(BeNil(), "nothing happens before the caches sync")

	close(gate.open)
	g.Eventually(answered).WithTimeout(10 * time.Second).Should(Receive(Equal(http.StatusOK)))
	g.Expect(e.connection(connNS, "ig-"+defaultUserID)).NotTo(BeNil())
	g.Expect(b.get(ReadyzPath).status).To(Equal(http.StatusOK))
}

// A callback whose wait for the caches runs out is refused before anything is spent: the
// code is not exchanged and the state not marked used, so reloading the page completes
// the login once the caches are there.
func TestCallbackBeforeTheCachesSyncChangesNothing(t *testing.T) {
	var synced atomic.Bool
	e := newEnv(t, envOptions{configure: func(c *Config) {
		c.WaitForCacheSync = func(context.Context) bool { return synced.Load() }
	}})
	b := e.newBrowser()
	state := b.start("").Query().Get("state")
	path := CallbackPath + callbackQuery(e.code(""), state)
	before := e.snapshot()

	r := b.get(path)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "5" {
		t.Fatalf("status %d, Retry-After %q; want 503 asking to retry in 5 s; page %s",
			r.status, r.header.Get("Retry-After"), pageText(r.body))
	}
	for _, want := range []string{"igconnect is starting", "Nothing was changed", "Reload this page", codeStarting} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page does not say %q: %s", want, pageText(r.body))
		}
	}
	if after := e.snapshot(); after != before {
		t.Errorf("a refused callback wrote to the cluster:\nbefore %s\nafter  %s", before, after)
	}

	synced.Store(true)
	if r := b.get(path); r.status != http.StatusOK {
		t.Fatalf("reloading after the caches synced: status %d; page %s", r.status, pageText(r.body))
	}
	if e.connection(connNS, "ig-"+defaultUserID) == nil {
		t.Errorf("the reloaded callback created no connection")
	}
}
