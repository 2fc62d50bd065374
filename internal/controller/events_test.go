package controller

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
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
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// profileInstagram answers /me for one account and nothing else.
type profileInstagram struct{ loginFlowUnused }

func (profileInstagram) ExchangeForLongLived(context.Context, instagram.App, string) (instagram.LongLivedToken, error) {
	return instagram.LongLivedToken{}, errors.New("unexpected long-lived exchange")
}

func (profileInstagram) RefreshToken(context.Context, string) (instagram.LongLivedToken, error) {
	return instagram.LongLivedToken{}, errors.New("unexpected refresh")
}

func (profileInstagram) Profile(context.Context, string) (instagram.Profile, error) {
	return instagram.Profile{UserID: "17841400000000001", Username: "acme", ID: "27000000000000001"}, nil
}

// TestImportAnnouncedAfterAFailedStatusWrite: an import whose status patch fails is done
// (the Secret is igconnect's), so the next reconcile sees a managed token; it must still
// tell of the import, once.
func TestImportAnnouncedAfterAFailedStatusWrite(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	scheme := unitScheme()
	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "ns", UID: "uid-acme", Generation: 1},
		Spec:       igv1.InstagramConnectionSpec{SecretName: "acme-token"},
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-token", Namespace: "ns"},
		Data: map[string][]byte{
			igv1.SecretKeyAccessToken: []byte("IGAAimported"),
			igv1.SecretKeyExpiresAt:   []byte(now.Add(50 * day).Format(time.RFC3339)),
		}}
	statusDown := true
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(conn, secret).
		WithStatusSubresource(&igv1.InstagramConnection{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string,
			obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if statusDown {
				return apierrors.NewConflict(schema.GroupResource{Resource: "instagramconnections"}, obj.GetName(),
					errors.New("changed meanwhile"))
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		}}).Build()
	recorder := events.NewFakeRecorder(10)
	r := complete(t, &InstagramConnectionReconciler{
		Client: c, APIReader: c, Recorder: recorder, Clock: clocktesting.NewFakeClock(now),
		Instagram: profileInstagram{}, Credentials: &appcreds.Resolver{Reader: c}, Policy: DefaultPolicy(),
	})
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "acme"}}

	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if n := len(recorder.Events); n != 0 {
		t.Fatalf("%d events although the status was not written", n)
	}
	statusDown = false
	for range 2 {
		if _, err := r.Reconcile(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for len(recorder.Events) > 0 {
		got = append(got, <-recorder.Events)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "Normal Connected Imported the token of @acme (17841400000000001) "+
		"from Secret acme-token; token valid until") {
		t.Fatalf("events %q, want one Connected event telling of the import", got)
	}
}

// TestNoAwaitingAuthorizationForTheConnectionOfALogin: a login without a ticket creates the
// account's connection, then its Secret. A reconcile in between finds no Secret; it must not
// announce AwaitingAuthorization for a connection whose token is on its way, and the login
// then shows as one Connected event (issue 15). A connection that was Ready before is told
// when its Secret goes.
func TestNoAwaitingAuthorizationForTheConnectionOfALogin(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "ig-17841400000000001", Namespace: "ns", UID: "uid-ig", Generation: 1,
			Labels: map[string]string{igv1.LabelManagedBy: igv1.ManagedByValue}},
		Spec: igv1.InstagramConnectionSpec{SecretName: "ig-17841400000000001-token", InstagramUserID: "17841400000000001"},
	}
	c := fake.NewClientBuilder().WithScheme(unitScheme()).WithObjects(conn).
		WithStatusSubresource(&igv1.InstagramConnection{}).Build()
	recorder := events.NewFakeRecorder(10)
	r := complete(t, &InstagramConnectionReconciler{
		Client: c, APIReader: c, Recorder: recorder, Clock: clocktesting.NewFakeClock(now),
		Instagram: profileInstagram{}, Credentials: &appcreds.Resolver{Reader: c,
			Default: instagram.App{ClientID: "1", ClientSecret: "s"}}, Policy: DefaultPolicy(),
	})
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(conn)}
	drain := func() []string {
		var got []string
		for len(recorder.Events) > 0 {
			got = append(got, <-recorder.Events)
		}
		return got
	}

	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := &igv1.InstagramConnection{}
	if err := c.Get(context.Background(), req.NamespacedName, got); err != nil {
		t.Fatal(err)
	}
	if ready := meta.FindStatusCondition(got.Status.Conditions, igv1.ConditionReady); ready == nil ||
		ready.Reason != igv1.ReasonAwaitingAuthorization {
		t.Fatalf("Ready %+v, want AwaitingAuthorization in status", ready)
	}
	if ev := drain(); len(ev) != 0 {
		t.Fatalf("events %q for a connection whose login is storing its token", ev)
	}

	// The login's Secret arrives.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: conn.Spec.SecretName, Namespace: "ns",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: igv1.GroupVersion.String(), Kind: "InstagramConnection",
			Name: conn.Name, UID: conn.UID, Controller: ptr.To(true)}}}}
	tokensecret.Apply(secret, conn.Name, nil, tokensecret.Record{AccessToken: "IGAAlogin", IssuedAt: now,
		ExpiresAt: now.Add(60 * day), UserID: "17841400000000001", Username: "acme"})
	if err := c.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if ev := drain(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Normal Connected token valid until") {
		t.Fatalf("events %q, want one Connected event", ev)
	}

	// Once it was Ready, losing the Secret is told.
	if err := c.Delete(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if ev := drain(); len(ev) != 1 || !strings.Contains(ev[0], "AwaitingAuthorization the token Secret") {
		t.Fatalf("events %q, want AwaitingAuthorization telling the Secret was deleted", ev)
	}
}
