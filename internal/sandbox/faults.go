package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// FaultKind names a way an endpoint can misbehave.
type FaultKind string

// Fault kinds.
const (
	// FaultThrottle answers code 4, "(#4) Application request limit
	// reached", is_transient true, with X-App-Usage and
	// X-Business-Use-Case-Usage headers at 100%. HTTP status Fault.Status,
	// default 400 (the authorize page: 429). The code exchange uses its flat
	// envelope with code 4.
	FaultThrottle FaultKind = "throttle"
	// FaultServerError answers 5xx (Fault.Status, default 500) with an HTML
	// page (Fault.HTML) or a JSON error: Graph code 2, is_transient true,
	// MsgServerError; the code exchange's flat envelope with the status as
	// code.
	FaultServerError FaultKind = "server_error"
	// FaultHang holds the request until the client gives up (its context is
	// cancelled), Fault.HangFor passes on the sandbox's clock, or ClearFaults
	// is called; in the last two cases the request is then served normally,
	// late. Nothing is written if the client gave up.
	FaultHang FaultKind = "hang"
	// FaultMalformed serves the request (side effects happen: a code is
	// consumed, a token minted) and replaces the body with HTTP 200 and text
	// that is not JSON.
	FaultMalformed FaultKind = "malformed"
	// FaultTruncated serves the request (side effects happen), then sends the
	// real status and headers with the full Content-Length but only the first
	// half of the body and closes the connection, so the client reads an
	// unexpected EOF.
	FaultTruncated FaultKind = "truncated"
)

// malformedBody is what FaultMalformed sends: JSON-looking, not JSON.
const malformedBody = `{"igconnect_sandbox_fault": malformed}`

// serverErrorHTML is what FaultServerError sends when HTML is asked for, like
// a proxy's error page.
const serverErrorHTML = "<!DOCTYPE html>\n<html><head><title>Error</title></head><body>" +
	"<h1>Sorry, something went wrong.</h1>" +
	"<p>igconnect Instagram sandbox (not Instagram): injected server error.</p></body></html>\n"

// Fault describes a misbehaviour to inject into the API endpoints. Its JSON
// form on the control API is faultWire.
type Fault struct {
	// Kind is what goes wrong.
	Kind FaultKind
	// Endpoint is an endpoint name (EndpointCodeExchange, …); empty means
	// every endpoint. Faults aimed at one endpoint take precedence over
	// faults for all.
	Endpoint string
	// Count is how many calls the fault affects; 0 means until ClearFaults.
	// Faults are used up in the order they were injected.
	Count int
	// Status is the HTTP status for throttle and server_error faults.
	Status int
	// HTML makes a server_error fault answer with an HTML page.
	HTML bool
	// RegainAccessMinutes is the throttle's estimated_time_to_regain_access.
	RegainAccessMinutes int
	// HangFor bounds a hang fault; 0 means until the client gives up or the
	// faults are cleared.
	HangFor time.Duration
}

// activeFault is an injected fault and the calls it has left.
type activeFault struct {
	Fault
	ep        endpoint
	all       bool
	remaining int
}

// faultSet holds the injected faults in injection order. It is tiny (a test
// injects a handful), so a scan is cheaper than any index.
type faultSet []*activeFault

// take returns the fault that applies to the next call of ep, using one of
// its calls, or nil.
func (fs *faultSet) take(ep endpoint) *Fault {
	if len(*fs) == 0 {
		return nil
	}
	pick := -1
	for i, f := range *fs {
		if !f.all && f.ep == ep {
			pick = i
			break
		}
		if f.all && pick < 0 {
			pick = i
		}
	}
	if pick < 0 {
		return nil
	}
	f := (*fs)[pick]
	if f.remaining > 0 {
		f.remaining--
		if f.remaining == 0 {
			*fs = append((*fs)[:pick:pick], (*fs)[pick+1:]...)
		}
	}
	c := f.Fault
	return &c
}

// InjectFault makes the chosen endpoint (or all) misbehave for f.Count calls
// or until ClearFaults.
func (s *Sandbox) InjectFault(f Fault) error {
	af := &activeFault{Fault: f, remaining: f.Count, all: f.Endpoint == ""}
	if !af.all {
		ep, ok := endpointByName(f.Endpoint)
		if !ok {
			return fmt.Errorf("unknown endpoint %q (want one of %v or empty for all)", f.Endpoint, Endpoints())
		}
		af.ep = ep
	}
	switch f.Kind {
	case FaultThrottle:
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			return fmt.Errorf("throttle status %d is not 4xx or 5xx", f.Status)
		}
	case FaultServerError:
		if f.Status != 0 && (f.Status < 500 || f.Status > 599) {
			return fmt.Errorf("server_error status %d is not 5xx", f.Status)
		}
	case FaultHang, FaultMalformed, FaultTruncated:
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Count < 0 || f.HangFor < 0 || f.RegainAccessMinutes < 0 {
		return fmt.Errorf("count, hang duration and regain minutes must not be negative")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, af)
	return nil
}

// ClearFaults removes every fault and releases every hanging request (which
// is then served normally).
func (s *Sandbox) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	close(s.hangRelease)
	s.hangRelease = make(chan struct{})
}

// Faults returns the faults still active, with Count the calls each has
// left (0: until cleared).
func (s *Sandbox) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		c := f.Fault
		c.Count = f.remaining
		out = append(out, c)
	}
	return out
}

// serveEndpoint runs an endpoint's handler behind the fault injector and the
// usage headers.
func (s *Sandbox) serveEndpoint(w http.ResponseWriter, r *http.Request, ep endpoint, h http.HandlerFunc) {
	s.mu.Lock()
	f := s.faults.take(ep)
	usage := s.usage
	release := s.hangRelease
	s.mu.Unlock()

	var buf *bufferedResponse
	if f != nil {
		switch f.Kind {
		case FaultThrottle:
			s.writeThrottle(w, r, ep, f)
			return
		case FaultServerError:
			s.writeServerError(w, ep, f)
			return
		case FaultHang:
			if !s.hang(r.Context(), f.HangFor, release) {
				dropConnection(w)
				return
			}
		case FaultMalformed, FaultTruncated:
			buf = &bufferedResponse{header: http.Header{}}
		}
	}
	out := w
	if buf != nil {
		out = buf
	}
	if usage != nil && ep != epAuthorize {
		out = &usageWriter{ResponseWriter: out, s: s, r: r, ep: ep, usage: *usage}
	}
	h(out, r)
	if buf != nil {
		buf.flush(w, f.Kind)
	}
}

// hang blocks until ctx is done (false) or d passes on the sandbox's clock or
// the faults are cleared (true). It never sleeps blindly, so a test with a
// FakeClock or a cancelled client is never kept waiting.
func (s *Sandbox) hang(ctx context.Context, d time.Duration, release <-chan struct{}) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := s.clock.NewTimer(d)
		defer t.Stop()
		timeout = t.C()
	}
	if s.hangStarted != nil {
		s.hangStarted()
	}
	select {
	case <-ctx.Done():
		return false
	case <-timeout:
		return true
	case <-release:
		return true
	}
}

// dropConnection closes the connection under a hung request whose context
// ended. When the client gave up the connection is gone anyway; when the
// server is shutting down, a closed connection tells the client the truth,
// where returning would send an empty 200. Writers that cannot be hijacked
// (HTTP/2, recorders) are left alone.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// writeThrottle answers with code 4 in the endpoint's own envelope.
func (s *Sandbox) writeThrottle(w http.ResponseWriter, r *http.Request, ep endpoint, f *Fault) {
	if ep == epCodeExchange {
		_, _ = parseBodyForm(w, r) // so the BUC header can name the client_id
	}
	setUsageHeaders(w.Header(), Usage{
		CallCount: 100, TotalCPUTime: 100, TotalTime: 100,
		EstimatedTimeToRegainAccess: f.RegainAccessMinutes,
	}, s.usageID(r, ep))
	status := f.Status
	switch ep {
	case epAuthorize:
		if status == 0 {
			status = http.StatusTooManyRequests
		}
		s.writeErrorPage(w, status, "Please wait a few minutes before you try again.")
	case epCodeExchange:
		if status == 0 {
			status = http.StatusBadRequest
		}
		writeLegacyErrorCode(w, status, 4, MsgRateLimited)
	default:
		if status == 0 {
			status = http.StatusBadRequest
		}
		writeGraphError(w, status, graphError{Code: 4, Message: MsgRateLimited, IsTransient: true})
	}
}

// writeServerError answers 5xx with an HTML page or the endpoint's JSON
// error envelope.
func (s *Sandbox) writeServerError(w http.ResponseWriter, ep endpoint, f *Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	switch {
	case f.HTML || ep == epAuthorize:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(serverErrorHTML))
	case ep == epCodeExchange:
		writeLegacyErrorCode(w, status, status, MsgServerError)
	default:
		writeGraphError(w, status, graphError{Code: 2, Message: MsgServerError, IsTransient: true})
	}
}

// bufferedResponse captures a handler's response so a fault can mangle it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// Header returns the captured header map.
func (b *bufferedResponse) Header() http.Header { return b.header }

// WriteHeader records the first status.
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

// Write captures body bytes.
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// flush sends the captured response, mangled as kind says.
func (b *bufferedResponse) flush(w http.ResponseWriter, kind FaultKind) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if kind == FaultMalformed {
		h.Del("Content-Length")
		h.Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(malformedBody))
		return
	}
	full := b.body.Bytes()
	h.Set("Content-Length", strconv.Itoa(len(full)))
	w.WriteHeader(b.status)
	_, _ = w.Write(full[:len(full)/2])
}
