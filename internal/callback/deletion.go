package callback

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// deletionResponse is Meta's required answer to a data-deletion callback.
type deletionResponse struct {
	URL              string `json:"url"`
	ConfirmationCode string `json:"confirmation_code"`
}

// dataDeletion serves POST /auth/instagram/data-deletion: the person asked Meta to delete
// their data, so the matching connections and their token Secrets are deleted. The answer
// is a confirmation code and the URL of a page that shows its status; an unknown account
// gets a code too (saying nothing was stored), as Meta expects.
func (s *server) dataDeletion(w http.ResponseWriter, r *http.Request) *failure {
	payload, conns, f := s.metaRequest(w, r)
	if f != nil {
		return f
	}
	for i := range conns {
		if err := s.deleteConnection(r.Context(), &conns[i]); err != nil {
			return kubeFailure(err)
		}
	}
	code := s.deletionCodes.mint(deletionRecord{At: s.cfg.Clock.Now(), Connections: len(conns)})
	s.cfg.Log.Info("Data deletion request handled", "userID", payload.UserID, "connections", len(conns),
		"confirmationCode", code)
	writeJSON(w, http.StatusOK, deletionResponse{
		URL:              s.cfg.PublicURL + DeletionStatusPath + "?code=" + url.QueryEscape(code),
		ConfirmationCode: code,
	})
	return nil
}

// deleteConnection deletes a connection and its token Secret. The Secret is deleted
// explicitly rather than left to garbage collection so that the token is gone when Meta
// gets its answer; a Secret that is not the connection's is left alone.
func (s *server) deleteConnection(ctx context.Context, conn *igv1.InstagramConnection) error {
	secret := &corev1.Secret{}
	err := s.cfg.APIReader.Get(ctx, client.ObjectKey{Namespace: conn.Namespace, Name: conn.Spec.SecretName}, secret)
	switch {
	case apierrors.IsNotFound(err):
		secret = nil
	case err != nil:
		return err
	case !tokenSecretOf(secret, conn):
		secret = nil
	}
	if err := s.cfg.Client.Delete(ctx, conn, client.Preconditions{UID: &conn.UID}); client.IgnoreNotFound(err) != nil {
		return err
	}
	if secret != nil {
		if err := s.cfg.Client.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	return nil
}

// tokenSecretOf reports whether secret holds conn's token data: owned by it, or unowned
// with a token in it (a token a person put there for it).
func tokenSecretOf(secret *corev1.Secret, conn *igv1.InstagramConnection) bool {
	switch tokensecret.OwnershipOf(secret, conn) {
	case tokensecret.OwnedByConnection:
		return true
	case tokensecret.Unowned:
		return tokensecret.Read(secret).HasToken()
	}
	return false
}

// deletionStatus serves GET /auth/instagram/data-deletion/status?code=…, the page Meta
// links the person to. The code itself is the record, so any replica can answer.
func (s *server) deletionStatus(w http.ResponseWriter, r *http.Request) *failure {
	q, f := parseQuery(r.URL.RawQuery, "code")
	if f != nil {
		return f
	}
	code := q.Get("code")
	if code == "" {
		return errMissingParameter("code")
	}
	rec, ok := s.deletionCodes.verify(code)
	if !ok {
		return fail(http.StatusNotFound, codeUnknownConfirmation, "Unknown confirmation code",
			"This server issued no data-deletion request with this confirmation code.",
			"Check the code in the link Meta gave you; codes are upper-case letters and digits.")
	}
	msg := fmt.Sprintf("igconnect deleted %d Instagram connection(s) and their access token Secrets for this "+
		"account. It keeps no other data about the account.", rec.Connections)
	if rec.Connections == 0 {
		msg = "igconnect held no connection or access token for this account, so there was nothing to delete. " +
			"It keeps no other data about Instagram accounts."
	}
	writePage(w, http.StatusOK, page{
		Kind:    "info",
		Badge:   "Completed",
		Heading: "Data deletion completed",
		Message: msg,
		Details: []detail{
			{"Confirmation code", strings.ToUpper(code)},
			{"Status", "Completed"},
			{"Completed at", rec.At.Format("2006-01-02 15:04:05 MST")},
		},
	})
	return nil
}
