package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// tracker follows every connection and Secret through informers: it answers "are all N
// connections of a namespace in a state yet" without polling the API server, and counts
// every change it sees, which is how the idle scenario sees writes.
type tracker struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	conns map[string]seenConn // namespace/name → latest
	// added counts the additions of each connection (namespace/name), deleted its deletions.
	added, deleted map[string]int

	// connChanges and secretChanges count add, update and delete notifications.
	connChanges, secretChanges atomic.Int64
}

// startTracker starts the informers and waits until they have listed.
func startTracker(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme) (*tracker, error) {
	c, err := cache.New(cfg, cache.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	t := &tracker{cancel: cancel, done: make(chan struct{}), conns: map[string]seenConn{},
		added: map[string]int{}, deleted: map[string]int{}}
	connInf, err := c.GetInformer(ctx, &igv1.InstagramConnection{})
	if err != nil {
		cancel()
		return nil, err
	}
	if _, err := connInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if conn, ok := obj.(*igv1.InstagramConnection); ok {
				t.connChanges.Add(1)
				t.mu.Lock()
				t.conns[key(conn)] = seenConn{conn, time.Now()}
				t.added[key(conn)]++
				t.mu.Unlock()
			}
		},
		UpdateFunc: func(_, obj any) {
			if conn, ok := obj.(*igv1.InstagramConnection); ok {
				t.connChanges.Add(1)
				t.mu.Lock()
				t.conns[key(conn)] = seenConn{conn, time.Now()}
				t.mu.Unlock()
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if conn, ok := obj.(*igv1.InstagramConnection); ok {
				t.connChanges.Add(1)
				t.mu.Lock()
				delete(t.conns, key(conn))
				t.deleted[key(conn)]++
				t.mu.Unlock()
			}
		},
	}); err != nil {
		cancel()
		return nil, err
	}
	secretInf, err := c.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		cancel()
		return nil, err
	}
	count := func(any) { t.secretChanges.Add(1) }
	if _, err := secretInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: count, DeleteFunc: count, UpdateFunc: func(_, obj any) { count(obj) },
	}); err != nil {
		cancel()
		return nil, err
	}
	go func() {
		defer close(t.done)
		_ = c.Start(ctx)
	}()
	if !c.WaitForCacheSync(ctx) {
		cancel()
		return nil, fmt.Errorf("the harness's informers did not sync")
	}
	return t, nil
}

// stop ends the informers.
func (t *tracker) stop() {
	t.cancel()
	<-t.done
}

func key(o metav1.Object) string { return o.GetNamespace() + "/" + o.GetName() }

// seenConn is a connection as last seen, and when.
type seenConn struct {
	conn *igv1.InstagramConnection
	at   time.Time
}

// counts returns how many connections of namespace ns there are, how many satisfy pred,
// and when the last change among those was seen.
func (t *tracker) counts(ns string, pred func(*igv1.InstagramConnection) bool) (total, ok int, last time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.conns {
		if c.conn.Namespace != ns {
			continue
		}
		total++
		if pred(c.conn) {
			ok++
			if c.at.After(last) {
				last = c.at
			}
		}
	}
	return total, ok, last
}

// connections returns the connections of namespace ns.
func (t *tracker) connections(ns string) []*igv1.InstagramConnection {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*igv1.InstagramConnection
	for _, c := range t.conns {
		if c.conn.Namespace == ns {
			out = append(out, c.conn)
		}
	}
	return out
}

// history returns how often the connection ns/name was added and deleted.
func (t *tracker) history(ns, name string) (added, deleted int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.added[ns+"/"+name], t.deleted[ns+"/"+name]
}

// waitAll waits until namespace ns holds n connections that all satisfy pred, and returns
// when the informer saw the last of them change. progress, when set, is called about every
// 5 seconds.
func (t *tracker) waitAll(ctx context.Context, ns string, n int, timeout time.Duration,
	pred func(*igv1.InstagramConnection) bool, progress func(total, ok int)) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	lastProgress := time.Now()
	for {
		total, ok, last := t.counts(ns, pred)
		if total == n && ok == n {
			return last, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("after %s, %d of %d connections in %s are there and %d are done",
				timeout, total, n, ns, ok)
		}
		if progress != nil && time.Since(lastProgress) > 5*time.Second {
			progress(total, ok)
			lastProgress = time.Now()
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(50 * time.Millisecond): // a scan of 10,000 costs about a millisecond
		}
	}
}

// isReady reports Ready=True.
func isReady(c *igv1.InstagramConnection) bool {
	return meta.IsStatusConditionTrue(c.Status.Conditions, igv1.ConditionReady)
}
