package callback

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
)

// Query parameters of the start endpoint.
const (
	// ticketParam binds the login to the connection the ticket names.
	ticketParam = oauthstate.TicketParam
	// flowParam chooses where the login finishes: absent or "redirect" for the server's
	// callback page, "json" for a front end that receives the redirect itself and posts
	// the code and state to the exchange endpoint.
	flowParam = "flow"
)

// start serves GET /auth/instagram/start[?ticket=…][&flow=json]: it mints a state bound to
// this browser and sends the browser to Instagram's authorization window.
//
// The JSON flow starts here too: a single-page front end sends the browser to
// /auth/instagram/start?flow=json (a link or window.location, not fetch), Instagram sends
// it back to RedirectURL (the front end's page), and the front end posts the code and state
// it finds there to /auth/instagram/exchange from the same origin, which sends the cookie.
// The state is then bound to the browser exactly as in the page flow.
func (s *server) start(w http.ResponseWriter, r *http.Request) *failure {
	q, f := parseQuery(r.URL.RawQuery, ticketParam, flowParam)
	if f != nil {
		return f
	}
	flow := oauthstate.FlowRedirect
	switch v := q.Get(flowParam); v {
	case "", oauthstate.FlowRedirect:
	case oauthstate.FlowJSON:
		flow = oauthstate.FlowJSON
	default:
		return errInvalidParameter(`The flow parameter must be "redirect" or "json".`)
	}

	ticket := q.Get(ticketParam)
	var conn *igv1.InstagramConnection
	scopes := s.cfg.DefaultScopes
	if ticket != "" {
		if conn, f = s.ticketConnection(r.Context(), ticket); f != nil {
			return f
		}
		scopes = conn.Spec.ScopesOrDefault()
	}
	app, f := s.appFor(r.Context(), conn)
	if f != nil {
		return f
	}

	cookie := browserCookie(r)
	if cookie == "" {
		cookie = oauthstate.NewBrowserCookieValue()
	}
	state, _, err := s.cfg.Signer.NewState(cookie, ticket, flow, s.cfg.StateTTL)
	if err != nil {
		// The ticket was verified above, so only a broken configuration gets here.
		return ticketFailure(err)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     oauthstate.BrowserCookieName,
		Value:    cookie,
		Path:     cookiePath,
		MaxAge:   int(s.cfg.StateTTL.Seconds()),
		HttpOnly: true,
		Secure:   s.secureCookie,
		// Lax, not Strict: the browser must send it on the top-level redirect from Instagram.
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Location", s.cfg.Login.AuthorizeURL(app, s.cfg.RedirectURL, scopes, state))
	w.WriteHeader(http.StatusFound)
	return nil
}

// browserCookie returns this browser's binding cookie, if it has a well-formed one. Reusing
// it, rather than minting a new one per start, keeps a login started in another tab of the
// same browser valid.
func browserCookie(r *http.Request) string {
	c, err := r.Cookie(oauthstate.BrowserCookieName)
	if err != nil || len(c.Value) != 43 || !isBase64URL(c.Value) {
		return ""
	}
	return c.Value
}

// isBase64URL reports whether s holds only the unpadded base64url alphabet.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// ticketConnection verifies a ticket and returns the connection it names, which must still
// exist with the ticket's UID: a ticket opens one incarnation of one object.
func (s *server) ticketConnection(ctx context.Context, ticket string) (*igv1.InstagramConnection, *failure) {
	ref, err := s.cfg.Signer.VerifyTicket(ticket)
	if err != nil {
		return nil, ticketFailure(err)
	}
	if !s.watches(ref.Namespace) {
		// Minted before the operator was restricted to its namespaces (the key is the same):
		// it may not read there, and must not act there.
		return nil, errNamespaceNotWatched(ref.Namespace, ref.Name)
	}
	conn := &igv1.InstagramConnection{}
	if err := s.cfg.APIReader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, conn); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, errConnectionNotFound(ref.Namespace, ref.Name)
		}
		return nil, kubeFailure(err)
	}
	if conn.UID != ref.UID || !conn.DeletionTimestamp.IsZero() {
		return nil, errConnectionReplaced(ref.Namespace, ref.Name)
	}
	return conn, nil
}

// appFor returns the Instagram app of conn, or the operator's own app for a login without a
// ticket (conn nil).
func (s *server) appFor(ctx context.Context, conn *igv1.InstagramConnection) (instagram.App, *failure) {
	if conn == nil {
		app := s.cfg.Credentials.Default
		if app.ClientID == "" || app.ClientSecret == "" {
			return instagram.App{}, errAppCredentials(
				"the operator has no Instagram app of its own (INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET are not set)",
				"Log in through a connection's status.authorizationURL, whose connection names its app in "+
					"spec.appSecretRef, or ask the administrator to configure the operator's app.")
		}
		return app, nil
	}
	app, err := s.cfg.Credentials.For(ctx, conn)
	if err != nil {
		if errors.Is(err, appcreds.ErrMissing) {
			// appcreds' messages name what is missing and where, never a value.
			return instagram.App{}, errAppCredentials(err.Error(),
				fmt.Sprintf("Fix the app credentials of InstagramConnection %s/%s, then use its link again.",
					conn.Namespace, conn.Name))
		}
		return instagram.App{}, kubeFailure(err)
	}
	return app, nil
}

// errAppCredentials reports that no Instagram app is configured for the login.
func errAppCredentials(what, next string) *failure {
	return fail(http.StatusInternalServerError, codeAppCredentialsMissing, "No Instagram app is configured",
		"igconnect cannot start or finish this login: "+what+". Nothing was changed.", next)
}
