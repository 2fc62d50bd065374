// Package httpstatus records the status an http.Handler wrote, for request logs. The
// callback server and the sandbox both log one line per request and neither may log the
// query or body, which carry tokens and codes: the path and this status are what they log.
package httpstatus

import "net/http"

// Recorder wraps a ResponseWriter and remembers the first status written.
type Recorder struct {
	http.ResponseWriter
	// Status is the status written, http.StatusOK once a body was written without one, or
	// 0 when the handler wrote nothing.
	Status int
}

// WriteHeader records the status and passes it on.
func (r *Recorder) WriteHeader(status int) {
	if r.Status == 0 {
		r.Status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

// Write records the implicit 200 of a body written without a status.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer (to flush, or to drop a
// hung connection on shutdown).
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
