package oauthstate

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

func TestParseKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfe}, 32)
	tests := []struct {
		name  string
		value string
		want  []byte
	}{
		{name: "std base64 padded", value: base64.StdEncoding.EncodeToString(raw), want: raw},
		{name: "url base64 unpadded", value: base64.RawURLEncoding.EncodeToString(raw), want: raw},
		{name: "trailing newline", value: base64.StdEncoding.EncodeToString(raw) + "\n", want: raw},
		{name: "raw passphrase", value: "correct horse battery staple!!!!", want: []byte("correct horse battery staple!!!!")},
		{name: "base64 of too few bytes used raw", value: strings.Repeat("QUFB", 10), want: []byte(strings.Repeat("QUFB", 10))},
		{name: "too short", value: "short"},
		{name: "base64 of 24 bytes, 32 chars, taken raw", value: base64.StdEncoding.EncodeToString(raw[:24]),
			want: []byte(base64.StdEncoding.EncodeToString(raw[:24]))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.value)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("ParseKey() = %x, want an error", got)
				}
				assertQuiet(t, err, tt.value)
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("ParseKey() = %x, %v; want %x", got, err, tt.want)
			}
		})
	}
}

func TestKeyFromEnv(t *testing.T) {
	t.Setenv(StateKeyEnv, "")
	if _, err := KeyFromEnv(); !errors.Is(err, ErrKeyNotSet) {
		t.Fatalf("KeyFromEnv() with a blank variable error = %v, want ErrKeyNotSet", err)
	}
	t.Setenv(StateKeyEnv, "too-short-key")
	if _, err := KeyFromEnv(); err == nil || errors.Is(err, ErrKeyNotSet) || strings.Contains(err.Error(), "too-short-key") {
		t.Fatalf("KeyFromEnv() with a short key error = %v, want a quiet parse error", err)
	}
	t.Setenv(StateKeyEnv, base64.StdEncoding.EncodeToString(testKey))
	if key, err := KeyFromEnv(); err != nil || !bytes.Equal(key, testKey) {
		t.Fatalf("KeyFromEnv() = %x, %v; want the decoded key", key, err)
	}
}

const keyNamespace, keyName = "igconnect-system", "igconnect-state-key"

func keySecret(value string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: keyNamespace, Name: keyName},
		Data:       map[string][]byte{SecretKey: []byte(value)},
	}
}

func TestLoadOrCreateKeyCreatesOnce(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().Build()

	key, err := LoadOrCreateKey(ctx, c, keyNamespace, keyName)
	if err != nil || len(key) != 32 {
		t.Fatalf("LoadOrCreateKey() = %d bytes, %v; want 32 new bytes", len(key), err)
	}
	var secret corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: keyNamespace, Name: keyName}, &secret); err != nil {
		t.Fatalf("getting the created Secret: %v", err)
	}
	if secret.Labels["app.kubernetes.io/managed-by"] != "igconnect" || secret.Type != corev1.SecretTypeOpaque {
		t.Errorf("created Secret labels %v, type %q", secret.Labels, secret.Type)
	}
	if stored, _ := ParseKey(string(secret.Data[SecretKey])); !bytes.Equal(stored, key) {
		t.Error("the stored key does not parse to the returned key")
	}
	again, err := LoadOrCreateKey(ctx, c, keyNamespace, keyName)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second LoadOrCreateKey() = %x, %v; want the first key", again, err)
	}
}

func TestLoadOrCreateKeyExisting(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		secret  *corev1.Secret
		want    []byte
		wantErr bool
	}{
		{name: "base64 key", secret: keySecret(base64.StdEncoding.EncodeToString(testKey)), want: testKey},
		{name: "raw key", secret: keySecret(string(testKey)), want: testKey},
		{name: "short key", secret: keySecret("short"), wantErr: true},
		{name: "no key", secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: keyNamespace, Name: keyName}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithObjects(tt.secret).Build()
			got, err := LoadOrCreateKey(ctx, c, keyNamespace, keyName)
			if tt.wantErr {
				if err == nil {
					t.Fatal("LoadOrCreateKey() succeeded, want an error")
				}
				var after corev1.Secret
				_ = c.Get(ctx, client.ObjectKeyFromObject(tt.secret), &after)
				if !bytes.Equal(after.Data[SecretKey], tt.secret.Data[SecretKey]) {
					t.Error("LoadOrCreateKey() overwrote an existing Secret")
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("LoadOrCreateKey() = %x, %v; want %x", got, err, tt.want)
			}
		})
	}
}

// TestLoadOrCreateKeyLosesRace has another replica create the Secret between this replica's
// read and create; this replica must adopt the winner's key.
func TestLoadOrCreateKeyLosesRace(t *testing.T) {
	ctx := context.Background()
	winner := keySecret(base64.StdEncoding.EncodeToString(otherKey))
	c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, _ ...client.CreateOption) error {
			if err := c.Create(ctx, winner.DeepCopy()); err != nil {
				return err
			}
			return apierrors.NewAlreadyExists(schema.GroupResource{Resource: "secrets"}, obj.GetName())
		},
	}).Build()

	got, err := LoadOrCreateKey(ctx, c, keyNamespace, keyName)
	if err != nil || !bytes.Equal(got, otherKey) {
		t.Fatalf("LoadOrCreateKey() = %x, %v; want the winner's key", got, err)
	}
}

func TestLoadOrCreateKeyAPIErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("apiserver unavailable")
	tests := []struct {
		name  string
		funcs interceptor.Funcs
	}{
		{name: "get fails", funcs: interceptor.Funcs{
			Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
				return boom
			},
		}},
		{name: "create fails", funcs: interceptor.Funcs{
			Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error { return boom },
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithInterceptorFuncs(tt.funcs).Build()
			if _, err := LoadOrCreateKey(ctx, c, keyNamespace, keyName); !errors.Is(err, boom) {
				t.Fatalf("LoadOrCreateKey() error = %v, want it to wrap %v", err, boom)
			}
		})
	}
}
