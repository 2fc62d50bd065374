package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// ownWrites remembers the resourceVersion of this reconciler's last write of each object:
// of each token Secret, and of each connection's status. It is an optimisation: without it
// every echo is one more reconcile, each a no-op or a conflict retried, and nothing is lost
// (TestOwnWritesDropsOnlyTheEchoOfTheLastWrite and TestOwnWritesBehind fail without it, and
// make bench's status writes and GETs per import grow).
//
// The watch on owned Secrets sends a Secret write straight back; the reconcile that
// made it is already finishing the job with the status patch, so a second reconcile would
// only re-read the Secret (often from the API server, before the cache has it) and, reading
// a connection whose status patch the cache has not seen yet, patch a stale status and fail
// with a conflict. Measured on an import wave, that echo cost half a status write and one
// GET per connection (BENCHMARKS.md).
//
// Only an event for exactly the object written is dropped: any later change by anyone else
// has another resourceVersion and is reconciled as before, and a write whose reconcile then
// fails is retried by that reconcile's requeue, not by its echo.
//
// The echo can also beat the writer to record (the watch event and the write's answer
// travel separately). For that case, and for any other reconcile that reads a connection
// from a cache that has not yet seen this reconciler's last status patch, the status write
// is remembered too: such a reconcile waits for the cache (behind) instead of computing a
// patch that the optimistic lock would refuse.
type ownWrites struct {
	mu sync.Mutex
	rv map[types.NamespacedName]written
	// clock is the reconciler's, which times behind's give-up.
	clock clock.PassiveClock
}

// written is one remembered write.
type written struct {
	rv string
	at time.Time
}

// cacheLagLimit is how long behind waits for the cache to reach a write before it stops
// believing the write: a watch event takes milliseconds, so a cache still older after this
// long is not catching up to it (an etcd restored from a backup goes back in
// resourceVersions), and a reconcile must not wait for it forever.
const cacheLagLimit = 30 * time.Second

func newOwnWrites(clk clock.PassiveClock) *ownWrites {
	return &ownWrites{rv: map[types.NamespacedName]written{}, clock: clk}
}

// record notes that obj, as the API server returned it, was written by this reconciler.
func (o *ownWrites) record(obj client.Object) {
	if o == nil || obj.GetResourceVersion() == "" {
		return
	}
	o.mu.Lock()
	o.rv[client.ObjectKeyFromObject(obj)] = written{rv: obj.GetResourceVersion(), at: o.clock.Now()}
	o.mu.Unlock()
}

// echo reports whether obj is exactly what this reconciler last wrote.
func (o *ownWrites) echo(obj client.Object) bool {
	if o == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.rv[client.ObjectKeyFromObject(obj)]
	return ok && w.rv == obj.GetResourceVersion()
}

// behind reports whether obj, as read from the cache, is older than what this reconciler
// last wrote: the cache has not caught up with the write yet. Resource versions are
// compared as the API server defines them (k8s.io/apimachinery/pkg/util/resourceversion);
// one that does not parse is never called behind, and neither is anything after
// cacheLagLimit.
func (o *ownWrites) behind(obj client.Object) bool {
	if o == nil {
		return false
	}
	key := client.ObjectKeyFromObject(obj)
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.rv[key]
	if !ok {
		return false
	}
	if o.clock.Since(w.at) > cacheLagLimit {
		delete(o.rv, key)
		return false
	}
	cmp, err := resourceversion.CompareResourceVersion(obj.GetResourceVersion(), w.rv)
	return err == nil && cmp < 0
}

// forget drops a deleted object, so the map holds only live ones.
func (o *ownWrites) forget(obj client.Object) {
	if o == nil {
		return
	}
	o.mu.Lock()
	delete(o.rv, client.ObjectKeyFromObject(obj))
	o.mu.Unlock()
}

// predicate drops the watch events that echo this reconciler's own Secret writes. A Secret
// the reconciler labels for the first time reaches the label-filtered cache as a create
// event, so creates are checked as well as updates.
func (o *ownWrites) predicate() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return !o.echo(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool { return !o.echo(e.ObjectNew) },
		DeleteFunc: func(e event.DeleteEvent) bool {
			o.forget(e.Object)
			return true
		},
		GenericFunc: func(event.GenericEvent) bool { return true },
	}
}
