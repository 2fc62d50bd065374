package oauthstate

import (
	"container/heap"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// DefaultReplayCapacity is the number of nonces a ReplayGuard keeps when NewReplayGuard is
// given no capacity: far more logins than a state's lifetime sees, at a few MiB at most.
const DefaultReplayCapacity = 100_000

// ReplayGuard remembers the nonces of states already used, until those states expire, so a
// state is accepted once. It is safe for concurrent use.
//
// It is per replica: a state replayed against another replica passes. That gap is closed by
// Instagram, where the authorization code the state travels with is single-use. The guard
// stops the cheaper replays (a reloaded or re-sent callback URL) before any call to Instagram.
//
// It is bounded. When full it forgets expired nonces first and then the nonce closest to
// expiry, preferring to weaken replay protection for one nearly expired state over refusing
// every new login while someone floods the callback.
type ReplayGuard struct {
	clk      clock.PassiveClock
	capacity int

	mu    sync.Mutex
	used  map[string]struct{}
	queue expiryQueue
}

// NewReplayGuard returns an empty guard that holds at most capacity nonces
// (DefaultReplayCapacity if capacity is not positive) and reads the time from clk.
func NewReplayGuard(clk clock.PassiveClock, capacity int) *ReplayGuard {
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	return &ReplayGuard{clk: clk, capacity: capacity, used: make(map[string]struct{})}
}

// Use records nonce, the nonce of a state that expires at expiresAt. It returns ErrReplayed if
// nonce was recorded before, ErrExpired if expiresAt has passed (a nonce that could no longer
// be recorded must not be accepted either), and ErrMalformed for an empty nonce.
func (g *ReplayGuard) Use(nonce string, expiresAt time.Time) error {
	if nonce == "" {
		return malformed("empty nonce")
	}
	now := g.clk.Now()
	if !expiresAt.After(now) {
		return ErrExpired
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if _, seen := g.used[nonce]; seen {
		return ErrReplayed
	}
	for len(g.queue) > 0 && !g.queue[0].expiresAt.After(now) {
		g.forgetSoonest()
	}
	if len(g.queue) >= g.capacity {
		g.forgetSoonest()
	}
	g.used[nonce] = struct{}{}
	heap.Push(&g.queue, usedNonce{nonce: nonce, expiresAt: expiresAt})
	return nil
}

// Len returns the number of nonces currently remembered, for metrics and tests.
func (g *ReplayGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.used)
}

// forgetSoonest drops the nonce that expires first. The caller holds g.mu.
func (g *ReplayGuard) forgetSoonest() {
	oldest := heap.Pop(&g.queue).(usedNonce)
	delete(g.used, oldest.nonce)
}

// usedNonce is one remembered nonce and the moment it may be forgotten.
type usedNonce struct {
	nonce     string
	expiresAt time.Time
}

// expiryQueue is a min-heap of nonces by expiry, so expired nonces are found without a scan.
type expiryQueue []usedNonce

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].expiresAt.Before(q[j].expiresAt) }
func (q expiryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)        { *q = append(*q, x.(usedNonce)) }
func (q *expiryQueue) Pop() any {
	old := *q
	last := old[len(old)-1]
	*q = old[:len(old)-1]
	return last
}
