package callback

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"math"
	"net/http"
	"strconv"
)

//go:embed templates/page.html
var templates embed.FS

// pageTemplate renders every page: results, failures and deletion statuses. html/template
// escapes every value, so names and usernames cannot inject markup.
var pageTemplate = template.Must(template.ParseFS(templates, "templates/page.html"))

// Security headers sent with every response, pages and JSON alike. The pages need nothing
// but their own inline style block, so the policy forbids everything else; they are never
// framed, never cached (they describe one login), and never leak their URL (which carried
// a code and a state) to another site through the Referer header.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'"

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// page is what pageTemplate shows.
type page struct {
	// Kind is success, error or info; it picks the colours.
	Kind  string
	Badge string
	// Heading says in a few words what happened.
	Heading string
	// Message explains it in a sentence or two.
	Message string
	// Details are facts worth copying (names, ids).
	Details []detail
	// CommandIntro and Command show a command to run.
	CommandIntro string
	Command      string
	// Next says what to do next.
	Next string
	// Code is the failure code, for a support request.
	Code string
}

// detail is one name–value line of a page.
type detail struct{ Name, Value string }

// writePage renders p with status. It renders into a buffer first, so a template error
// cannot leave a half-written page behind a 200.
func writePage(w http.ResponseWriter, status int, p page) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		http.Error(w, "igconnect: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeFailurePage shows f as a page.
func writeFailurePage(w http.ResponseWriter, f *failure) {
	setFailureHeaders(w, f)
	writePage(w, f.status, page{
		Kind:    "error",
		Badge:   strconv.Itoa(f.status) + " " + http.StatusText(f.status),
		Heading: f.title,
		Message: f.message,
		Next:    f.next,
		Code:    f.code,
	})
}

// jsonError is the body of every JSON error: {"error":{"code","message"}}.
type jsonError struct {
	Error jsonErrorBody `json:"error"`
}

type jsonErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeFailureJSON answers f as a JSON error.
func writeFailureJSON(w http.ResponseWriter, f *failure) {
	setFailureHeaders(w, f)
	msg := f.message
	if f.next != "" {
		msg += " " + f.next
	}
	writeJSON(w, f.status, jsonError{Error: jsonErrorBody{Code: f.code, Message: msg}})
}

// setFailureHeaders adds Allow and Retry-After where the failure calls for them.
func setFailureHeaders(w http.ResponseWriter, f *failure) {
	if f.allow != "" {
		w.Header().Set("Allow", f.allow)
	}
	if f.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(f.retryAfter.Seconds())), 10))
	}
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"the response could not be encoded"}}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
