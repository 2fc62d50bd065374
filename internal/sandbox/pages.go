package sandbox

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

// pageFiles are the HTML pages; every one includes the banner that says this
// is the sandbox and not Instagram, so that nobody types a real password here.
//
//go:embed banner.html consent.html error.html index.html
var pageFiles embed.FS

// pages are parsed once; a parse error is a build mistake caught by any test.
var pages = template.Must(template.ParseFS(pageFiles, "*.html"))

// consentScope is one line of the consent page's permission list.
type consentScope struct{ Name, Description string }

// writeConsentPage renders the consent page for a validated request.
func (s *Sandbox) writeConsentPage(w http.ResponseWriter, req authorizeRequest) {
	scopes := make([]consentScope, len(req.Scopes))
	for i, sc := range req.Scopes {
		scopes[i] = consentScope{sc, scopeDescription(sc)}
	}
	s.renderPage(w, http.StatusOK, "consent.html", map[string]any{
		"Request":  req,
		"Scopes":   scopes,
		"Accounts": s.Accounts(),
	})
}

// writeErrorPage renders the sandbox's error page with the given status.
func (s *Sandbox) writeErrorPage(w http.ResponseWriter, status int, message string) {
	s.renderPage(w, status, "error.html", map[string]any{"Message": message})
}

// serveIndex renders the landing page a newcomer sees at the sandbox's root.
func (s *Sandbox) serveIndex(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		s.writeErrorPage(w, http.StatusMethodNotAllowed, "Use GET.")
		return
	}
	s.renderPage(w, http.StatusOK, "index.html", map[string]any{"Accounts": s.Accounts()})
}

// renderPage executes a page into a buffer first, so a template error never
// leaves half a page behind a 200.
func (s *Sandbox) renderPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "igconnect Instagram sandbox: rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
