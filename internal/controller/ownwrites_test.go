package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

func secretAt(rv string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tok", ResourceVersion: rv}}
}

func TestOwnWritesDropsOnlyTheEchoOfTheLastWrite(t *testing.T) {
	o := newOwnWrites(clocktesting.NewFakeClock(t0))
	p := o.predicate()
	if !p.Update(event.UpdateEvent{ObjectOld: secretAt("9"), ObjectNew: secretAt("10")}) {
		t.Fatal("a change the reconciler did not write must be reconciled")
	}
	o.record(secretAt("10"))
	if p.Update(event.UpdateEvent{ObjectOld: secretAt("9"), ObjectNew: secretAt("10")}) {
		t.Error("the echo of the reconciler's own update must be dropped")
	}
	if p.Create(event.CreateEvent{Object: secretAt("10")}) {
		t.Error("the echo of a first labelling (a create in the filtered cache) must be dropped")
	}
	if !p.Update(event.UpdateEvent{ObjectOld: secretAt("10"), ObjectNew: secretAt("11")}) {
		t.Error("a later change by someone else must be reconciled")
	}
	if !p.Delete(event.DeleteEvent{Object: secretAt("10")}) {
		t.Error("a deletion must be reconciled")
	}
	if o.echo(secretAt("10")) {
		t.Error("a deleted Secret must be forgotten")
	}
	var none *ownWrites
	none.record(secretAt("1"))
	if none.echo(secretAt("1")) || none.behind(secretAt("0")) {
		t.Error("a reconciler built without SetupWithManager drops nothing")
	}
}

func TestOwnWritesBehind(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	o := newOwnWrites(clk)
	o.record(secretAt("100"))
	for rv, want := range map[string]bool{"99": true, "100": false, "101": false, "not-a-number": false} {
		if got := o.behind(secretAt(rv)); got != want {
			t.Errorf("behind(rv %s) after a write at 100 = %v, want %v", rv, got, want)
		}
	}
	if o.behind(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "other", ResourceVersion: "1"}}) {
		t.Error("an object the reconciler never wrote is never behind")
	}
	// A cache that has not caught up long after the write never will (an etcd restored
	// from a backup): the reconcile must go on.
	clk.Step(cacheLagLimit + time.Second)
	if o.behind(secretAt("99")) {
		t.Error("behind must give up after cacheLagLimit")
	}
}
