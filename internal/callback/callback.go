package callback

import (
	"fmt"
	"net/http"

	"github.com/igconnect/igconnect/internal/oauthstate"
)

// callback serves GET /auth/instagram/callback, where Instagram sends the browser back:
// with error=… when the person declined, else with code and state. It completes the login
// and shows the result page, or sends the browser to SuccessURL.
func (s *server) callback(w http.ResponseWriter, r *http.Request) *failure {
	q, f := parseQuery(r.URL.RawQuery, "code", "state", "error")
	if f != nil {
		return f
	}
	if _, denied := q["error"]; denied {
		return errDenied(q.Get("error"))
	}
	if q.Get("code") == "" {
		return errMissingParameter("code")
	}
	res, f := s.completeLogin(r, q.Get("code"), q.Get("state"), oauthstate.FlowRedirect)
	if f != nil {
		return f
	}
	if s.cfg.SuccessURL != "" {
		w.Header().Set("Location", s.cfg.SuccessURL)
		w.WriteHeader(http.StatusFound)
		return nil
	}
	writePage(w, http.StatusOK, resultPage(res))
	return nil
}

// resultPage tells the person which account is connected to which connection, and how to
// check it.
func resultPage(res *loginResult) page {
	c := res.conn
	details := []detail{
		{"Instagram account", "@" + res.account.Username},
		{"User ID", res.account.UserID},
		{"Connection", c.Namespace + "/" + c.Name},
		{"Token Secret", c.Namespace + "/" + c.Spec.SecretName},
		{"Token expires", res.record.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")},
	}
	return page{
		Kind:    "success",
		Badge:   "Connected",
		Heading: "Instagram account connected",
		Message: fmt.Sprintf("@%s is now connected. Its long-lived access token is stored in Secret %s in namespace %s, "+
			"and igconnect will refresh it before it expires. You can close this page.",
			res.account.Username, c.Spec.SecretName, c.Namespace),
		Details:      details,
		CommandIntro: "To check the connection (it reports Ready once the operator has validated the token):",
		Command:      fmt.Sprintf("kubectl get igconn -n %s %s", c.Namespace, c.Name),
		Next: fmt.Sprintf("Mount Secret %s in the workloads that call Instagram; wait for the connection with "+
			"kubectl wait --for=condition=Ready igconn/%s -n %s.", c.Spec.SecretName, c.Name, c.Namespace),
	}
}
