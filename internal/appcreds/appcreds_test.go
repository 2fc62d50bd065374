package appcreds

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
)

func TestFor(t *testing.T) {
	appSecret := func(name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	reader := fake.NewClientBuilder().WithObjects(
		appSecret("full", map[string]string{"client-id": "123", "client-secret": "s3cr3t-value\n"}),
		appSecret("half", map[string]string{"client-id": "123"}),
	).Build()
	operator := instagram.App{ClientID: "op", ClientSecret: "op-secret-value"}

	conn := func(ref string) *igv1.InstagramConnection {
		c := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns"}}
		if ref != "" {
			c.Spec.AppSecretRef = &igv1.SecretReference{Name: ref}
		}
		return c
	}
	cases := []struct {
		name     string
		def      instagram.App
		ref      string
		want     instagram.App
		errParts []string
	}{
		{name: "operator app", def: operator, want: operator},
		{name: "no app at all", errParts: []string{"INSTAGRAM_CLIENT_ID"}},
		{name: "appSecretRef wins", def: operator, ref: "full", want: instagram.App{ClientID: "123", ClientSecret: "s3cr3t-value"}},
		{name: "appSecretRef missing", def: operator, ref: "nope", errParts: []string{"ns/nope", "does not exist"}},
		{name: "appSecretRef without secret", ref: "half", errParts: []string{"ns/half", "has no client-secret"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &Resolver{Reader: reader, Default: tc.def}
			got, err := r.For(context.Background(), conn(tc.ref))
			if tc.errParts == nil {
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrMissing) {
				t.Fatalf("want ErrMissing, got %v", err)
			}
			for _, p := range tc.errParts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not mention %q", err, p)
				}
			}
			if strings.Contains(err.Error(), "op-secret-value") || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
}
