package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
)

// NewEventRecorder returns the recorder of the reconciler's events (events.k8s.io/v1) as
// reporting controller name, sending them until ctx ends. The manager and the envtest
// suite both use it, so tests exercise the recorder production runs.
//
// It is the recorder the manager would give (the same broadcaster, reporting controller
// and sink), except that its client speaks protobuf where controller-runtime's speaks JSON:
// Event is a built-in type, which every API server serves in protobuf, and encoding it so
// costs the manager less (BENCHMARKS.md has the figures).
func NewEventRecorder(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, name string) (events.EventRecorder, error) {
	c := rest.CopyConfig(cfg)
	c.ContentType = runtime.ContentTypeProtobuf
	c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, err
	}
	b := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	if err := b.StartRecordingToSinkWithContext(ctx); err != nil {
		return nil, err
	}
	return b.NewRecorder(scheme, name), nil
}
