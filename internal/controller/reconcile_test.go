package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// loginFlowUnused fills in the calls of a login, which the reconciler never makes, for the
// fakes of Instagram below.
type loginFlowUnused struct{}

func (loginFlowUnused) AuthorizeURL(string, string, []string, string) string { return "" }

func (loginFlowUnused) ExchangeCode(context.Context, instagram.App, string, string) (instagram.ShortLivedToken, error) {
	return instagram.ShortLivedToken{}, errors.New("unexpected code exchange")
}

// complete finishes setting up a reconciler built without a manager, as SetupWithManager does.
func complete(t *testing.T, r *InstagramConnectionReconciler) *InstagramConnectionReconciler {
	t.Helper()
	if err := r.complete(); err != nil {
		t.Fatal(err)
	}
	return r
}

// countingInstagram counts the calls; the connections here are not due, so the test
// checks there are none.
type countingInstagram struct {
	loginFlowUnused
	calls int
}

func (c *countingInstagram) ExchangeForLongLived(context.Context, instagram.App, string) (instagram.LongLivedToken, error) {
	c.calls++
	return instagram.LongLivedToken{}, nil
}

func (c *countingInstagram) RefreshToken(context.Context, string) (instagram.LongLivedToken, error) {
	c.calls++
	return instagram.LongLivedToken{}, nil
}

func (c *countingInstagram) Profile(context.Context, string) (instagram.Profile, error) {
	c.calls++
	return instagram.Profile{}, nil
}

// unitScheme is the scheme of the tests that run the reconciler on a fake client.
func unitScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = igv1.AddToScheme(scheme)
	return scheme
}

// TestReconcileRequeuesAtTheRefreshTime shows the schedule reaches the work queue: a managed
// token that is not due gives a RequeueAfter that lands exactly on status.nextRefreshTime,
// and no Instagram call.
func TestReconcileRequeuesAtTheRefreshTime(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	scheme := unitScheme()

	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "ns", UID: "uid-acme", Generation: 1},
		Spec:       igv1.InstagramConnectionSpec{SecretName: "acme-token"},
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-token", Namespace: "ns",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: igv1.GroupVersion.String(), Kind: "InstagramConnection",
			Name: "acme", UID: "uid-acme", Controller: func() *bool { b := true; return &b }()}}}}
	tokensecret.Apply(secret, "acme", nil, tokensecret.Record{AccessToken: "IGAAtoken", IssuedAt: now.Add(-10 * day),
		ExpiresAt: now.Add(50 * day), UserID: "17841400000000001", Username: "acme"})

	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(conn, secret).
		WithStatusSubresource(&igv1.InstagramConnection{}).Build()
	ig := &countingInstagram{}
	r := complete(t, &InstagramConnectionReconciler{
		Client: c, APIReader: c, Recorder: events.NewFakeRecorder(10), Clock: clocktesting.NewFakeClock(now),
		Instagram: ig, Credentials: &appcreds.Resolver{Reader: c}, Policy: DefaultPolicy(),
	})
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	got := &igv1.InstagramConnection{}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: "acme"}, got); err != nil {
		t.Fatal(err)
	}
	next := got.Status.NextRefreshTime.Time
	if !next.Equal(now.Add(res.RequeueAfter)) {
		t.Errorf("RequeueAfter %v lands at %v, want status.nextRefreshTime %v", res.RequeueAfter, now.Add(res.RequeueAfter), next)
	}
	if want := now.Add(30 * day); next.Before(want) || next.After(want.Add(DefaultPolicy().MaxOffset)) {
		t.Errorf("next refresh %v, want day 40 of the token (%v) plus the connection's offset", next, want)
	}
	if ig.calls != 0 {
		t.Errorf("%d Instagram calls for a token that is not due", ig.calls)
	}
}
