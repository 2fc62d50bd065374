package sandbox

import (
	"net/http"
	"net/url"
	"strings"
)

// authorizeRequest is a validated authorize dialog request; the same fields
// travel from the query string into the consent form's hidden inputs.
type authorizeRequest struct {
	ClientID     string
	AppName      string
	RedirectURI  string
	ResponseType string
	State        string
	Scope        string
	Scopes       []string
}

// handleAuthorize serves /oauth/authorize: GET shows the consent page, POST
// takes the Allow/Deny decision. Like Instagram, a bad client_id,
// redirect_uri, response_type or scope is shown on the sandbox's own error
// page and never redirected back, because the redirect_uri cannot be trusted
// until the app is known. The exact texts of Instagram's error pages are
// unconfirmed; the sandbox's say what is wrong.
func (s *Sandbox) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		req, msg := s.parseAuthorize(r.URL.Query())
		if msg != "" {
			s.writeErrorPage(w, http.StatusBadRequest, msg)
			return
		}
		s.writeConsentPage(w, req)
	case http.MethodPost:
		s.handleDecision(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		s.writeErrorPage(w, http.StatusMethodNotAllowed, "The authorization dialog accepts GET and POST only.")
	}
}

// parseAuthorize validates the dialog's parameters and returns the request,
// or the message for the error page.
func (s *Sandbox) parseAuthorize(v url.Values) (authorizeRequest, string) {
	const prefix = "Invalid Request: Request parameters are invalid: "
	req := authorizeRequest{
		ClientID:     v.Get("client_id"),
		RedirectURI:  v.Get("redirect_uri"),
		ResponseType: v.Get("response_type"),
		State:        v.Get("state"),
	}
	s.mu.Lock()
	app := s.appsByID[req.ClientID]
	var registered []string
	if app != nil {
		req.AppName = app.Name
		registered = app.RedirectURIs
	}
	s.mu.Unlock()
	if app == nil {
		return req, prefix + MsgInvalidPlatformApp
	}
	if req.AppName == "" {
		req.AppName = DefaultAppName
	}
	if !validRedirectURI(req.RedirectURI, registered) {
		return req, prefix + "Invalid redirect_uri"
	}
	if req.ResponseType != "code" {
		return req, prefix + "Invalid response_type: only code is supported"
	}
	scopes, rejection := parseScopes(v.Get("scope"))
	if rejection != "" {
		return req, prefix + rejection
	}
	req.Scopes = scopes
	req.Scope = strings.Join(scopes, ",")
	return req, ""
}

// validRedirectURI accepts an absolute http(s) URI without a fragment that is
// one of the registered ones, or any such URI when none are registered.
func validRedirectURI(raw string, registered []string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return false
	}
	if len(registered) == 0 {
		return true
	}
	for _, r := range registered {
		if r == raw {
			return true
		}
	}
	return false
}

// handleDecision serves POST /oauth/authorize. The form carries the dialog's
// parameters again, so they are re-validated: a test may post the decision
// directly without loading the page. Allow redirects with a code and the
// `#_` fragment Instagram appends; Deny redirects with access_denied. state is
// echoed on both when it was given (on Deny by the sandbox's choice; that
// Instagram does so is unconfirmed).
func (s *Sandbox) handleDecision(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.writeErrorPage(w, http.StatusBadRequest, "Invalid Request: the form could not be read.")
		return
	}
	req, msg := s.parseAuthorize(r.PostForm)
	if msg != "" {
		s.writeErrorPage(w, http.StatusBadRequest, msg)
		return
	}
	var b strings.Builder
	b.WriteString(req.RedirectURI)
	if strings.Contains(req.RedirectURI, "?") {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	switch r.PostForm.Get("decision") {
	case "deny":
		b.WriteString("error=access_denied&error_reason=user_denied&error_description=The+user+denied+your+request")
		if req.State != "" {
			b.WriteString("&state=" + url.QueryEscape(req.State))
		}
	case "allow":
		code := newCode()
		s.mu.Lock()
		acct, err := s.accountOrFirstLocked(r.PostForm.Get("account"))
		if err == nil {
			s.storeCodeLocked(code, acct, req.ClientID, req.RedirectURI, intersectScopes(req.Scopes, acct.allowed))
		}
		s.mu.Unlock()
		if err != nil {
			s.writeErrorPage(w, http.StatusBadRequest, "Invalid Request: unknown account.")
			return
		}
		b.WriteString("code=" + code)
		if req.State != "" {
			b.WriteString("&state=" + url.QueryEscape(req.State))
		}
		b.WriteString("#_")
	default:
		s.writeErrorPage(w, http.StatusBadRequest, "Invalid Request: choose Allow or Deny.")
		return
	}
	w.Header().Set("Location", b.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
