// Package appcreds finds the Instagram app (App ID and secret) a connection uses: the Secret
// named by spec.appSecretRef, or else the operator's own app from INSTAGRAM_CLIENT_ID and
// INSTAGRAM_CLIENT_SECRET. The reconciler and the callback server resolve it the same way.
package appcreds

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
)

// ErrMissing is wrapped by every error that means "no usable app credentials"; the message
// says what is missing and where, never a value.
var ErrMissing = errors.New("app credentials missing")

// Resolver resolves a connection's app credentials.
type Resolver struct {
	// Reader reads app Secrets. They carry no igconnect label, so it must not be a cache
	// restricted to igconnect's Secrets: pass the manager's API reader.
	Reader client.Reader
	// Default is the operator's own app; its ClientID is empty when none is configured.
	Default instagram.App
}

// For returns the app credentials of conn.
func (r *Resolver) For(ctx context.Context, conn *igv1.InstagramConnection) (instagram.App, error) {
	if conn.Spec.AppSecretRef == nil {
		if r.Default.ClientID == "" || r.Default.ClientSecret == "" {
			return instagram.App{}, fmt.Errorf("%w: the connection has no spec.appSecretRef and the operator has no "+
				"INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET", ErrMissing)
		}
		return r.Default, nil
	}
	name := conn.Spec.AppSecretRef.Name
	s := &corev1.Secret{}
	if err := r.Reader.Get(ctx, client.ObjectKey{Namespace: conn.Namespace, Name: name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return instagram.App{}, fmt.Errorf("%w: Secret %s/%s named by spec.appSecretRef does not exist", ErrMissing,
				conn.Namespace, name)
		}
		return instagram.App{}, fmt.Errorf("read app Secret %s/%s: %w", conn.Namespace, name, err)
	}
	app := instagram.App{
		ClientID:     strings.TrimSpace(string(s.Data[igv1.AppSecretKeyClientID])),
		ClientSecret: strings.TrimSpace(string(s.Data[igv1.AppSecretKeyClientSecret])),
	}
	var missing []string
	if app.ClientID == "" {
		missing = append(missing, igv1.AppSecretKeyClientID)
	}
	if app.ClientSecret == "" {
		missing = append(missing, igv1.AppSecretKeyClientSecret)
	}
	if len(missing) > 0 {
		return instagram.App{}, fmt.Errorf("%w: Secret %s/%s has no %s", ErrMissing, conn.Namespace, name,
			strings.Join(missing, " or "))
	}
	return app, nil
}
