package controller

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// refreshingInstagram refreshes every token into a new one and counts the refreshes.
type refreshingInstagram struct {
	loginFlowUnused
	refreshes int
}

func (*refreshingInstagram) ExchangeForLongLived(context.Context, instagram.App, string) (instagram.LongLivedToken, error) {
	return instagram.LongLivedToken{}, errors.New("unexpected long-lived exchange")
}

func (i *refreshingInstagram) RefreshToken(context.Context, string) (instagram.LongLivedToken, error) {
	i.refreshes++
	return instagram.LongLivedToken{AccessToken: fmt.Sprintf("IGAArefreshed%d", i.refreshes), TokenType: "bearer",
		ExpiresIn: 60 * day}, nil
}

func (*refreshingInstagram) Profile(context.Context, string) (instagram.Profile, error) {
	return instagram.Profile{}, errors.New("unexpected /me")
}

// TestRefreshNotRepeatedWhileTheSecretCannotBeWritten: when Instagram has refreshed a token
// but the Secret write fails (the API server is away), the retries store that refreshed
// token instead of refreshing again, which would cost one Instagram call per retry (ten a
// connection in a ten-second outage, found by test/hardening). Once a new token reaches the
// Secret by another way, the kept one is dropped.
func TestRefreshNotRepeatedWhileTheSecretCannotBeWritten(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	scheme := unitScheme()
	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "ns", UID: "uid-acme", Generation: 1},
		Spec:       igv1.InstagramConnectionSpec{SecretName: "acme-token"},
	}
	controller := true
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-token", Namespace: "ns",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: igv1.GroupVersion.String(), Kind: "InstagramConnection",
			Name: "acme", UID: "uid-acme", Controller: &controller}}}}
	tokensecret.Apply(secret, "acme", nil, tokensecret.Record{AccessToken: "IGAAold", IssuedAt: now.Add(-50 * day),
		ExpiresAt: now.Add(10 * day), UserID: "17841400000000001", Username: "acme"})

	apiDown := true
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(conn, secret).
		WithStatusSubresource(&igv1.InstagramConnection{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if _, isSecret := obj.(*corev1.Secret); isSecret && apiDown {
					return apierrors.NewServiceUnavailable("the API server is away")
				}
				return c.Update(ctx, obj, opts...)
			},
			// The Secret writer writes with server-side apply.
			Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				if _, isSecret := obj.(*corev1ac.SecretApplyConfiguration); isSecret && apiDown {
					return apierrors.NewServiceUnavailable("the API server is away")
				}
				return c.Apply(ctx, obj, opts...)
			},
		}).Build()
	ig := &refreshingInstagram{}
	clk := clocktesting.NewFakeClock(now)
	r := complete(t, &InstagramConnectionReconciler{
		Client: c, APIReader: c, Recorder: events.NewFakeRecorder(100), Clock: clk,
		Instagram: ig, Credentials: &appcreds.Resolver{Reader: c}, Policy: DefaultPolicy(),
	})
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "acme"}}
	tokenInSecret := func() string {
		s := &corev1.Secret{}
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(secret), s); err != nil {
			t.Fatal(err)
		}
		return string(s.Data[igv1.SecretKeyAccessToken])
	}

	for i := range 3 {
		if _, err := r.Reconcile(context.Background(), req); err == nil {
			t.Fatalf("attempt %d: no error although the Secret cannot be written", i+1)
		}
		clk.Step(time.Second)
	}
	if ig.refreshes != 1 {
		t.Errorf("%d refreshes while the Secret could not be written, want 1", ig.refreshes)
	}
	apiDown = false
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := tokenInSecret(); got != "IGAArefreshed1" || ig.refreshes != 1 {
		t.Fatalf("the Secret holds %q after %d refreshes, want the first refresh's token", got, ig.refreshes)
	}
	got := &igv1.InstagramConnection{}
	if err := c.Get(context.Background(), req.NamespacedName, got); err != nil {
		t.Fatal(err)
	}
	if got.Status.LastRefreshTime == nil || !got.Status.LastRefreshTime.Time.Equal(now) {
		t.Errorf("lastRefreshTime %v, want the time Instagram refreshed it, %v", got.Status.LastRefreshTime, now)
	}

	// The old token runs out while the Secret cannot be written: the kept refresh is stored,
	// rather than the connection reported TokenExpired.
	clk.Step(41 * day)
	apiDown = true
	if _, err := r.Reconcile(context.Background(), req); err == nil || ig.refreshes != 2 {
		t.Fatalf("refresh at day 41: %v after %d refreshes", err, ig.refreshes)
	}
	clk.Step(20 * day)
	apiDown = false
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(context.Background(), req.NamespacedName, got); err != nil {
		t.Fatal(err)
	}
	if tok := tokenInSecret(); tok != "IGAArefreshed2" || ig.refreshes != 2 || got.Status.ExpiresAt == nil ||
		!got.Status.ExpiresAt.After(clk.Now()) {
		t.Fatalf("after the old token expired: Secret %q, %d refreshes, status %+v", tok, ig.refreshes, got.Status)
	}

	// A refreshed token kept for a Secret that meanwhile got another token is not written.
	clk.Step(21 * day)
	apiDown = true
	if _, err := r.Reconcile(context.Background(), req); err == nil || ig.refreshes != 3 {
		t.Fatalf("third refresh: %v after %d refreshes", err, ig.refreshes)
	}
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(secret), s); err != nil {
		t.Fatal(err)
	}
	s.Data[igv1.SecretKeyAccessToken] = []byte("IGAAnewlogin")
	apiDown = false
	if err := c.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(context.Background(), req); err != nil && !apierrors.IsConflict(err) {
		t.Fatal(err)
	}
	if got := tokenInSecret(); got == "IGAArefreshed3" {
		t.Errorf("a refresh of the old token overwrote the token of a newer login")
	}
}

// TestNoRefreshOfATokenTheCacheHasNotSeenReplaced: after an outage the manager's cache can
// hold a token the Secret no longer has (the watch backs off for up to 30s); refreshing it
// is a wasted Instagram call whose result cannot be stored (test/hardening saw one per
// connection after a 30s outage). The reconciler checks the Secret itself first.
func TestNoRefreshOfATokenTheCacheHasNotSeenReplaced(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	scheme := unitScheme()
	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "ns", UID: "uid-acme", Generation: 1},
		Spec:       igv1.InstagramConnectionSpec{SecretName: "acme-token"},
	}
	controller := true
	secretWith := func(token string, issued time.Time) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-token", Namespace: "ns",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: igv1.GroupVersion.String(), Kind: "InstagramConnection",
				Name: "acme", UID: "uid-acme", Controller: &controller}}}}
		tokensecret.Apply(s, "acme", nil, tokensecret.Record{AccessToken: token, IssuedAt: issued,
			ExpiresAt: issued.Add(60 * day), UserID: "17841400000000001", Username: "acme"})
		return s
	}
	// The cache still has the token of 41 days ago, due; the API server has its successor.
	cached := fake.NewClientBuilder().WithScheme(scheme).WithObjects(conn, secretWith("IGAAold", now.Add(-41*day))).
		WithStatusSubresource(&igv1.InstagramConnection{}).Build()
	apiServer := fake.NewClientBuilder().WithScheme(scheme).WithObjects(secretWith("IGAAnew", now.Add(-time.Hour))).Build()
	ig := &refreshingInstagram{}
	r := complete(t, &InstagramConnectionReconciler{
		Client: cached, APIReader: apiServer, Recorder: events.NewFakeRecorder(100), Clock: clocktesting.NewFakeClock(now),
		Instagram: ig, Credentials: &appcreds.Resolver{Reader: cached}, Policy: DefaultPolicy(),
	})
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	if ig.refreshes != 0 || res.RequeueAfter <= 0 {
		t.Errorf("%d refreshes of a token the Secret no longer holds, requeue after %v; want none, and a retry",
			ig.refreshes, res.RequeueAfter)
	}
}
