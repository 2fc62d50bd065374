package controller

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// validationFixture runs the reconciler on a fake client over a managed token issued 10 days
// ago and last validated at lastValidated, with the given validate interval.
func validationFixture(t *testing.T, now, lastValidated time.Time, interval time.Duration) (
	*InstagramConnectionReconciler, *countingInstagram, *clocktesting.FakeClock) {
	t.Helper()
	conn, secret := managedConnection(tokensecret.Record{AccessToken: "IGAAtoken", IssuedAt: now.Add(-10 * day),
		ExpiresAt: now.Add(50 * day), UserID: "17841400000000001", Username: "acme"})
	conn.Status = igv1.InstagramConnectionStatus{LastValidatedTime: timePtr(lastValidated)}
	c := fake.NewClientBuilder().WithScheme(unitScheme()).WithObjects(conn, secret).
		WithStatusSubresource(&igv1.InstagramConnection{}).Build()
	policy := DefaultPolicy()
	policy.ValidateInterval = interval
	clk := clocktesting.NewFakeClock(now)
	ig := &countingInstagram{}
	r := complete(t, &InstagramConnectionReconciler{
		Client: c, APIReader: c, Recorder: events.NewFakeRecorder(100), Clock: clk,
		Instagram: ig, Credentials: &appcreds.Resolver{Reader: c}, Policy: policy,
	})
	return r, ig, clk
}

var acme = ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "acme"}}

// TestReconcileRequeuesAtTheValidationTime: a token validated an hour ago is not validated,
// and the reconcile comes back exactly when the next validation is due (before the refresh).
func TestReconcileRequeuesAtTheValidationTime(t *testing.T) {
	now := t0
	r, ig, _ := validationFixture(t, now, now.Add(-time.Hour), 24*time.Hour)
	res, err := r.Reconcile(context.Background(), acme)
	if err != nil {
		t.Fatal(err)
	}
	if ig.calls != 0 {
		t.Errorf("%d Instagram calls for a token validated an hour ago", ig.calls)
	}
	got := &igv1.InstagramConnection{}
	if err := r.Get(context.Background(), acme.NamespacedName, got); err != nil {
		t.Fatal(err)
	}
	want := r.Policy.DecideValidation(validationInputOf(got, now)).At
	if at := now.Add(res.RequeueAfter); !at.Equal(want) {
		t.Errorf("requeue lands at %v, want the next validation %v", at, want)
	}
	if d := want.Sub(now); d < 23*time.Hour || d > 23*time.Hour+r.Policy.MaxOffset {
		t.Errorf("next validation in %v, want 23h plus the connection's offset", d)
	}
}

// TestValidateIntervalZeroMakesNoCall: with --validate-interval 0 a Ready token is never
// validated, however long it waits; only its refresh calls Instagram.
func TestValidateIntervalZeroMakesNoCall(t *testing.T) {
	now := t0
	r, ig, clk := validationFixture(t, now, now.Add(-10*day), 0)
	for range 20 {
		if _, err := r.Reconcile(context.Background(), acme); err != nil {
			t.Fatal(err)
		}
		clk.Step(day / 2)
	}
	if ig.calls != 0 {
		t.Errorf("%d Instagram calls over ten days with validation off", ig.calls)
	}
	got := &igv1.InstagramConnection{}
	if err := r.Get(context.Background(), acme.NamespacedName, got); err != nil {
		t.Fatal(err)
	}
	if !got.Status.LastValidatedTime.Time.Equal(now.Add(-10 * day)) {
		t.Errorf("lastValidatedTime %v changed without a validation", got.Status.LastValidatedTime)
	}
}

// validationInputOf is the validation input of conn at now with nothing done yet: what a
// reconcile starting at now sees.
func validationInputOf(conn *igv1.InstagramConnection, now time.Time) login.ValidationInput {
	s := newScope(conn, now)
	s.rec.IssuedAt = conn.Status.TokenIssuedAt.Time
	return s.validationInput()
}
