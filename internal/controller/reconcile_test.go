package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/login"
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

	conn, secret := managedConnection(tokensecret.Record{AccessToken: "IGAAtoken", IssuedAt: now.Add(-10 * day),
		ExpiresAt: now.Add(50 * day), UserID: "17841400000000001", Username: "acme"})

	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(conn, secret).
		WithStatusSubresource(&igv1.InstagramConnection{}).Build()
	ig := &countingInstagram{}
	policy := DefaultPolicy()
	policy.ValidateInterval = 0 // the validation's requeue has its own test (validate_test.go)
	r := complete(t, &InstagramConnectionReconciler{
		Client: c, APIReader: c, Recorder: events.NewFakeRecorder(10), Clock: clocktesting.NewFakeClock(now),
		Instagram: ig, Credentials: &appcreds.Resolver{Reader: c}, Policy: policy,
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

// TestReconcileReturnsNoResultWithAnError: controller-runtime ignores a Result returned
// together with an error (and warns), so the error's back-off alone must decide the retry.
// Here the reconcile would requeue at the refresh time, and then the status patch fails;
// and a status conflict (normally a short requeue) meets a failed Secret write.
func TestReconcileReturnsNoResultWithAnError(t *testing.T) {
	now := t0
	conn, secret := managedConnection(tokensecret.Record{AccessToken: "IGAAtoken", IssuedAt: now.Add(-50 * day),
		ExpiresAt: now.Add(10 * day), UserID: "17841400000000001", Username: "acme"})
	for _, tc := range []struct {
		name             string
		statusErr        error
		secretWriteFails bool
	}{
		{"status patch fails after a requeue was computed", apierrors.NewServiceUnavailable("away"), false},
		{"status conflict after a failed Secret write", apierrors.NewConflict(schema.GroupResource{Resource: "x"}, "acme",
			errors.New("changed")), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issued := now.Add(-10 * day)
			if tc.secretWriteFails {
				issued = now.Add(-50 * day) // due: the refresh is stored, and that write fails
			}
			s := secret.DeepCopy()
			tokensecret.Apply(s, "acme", nil, tokensecret.Record{AccessToken: "IGAAtoken", IssuedAt: issued,
				ExpiresAt: issued.Add(60 * day), UserID: "17841400000000001", Username: "acme"})
			c := fake.NewClientBuilder().WithScheme(unitScheme()).WithObjects(conn.DeepCopy(), s).
				WithStatusSubresource(&igv1.InstagramConnection{}).
				WithInterceptorFuncs(interceptor.Funcs{
					SubResourcePatch: func(context.Context, client.Client, string, client.Object, client.Patch,
						...client.SubResourcePatchOption) error {
						return tc.statusErr
					},
					Apply: func(context.Context, client.WithWatch, runtime.ApplyConfiguration, ...client.ApplyOption) error {
						return apierrors.NewServiceUnavailable("away")
					},
				}).Build()
			r := complete(t, &InstagramConnectionReconciler{
				Client: c, APIReader: c, Recorder: events.NewFakeRecorder(10), Clock: clocktesting.NewFakeClock(now),
				Instagram: &refreshingInstagram{}, Credentials: &appcreds.Resolver{Reader: c}, Policy: DefaultPolicy(),
			})
			res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "acme"}})
			if err == nil {
				t.Fatal("no error")
			}
			if res != (ctrl.Result{}) {
				t.Errorf("Result %+v returned with error %v", res, err)
			}
		})
	}
}

// validatingLogin is a login kind whose tokens never expire and are validated daily rather
// than refreshed (the shape of Facebook Login, docs/architecture.md).
type validatingLogin struct {
	renewals int
}

func (*validatingLogin) Kind() login.Kind { return "ValidatingLogin" }
func (*validatingLogin) AuthorizeURL(login.App, string, []string, string) string {
	return "https://login.example.test/dialog"
}
func (*validatingLogin) Complete(context.Context, login.App, string, string, time.Time) ([]login.Grant, error) {
	return nil, errors.New("unused")
}
func (*validatingLogin) Identify(context.Context, string) (login.Identity, error) {
	return login.Identity{}, errors.New("unused")
}
func (*validatingLogin) Upgrade(context.Context, login.App, string, time.Time) (login.Token, bool, error) {
	return login.Token{}, false, nil
}

// Schedule makes a validation due a day after the last one.
func (*validatingLogin) Schedule(in login.RefreshInput) login.RefreshDecision {
	at := in.IssuedAt.Add(day)
	return login.RefreshDecision{Due: !in.Now.Before(at), At: at}
}

// Renew validates: the same token, checked now.
func (l *validatingLogin) Renew(_ context.Context, token string, now time.Time) (login.Token, error) {
	l.renewals++
	return login.Token{AccessToken: token, IssuedAt: now.Truncate(time.Second)}, nil
}
func (*validatingLogin) Classify(error) login.Failure {
	return login.Failure{Degraded: igv1.ReasonInstagramUnavailable}
}

// TestAnotherLoginKindRenewsThroughTheSeam: the state machine runs a login kind whose token
// never expires and is validated on the login's own schedule, with no branch for it.
func TestAnotherLoginKindRenewsThroughTheSeam(t *testing.T) {
	now := t0
	conn, secret := managedConnection(tokensecret.Record{AccessToken: "EAApage", IssuedAt: now.Add(-25 * time.Hour),
		UserID: "17841400000000001", Username: "acme"})
	c := fake.NewClientBuilder().WithScheme(unitScheme()).WithObjects(conn, secret).
		WithStatusSubresource(&igv1.InstagramConnection{}).Build()
	l := &validatingLogin{}
	r := complete(t, &InstagramConnectionReconciler{
		Client: c, APIReader: c, Recorder: events.NewFakeRecorder(10), Clock: clocktesting.NewFakeClock(now),
		Login: l, Credentials: &appcreds.Resolver{Reader: c}, Policy: DefaultPolicy(),
	})
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "acme"}}
	res, err := r.Reconcile(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got := &igv1.InstagramConnection{}
	if err := c.Get(context.Background(), req.NamespacedName, got); err != nil {
		t.Fatal(err)
	}
	if l.renewals != 1 || res.RequeueAfter != day {
		t.Errorf("%d validations, requeue after %v; want one, and the next a day later", l.renewals, res.RequeueAfter)
	}
	if !meta.IsStatusConditionTrue(got.Status.Conditions, igv1.ConditionReady) || got.Status.ExpiresAt != nil ||
		got.Status.LastRefreshTime == nil || !got.Status.LastRefreshTime.Time.Equal(now) {
		t.Errorf("status %+v", got.Status)
	}
	if _, err := r.Reconcile(context.Background(), req); err != nil || l.renewals != 1 {
		t.Errorf("a second reconcile the same day: %v, %d validations", err, l.renewals)
	}
}

// managedConnection returns the connection acme in ns and its token Secret, controlled by it
// and holding rec as igconnect writes it: a token the reconciler manages.
func managedConnection(rec tokensecret.Record) (*igv1.InstagramConnection, *corev1.Secret) {
	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "ns", UID: "uid-acme", Generation: 1},
		Spec:       igv1.InstagramConnectionSpec{SecretName: "acme-token"},
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-token", Namespace: "ns",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: igv1.GroupVersion.String(), Kind: "InstagramConnection",
			Name: conn.Name, UID: conn.UID, Controller: ptr.To(true)}}}}
	tokensecret.Apply(secret, conn.Name, nil, rec)
	return conn, secret
}
