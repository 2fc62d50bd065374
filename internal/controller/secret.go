package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// getTokenSecret returns the connection's token Secret, or nil when there is none. The
// cache holds only Secrets that carry igconnect's label, so a miss is checked against the
// API server: the Secret may be a token a person put there to import, or someone else's.
func (r *InstagramConnectionReconciler) getTokenSecret(ctx context.Context, conn *igv1.InstagramConnection) (*corev1.Secret, error) {
	key := client.ObjectKey{Namespace: conn.Namespace, Name: conn.Spec.SecretName}
	s := &corev1.Secret{}
	err := r.Get(ctx, key, s)
	if err == nil {
		return s, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("read token Secret %s: %w", key, err)
	}
	if err := r.APIReader.Get(ctx, key, s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read token Secret %s: %w", key, err)
	}
	return s, nil
}

// writeTokenSecret makes the connection's Secret hold rec through the one Secret writer
// (tokensecret.Writer), and remembers the write so that its echo on the Secret watch is
// dropped. existing is the Secret as read (nil: none) and basedOn the token the change
// started from: a Secret that got another token meanwhile is left to it
// (tokensecret.ErrSuperseded).
func (r *InstagramConnectionReconciler) writeTokenSecret(ctx context.Context, conn *igv1.InstagramConnection,
	existing *corev1.Secret, basedOn string, rec tokensecret.Record) (*corev1.Secret, error) {
	written, err := r.secrets.Write(ctx, conn, existing, basedOn, rec)
	if err != nil {
		return nil, err
	}
	if written != existing {
		r.secretEchoes.record(written)
	}
	return written, nil
}

// isSuperseded reports whether err says a newer token arrived meanwhile.
func isSuperseded(err error) bool { return errors.Is(err, tokensecret.ErrSuperseded) }
