package controller

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// eventNotes carries what a reconcile did that its events should tell but its conditions
// do not: so far, that it imported a token. Reconcile puts one in the context; the end of
// the reconcile reads it when it emits the events.
type eventNotes struct {
	// imported says whose token was imported from which Secret; empty if none was.
	imported string
	// secret is the Secret the token was imported from, the event's related object.
	secret runtime.Object
}

type eventNotesKey struct{}

// withEventNotes returns a context that carries notes, and notes.
func withEventNotes(ctx context.Context, notes *eventNotes) context.Context {
	return context.WithValue(ctx, eventNotesKey{}, notes)
}

// noteImport records that the reconcile of ctx imported a token from secret; what says
// whose and from where.
func noteImport(ctx context.Context, secret runtime.Object, what string) {
	if n, ok := ctx.Value(eventNotesKey{}).(*eventNotes); ok {
		n.imported, n.secret = what, secret
	}
}

// unannouncedImports keeps, per connection, the note of an import whose reconcile could
// not write its status, so no event told of it. The import itself is done (the Secret is
// igconnect's now), so the next reconcile sees a managed token and would not know to tell
// it; it takes the note from here instead. In memory only: a restart loses it. The zero
// value is ready to use.
type unannouncedImports struct {
	mu sync.Mutex
	m  map[types.NamespacedName]unannouncedImport
}

// unannouncedImport is one kept note, for the connection with uid.
type unannouncedImport struct {
	uid   types.UID
	notes eventNotes
}

// keep records notes of the connection conn if they tell of an import.
func (u *unannouncedImports) keep(conn *igv1.InstagramConnection, notes *eventNotes) {
	if notes == nil || notes.imported == "" {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[types.NamespacedName]unannouncedImport{}
	}
	u.m[types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}] = unannouncedImport{uid: conn.UID, notes: *notes}
}

// take returns fresh notes for a reconcile of conn, holding the import kept for it, if any.
func (u *unannouncedImports) take(conn *igv1.InstagramConnection) *eventNotes {
	u.mu.Lock()
	defer u.mu.Unlock()
	key := types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
	kept, ok := u.m[key]
	delete(u.m, key)
	if !ok || kept.uid != conn.UID {
		return &eventNotes{}
	}
	return &kept.notes
}

// forget drops what is kept for the connection.
func (u *unannouncedImports) forget(key types.NamespacedName) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, key)
}

// emitEvents emits the events of one reconcile, whose status went from before to after.
//
// Events mirror the condition reasons: one whenever Ready or Degraded changes reason,
// Normal for Ready=True and for awaiting the first login, Warning for failures. An import
// that leaves the connection Ready is told in one Normal Connected event that names the
// Secret, whether or not Ready changed: a separate Imported event would double the event
// writes of a bulk import, which are as many as its Secret and status writes.
func (r *InstagramConnectionReconciler) emitEvents(before, after *igv1.InstagramConnection, notes *eventNotes) {
	if r.Recorder == nil {
		return
	}
	ready := meta.FindStatusCondition(after.Status.Conditions, igv1.ConditionReady)
	imported := notes != nil && notes.imported != "" && ready != nil && ready.Status == metav1.ConditionTrue
	for _, typ := range []string{igv1.ConditionReady, igv1.ConditionDegraded} {
		old := meta.FindStatusCondition(before.Status.Conditions, typ)
		cur := meta.FindStatusCondition(after.Status.Conditions, typ)
		if cur == nil || (old != nil && old.Status == cur.Status && old.Reason == cur.Reason) {
			continue
		}
		if typ == igv1.ConditionDegraded && cur.Status != metav1.ConditionTrue {
			continue // recovery shows as the Refreshed or Connected event
		}
		if typ == igv1.ConditionReady && imported {
			continue // the import's Connected event below
		}
		eventType := corev1.EventTypeWarning
		if typ == igv1.ConditionReady && (cur.Status == metav1.ConditionTrue || cur.Reason == igv1.ReasonAwaitingAuthorization) {
			// Awaiting the first login is the normal start of a connection, not a failure.
			eventType = corev1.EventTypeNormal
		}
		r.Recorder.Eventf(after, nil, eventType, cur.Reason, "Reconcile", "%s", cur.Message)
	}
	if imported {
		r.Recorder.Eventf(after, notes.secret, corev1.EventTypeNormal, igv1.ReasonConnected, "Import", "%s; %s",
			notes.imported, ready.Message)
	}
}
