package callback

import (
	"context"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// deauthorizeResponse answers Meta's deauthorize callback. Meta only needs a 200; the count
// helps a person testing the endpoint by hand.
type deauthorizeResponse struct {
	Success     bool `json:"success"`
	Connections int  `json:"connections"`
}

// deauthorize serves POST /auth/instagram/deauthorize: the person removed the app on
// Instagram, so the matching connections lose their token. Each keeps its Secret, with the
// token removed and the rejection recorded, from which the reconciler reports Ready=False
// Deauthorized and offers a new login. An unknown account is a successful no-op, because
// Meta calls for every user of the app.
func (s *server) deauthorize(w http.ResponseWriter, r *http.Request) *failure {
	payload, conns, f := s.metaRequest(w, r)
	if f != nil {
		return f
	}
	for i := range conns {
		if err := s.removeToken(r.Context(), &conns[i]); err != nil {
			return kubeFailure(err)
		}
	}
	s.cfg.Log.Info("Deauthorize request handled", "userID", payload.UserID, "connections", len(conns))
	writeJSON(w, http.StatusOK, deauthorizeResponse{Success: true, Connections: len(conns)})
	return nil
}

// removeToken empties the token from the connection's Secret and marks it Deauthorized. The
// account's identity stays, so the Secret still says whose it was. A Secret that does not
// exist or is not the connection's is left alone: there is no token of ours to remove.
func (s *server) removeToken(ctx context.Context, conn *igv1.InstagramConnection) error {
	key := client.ObjectKey{Namespace: conn.Namespace, Name: conn.Spec.SecretName}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		secret := &corev1.Secret{}
		if err := s.cfg.APIReader.Get(ctx, key, secret); err != nil {
			return client.IgnoreNotFound(err)
		}
		if tokensecret.OwnershipOf(secret, conn) == tokensecret.Foreign {
			return nil
		}
		old := tokensecret.Read(secret)
		rec := tokensecret.Record{
			UserID:          old.UserID,
			Username:        old.Username,
			AccountType:     old.AccountType,
			AppScopedUserID: old.AppScopedUserID,
			Rejected:        igv1.ReasonDeauthorized,
		}
		if !tokensecret.Apply(secret, conn.Name, conn.Spec.SecretTemplate, rec) {
			return nil
		}
		err := s.cfg.Client.Update(ctx, secret)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
}
