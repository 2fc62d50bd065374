package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// errTokenSuperseded means the Secret received another token (a new login) while the
// reconciler was working from the old one; its change is dropped and the next reconcile
// starts from the new token.
var errTokenSuperseded = errors.New("the token Secret received a new token meanwhile")

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

// writeTokenSecret makes the connection's Secret hold rec, creating it if needed and
// writing it only when its content changes. basedOn is the token the caller's change
// started from: when another writer got there first, the change is re-applied to the fresh
// Secret only if it still holds that token, so a refreshed token is not lost to an API
// conflict and a newer login is never overwritten. It returns the Secret as written.
func (r *InstagramConnectionReconciler) writeTokenSecret(ctx context.Context, conn *igv1.InstagramConnection,
	existing *corev1.Secret, basedOn string, rec tokensecret.Record) (*corev1.Secret, error) {
	var written *corev1.Secret
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if existing == nil {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: conn.Spec.SecretName, Namespace: conn.Namespace}}
			tokensecret.Apply(s, conn.Name, conn.Spec.SecretTemplate, rec)
			if err := controllerutil.SetControllerReference(conn, s, r.Scheme()); err != nil {
				return err
			}
			if err := r.Create(ctx, s); err != nil {
				return err
			}
			r.secretEchoes.record(s)
			written = s
			return nil
		}
		s := existing.DeepCopy()
		changed := tokensecret.Apply(s, conn.Name, conn.Spec.SecretTemplate, rec)
		if metav1.GetControllerOf(s) == nil {
			if err := controllerutil.SetControllerReference(conn, s, r.Scheme()); err != nil {
				return err
			}
			changed = true
		}
		if !changed {
			written = existing
			return nil
		}
		err := r.Update(ctx, s)
		if err == nil {
			r.secretEchoes.record(s)
			written = s
			return nil
		}
		if !apierrors.IsConflict(err) {
			return err
		}
		fresh := &corev1.Secret{}
		if gerr := r.APIReader.Get(ctx, client.ObjectKeyFromObject(s), fresh); gerr != nil {
			return gerr
		}
		if tokensecret.Read(fresh).AccessToken != basedOn {
			return errTokenSuperseded
		}
		existing = fresh
		return err // a conflict: RetryOnConflict tries again with the fresh Secret
	})
	if err != nil {
		return nil, fmt.Errorf("write token Secret %s/%s: %w", conn.Namespace, conn.Spec.SecretName, err)
	}
	return written, nil
}

// isSuperseded reports whether err says a newer token arrived meanwhile.
func isSuperseded(err error) bool { return errors.Is(err, errTokenSuperseded) }
