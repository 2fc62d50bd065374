package oauthstate

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// StateKeyEnv is the environment variable that supplies the shared signing key.
const StateKeyEnv = "IGCONNECT_STATE_KEY"

// ErrKeyNotSet reports that IGCONNECT_STATE_KEY is unset, so the caller should fall back to
// LoadOrCreateKey.
var ErrKeyNotSet = errors.New("oauthstate: " + StateKeyEnv + " is not set")

// SecretKey is the data key of the signing key in the Secret LoadOrCreateKey manages.
const SecretKey = "state-key"

// generatedKeyLength is the size of a key LoadOrCreateKey creates.
const generatedKeyLength = 32

// KeyFromEnv returns the signing key from IGCONNECT_STATE_KEY, parsed by ParseKey. It returns
// ErrKeyNotSet when the variable is unset or blank, so the caller can fall back to
// LoadOrCreateKey.
func KeyFromEnv() ([]byte, error) {
	v, ok := os.LookupEnv(StateKeyEnv)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, ErrKeyNotSet
	}
	key, err := ParseKey(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", StateKeyEnv, err)
	}
	return key, nil
}

// ParseKey turns a configured key into key bytes. Surrounding whitespace (a trailing newline
// from a file) is dropped. A value that decodes as base64 (standard or URL alphabet, padded or
// not) to at least MinKeyLength bytes is decoded, as `openssl rand -base64 32` produces;
// otherwise a value of at least MinKeyLength bytes is used as it is. Anything shorter is
// refused. Every replica must parse the same text, so the rule is the same everywhere: the
// env var and the Secret written by LoadOrCreateKey give the same key for the same text.
func ParseKey(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(v); err == nil && len(key) >= MinKeyLength {
			return key, nil
		}
	}
	if len(v) >= MinKeyLength {
		return []byte(v), nil
	}
	return nil, fmt.Errorf("oauthstate: state key must be base64 of at least %d bytes, or at least %d raw bytes", MinKeyLength, MinKeyLength)
}

// LoadOrCreateKey returns the signing key kept in the Secret namespace/name under SecretKey,
// creating the Secret with a random key (base64-encoded, so it can also feed
// IGCONNECT_STATE_KEY) when it does not exist. When several replicas start at once, one create
// wins and the others get AlreadyExists and read the winner's key, so all share one key.
//
// c should read from the API server, not a cache that has not started: this runs before the
// manager. An existing Secret without a usable key is an error, never overwritten, since it
// may be someone else's. The key is not logged and no error contains it.
func LoadOrCreateKey(ctx context.Context, c client.Client, namespace, name string) ([]byte, error) {
	key, err := readKey(ctx, c, namespace, name)
	if !apierrors.IsNotFound(err) {
		return key, err
	}

	encoded := base64.StdEncoding.EncodeToString(randomBytes(generatedKeyLength))
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace,
			Name:      name,
			Labels:    map[string]string{"app.kubernetes.io/managed-by": "igconnect"},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{SecretKey: []byte(encoded)},
	}
	switch err := c.Create(ctx, secret); {
	case err == nil:
		return ParseKey(encoded)
	case apierrors.IsAlreadyExists(err):
		// Another replica created it between our read and our create: use its key.
		return readKey(ctx, c, namespace, name)
	default:
		return nil, fmt.Errorf("creating state key Secret %s/%s: %w", namespace, name, err)
	}
}

// readKey reads and parses the key from the Secret. A NotFound error is returned as is, so the
// caller can tell "absent" from "broken".
func readKey(ctx context.Context, c client.Client, namespace, name string) ([]byte, error) {
	var secret corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, err
		}
		return nil, fmt.Errorf("reading state key Secret %s/%s: %w", namespace, name, err)
	}
	key, err := ParseKey(string(secret.Data[SecretKey]))
	if err != nil {
		return nil, fmt.Errorf("state key Secret %s/%s, key %q: %w", namespace, name, SecretKey, err)
	}
	return key, nil
}
