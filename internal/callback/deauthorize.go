package callback

import (
	"net/http"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// deauthorizeResponse answers Meta's deauthorize callback. Meta only needs a 200; the count
// helps a person testing the endpoint by hand.
type deauthorizeResponse struct {
	Success     bool `json:"success"`
	Connections int  `json:"connections"`
}

// deauthorize serves POST /auth/instagram/deauthorize: the person removed the app on
// Instagram, so the matching connections lose their token. Each keeps its Secret, with the
// token removed and the rejection recorded (tokensecret.Writer.RemoveToken; a Secret that
// is not the connection's is left alone), from which the reconciler reports Ready=False
// Deauthorized and offers a new login. An unknown account is a successful no-op, because
// Meta calls for every user of the app.
func (s *server) deauthorize(w http.ResponseWriter, r *http.Request) *failure {
	payload, conns, f := s.metaRequest(w, r)
	if f != nil {
		return f
	}
	for i := range conns {
		if err := s.secrets.RemoveToken(r.Context(), &conns[i], igv1.ReasonDeauthorized); err != nil {
			return kubeFailure(err)
		}
	}
	s.cfg.Log.Info("Deauthorize request handled", "userID", payload.UserID, "connections", len(conns))
	writeJSON(w, http.StatusOK, deauthorizeResponse{Success: true, Connections: len(conns)})
	return nil
}
