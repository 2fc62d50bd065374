package controller

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// emitStepEvents emits the events of what the reconcile did whatever becomes of its status
// write: a renewal stored in the Secret is done, and is told even if status is not.
func (r *InstagramConnectionReconciler) emitStepEvents(s *scope) {
	if s.refreshedEvent != "" {
		r.Recorder.Eventf(s.conn, nil, corev1.EventTypeNormal, igv1.ReasonRefreshed, "Refresh", "%s", s.refreshedEvent)
	}
}

// emitEvents emits the events of one reconcile whose status was written (or needed no
// write), going from s.before to s.conn.
//
// Events mirror the condition reasons: one whenever Ready or Degraded changes reason,
// Normal for Ready=True and for awaiting the first login, Warning for failures. An import
// that leaves the connection Ready is told in one Normal Connected event that names the
// Secret, whether or not Ready changed: a separate Imported event would double the event
// writes of a bulk import, which are as many as its Secret and status writes. A wait for
// the Secret of a login that is completing (step.quiet) is not told at all.
func (r *InstagramConnectionReconciler) emitEvents(s *scope, note *importNote) {
	before, after := s.before, s.conn
	ready := meta.FindStatusCondition(after.Status.Conditions, igv1.ConditionReady)
	imported := note != nil && ready != nil && ready.Status == metav1.ConditionTrue
	for _, typ := range []string{igv1.ConditionReady, igv1.ConditionDegraded} {
		old := meta.FindStatusCondition(before.Status.Conditions, typ)
		cur := meta.FindStatusCondition(after.Status.Conditions, typ)
		if cur == nil || (old != nil && old.Status == cur.Status && old.Reason == cur.Reason) {
			continue
		}
		if typ == igv1.ConditionDegraded && cur.Status != metav1.ConditionTrue {
			continue // recovery shows as the Refreshed or Connected event
		}
		if typ == igv1.ConditionReady && (imported || s.final.quiet) {
			continue // the import's Connected event below; or nothing to tell yet
		}
		eventType := corev1.EventTypeWarning
		if typ == igv1.ConditionReady && (cur.Status == metav1.ConditionTrue || cur.Reason == igv1.ReasonAwaitingAuthorization) {
			// Awaiting the first login is the normal start of a connection, not a failure.
			eventType = corev1.EventTypeNormal
		}
		r.Recorder.Eventf(after, nil, eventType, cur.Reason, "Reconcile", "%s", cur.Message)
	}
	if imported {
		r.Recorder.Eventf(after, note.secret, corev1.EventTypeNormal, igv1.ReasonConnected, "Import", "%s; %s",
			note.what, ready.Message)
	}
}

// unannouncedImports keeps, per connection, the note of an import whose reconcile could
// not write its status, so no event told of it. The import itself is done (the Secret is
// igconnect's now), so the next reconcile sees a managed token and would not know to tell
// it; it takes the note from here instead. In memory only: a restart loses it, and the
// import goes untold, as events are best effort. The zero value is ready to use.
type unannouncedImports struct {
	mu sync.Mutex
	m  map[types.NamespacedName]unannouncedImport
}

// unannouncedImport is one kept note, for the connection with uid.
type unannouncedImport struct {
	uid  types.UID
	note importNote
}

// keep records the import note of a reconcile of conn whose status was not written.
func (u *unannouncedImports) keep(conn *igv1.InstagramConnection, note *importNote) {
	if note == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[types.NamespacedName]unannouncedImport{}
	}
	u.m[types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}] = unannouncedImport{uid: conn.UID, note: *note}
}

// take returns and forgets the note kept for conn, if any.
func (u *unannouncedImports) take(conn *igv1.InstagramConnection) *importNote {
	u.mu.Lock()
	defer u.mu.Unlock()
	key := types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
	kept, ok := u.m[key]
	delete(u.m, key)
	if !ok || kept.uid != conn.UID {
		return nil
	}
	return &kept.note
}

// forget drops what is kept for the connection.
func (u *unannouncedImports) forget(key types.NamespacedName) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, key)
}
