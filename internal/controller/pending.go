package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/igconnect/igconnect/internal/tokensecret"
)

// pendingRefreshes keeps, per connection, a token Instagram refreshed but the reconciler
// could not store: the Secret write failed (the API server away, a timeout). The next
// attempt stores it instead of refreshing again, which would cost an Instagram call per
// retry for as long as the API server is away, and mint a token each time. It lives in
// memory only: a restart loses it, and the old token, still valid, is refreshed once more.
// The zero value is ready to use.
type pendingRefreshes struct {
	mu sync.Mutex
	m  map[types.NamespacedName]pendingRefresh
}

// pendingRefresh is one refreshed token waiting to be stored.
type pendingRefresh struct {
	// uid is the connection's; a connection deleted and created again starts afresh.
	uid types.UID
	// basedOn is the token that was refreshed: the result is stored only while the Secret
	// still holds it, so a newer login always wins.
	basedOn string
	// rec is the Secret's content with the refreshed token.
	rec tokensecret.Record
	// at is when Instagram refreshed it.
	at time.Time
}

// keep records a refreshed token that could not be stored.
func (p *pendingRefreshes) keep(key types.NamespacedName, pr pendingRefresh) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[types.NamespacedName]pendingRefresh{}
	}
	p.m[key] = pr
}

// take returns the refreshed token kept for the connection if it replaces current, the
// token the Secret holds now; a kept token that no longer applies is dropped.
func (p *pendingRefreshes) take(key types.NamespacedName, uid types.UID, current string) (pendingRefresh, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, ok := p.m[key]
	if !ok {
		return pendingRefresh{}, false
	}
	if pr.uid != uid || pr.basedOn != current {
		delete(p.m, key)
		return pendingRefresh{}, false
	}
	return pr, true
}

// holds reports whether a refreshed token is kept for the connection that replaces current.
func (p *pendingRefreshes) holds(key types.NamespacedName, uid types.UID, current string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, ok := p.m[key]
	return ok && pr.uid == uid && pr.basedOn == current
}

// forget drops what is kept for the connection.
func (p *pendingRefreshes) forget(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, key)
}
