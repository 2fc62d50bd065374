package callback

import (
	"context"
	"net/http"
	"time"
)

// Bounds on waiting for the manager's caches (Config.WaitForCacheSync).
const (
	// CacheWaitTimeout bounds how long a request that reads the cache waits for the
	// caches at start-up. Listing every connection and labelled Secret of a large cluster
	// takes seconds; a browser waits that long for a page, and a request still waiting
	// after this is answered 503 with nothing changed, so reloading the page works.
	CacheWaitTimeout = 20 * time.Second
	// readyzCacheWait bounds how long /readyz looks: a probe must answer within its own
	// timeout (one second by default), so it reports what it sees now.
	readyzCacheWait = 200 * time.Millisecond
)

// cacheReady reports whether the manager's caches have synced, waiting up to limit for
// them. Once they have, it answers true without asking again: the caches stay synced
// for the life of the process.
func (s *server) cacheReady(ctx context.Context, limit time.Duration) bool {
	if s.cfg.WaitForCacheSync == nil || s.cacheSynced.Load() {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if !s.cfg.WaitForCacheSync(ctx) {
		return false
	}
	s.cacheSynced.Store(true)
	return true
}

// readyz answers the readiness probe: ready once the caches the server reads have
// synced, so a Service sends no login to a replica that would have to hold it.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) *failure {
	if !s.cacheReady(r.Context(), readyzCacheWait) {
		return errStarting()
	}
	return probe(w, r)
}
