package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// eventNotes carries what a reconcile did that its events should tell but its conditions
// do not: so far, that it imported a token. Reconcile puts one in the context; the end of
// the reconcile reads it when it emits the events.
type eventNotes struct {
	// imported says whose token was imported from which Secret; empty if none was.
	imported string
}

type eventNotesKey struct{}

// withEventNotes returns a context that carries a fresh eventNotes, and the notes.
func withEventNotes(ctx context.Context) (context.Context, *eventNotes) {
	n := &eventNotes{}
	return context.WithValue(ctx, eventNotesKey{}, n), n
}

// noteImport records that the reconcile of ctx imported a token; what says what.
func noteImport(ctx context.Context, what string) {
	if n, ok := ctx.Value(eventNotesKey{}).(*eventNotes); ok {
		n.imported = what
	}
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
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, igv1.ReasonConnected, "Import", "%s; %s",
			notes.imported, ready.Message)
	}
}
