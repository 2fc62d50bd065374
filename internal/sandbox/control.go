package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// controlHandler builds the JSON control API, which lets a test drive a
// sandbox running as a separate process exactly as the Go methods do
// in-process. Bodies are JSON; unknown fields are rejected so that a typo
// fails loudly instead of being ignored. Errors are {"error":"…"} with 400
// (bad input), 404 (unknown account, app, token or route) or 409 (conflict).
// Tokens travel only in POST bodies, never in URLs, so they stay out of
// access logs.
//
//	GET    /sandbox/healthz                   → 200 {"status":"ok"}
//	GET    /sandbox/accounts                  → 200 [Account…]
//	POST   /sandbox/accounts                  Account → 201 Account (blanks filled; an existing user_id is updated)
//	POST   /sandbox/accounts/password-change  {"account":"<user id|app-scoped id|username>"} → 204
//	POST   /sandbox/accounts/remove-app       {"account":"…","client_id":"…"} (client_id optional: every app) → 204
//	POST   /sandbox/tokens                    {"account","kind":"short_lived|long_lived","issued_at":RFC3339,"age":"25h",
//	                                           "client_id","scopes":[…]} → 201 IssuedToken
//	POST   /sandbox/tokens/inspect            {"access_token":"…"} → 200 TokenInfo | 404
//	POST   /sandbox/tokens/revoke             {"access_token":"…"} → 204 | 404
//	POST   /sandbox/codes                     {"account","client_id","redirect_uri","scopes":[…]} → 201 {"code":"…"}
//	GET    /sandbox/issued                    → 200 {"tokens":[…],"codes":[…],"app_secrets":[…]} (every one ever issued, for leak scans)
//	GET    /sandbox/faults                    → 200 [fault…]
//	POST   /sandbox/faults                    {"kind","endpoint","count","status","html","estimated_time_to_regain_access","hang_for":"30s"} → 204
//	DELETE /sandbox/faults                    → 204 (clears all faults and releases hanging requests)
//	GET    /sandbox/usage                     → 200 Usage or null
//	PUT    /sandbox/usage                     {"call_count","total_cputime","total_time","estimated_time_to_regain_access"} → 204
//	DELETE /sandbox/usage                     → 204
//	GET    /sandbox/response-shapes           → 200 {"code_exchange":"flat|data","profile":"flat|data"}
//	PUT    /sandbox/response-shapes           {"code_exchange","profile"} → 204
//	GET    /sandbox/calls                     → 200 {"authorize":N,"code_exchange":N,"token_exchange":N,"refresh":N,"profile":N}
//	DELETE /sandbox/calls                     → 204
//	GET    /sandbox/clock                     → 200 {"now":RFC3339,"offset":"25h0m0s"}
//	POST   /sandbox/clock                     {"advance":"25h"} → 200 {"now","offset"}
//
// In POST /sandbox/tokens, "age" is a convenience for the separate-process
// case: issued_at = the sandbox's now minus age (do not give both).
func (s *Sandbox) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sandbox/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /sandbox/accounts", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Accounts())
	})
	mux.HandleFunc("POST /sandbox/accounts", s.controlAddAccount)
	mux.HandleFunc("POST /sandbox/accounts/password-change", s.controlPasswordChange)
	mux.HandleFunc("POST /sandbox/accounts/remove-app", s.controlRemoveApp)
	mux.HandleFunc("POST /sandbox/tokens", s.controlIssueToken)
	mux.HandleFunc("POST /sandbox/tokens/inspect", s.controlInspectToken)
	mux.HandleFunc("POST /sandbox/tokens/revoke", s.controlRevokeToken)
	mux.HandleFunc("POST /sandbox/codes", s.controlIssueCode)
	mux.HandleFunc("GET /sandbox/issued", s.controlIssued)
	mux.HandleFunc("GET /sandbox/faults", s.controlListFaults)
	mux.HandleFunc("POST /sandbox/faults", s.controlInjectFault)
	mux.HandleFunc("DELETE /sandbox/faults", func(w http.ResponseWriter, _ *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /sandbox/usage", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.CurrentUsage())
	})
	mux.HandleFunc("PUT /sandbox/usage", s.controlSetUsage)
	mux.HandleFunc("DELETE /sandbox/usage", func(w http.ResponseWriter, _ *http.Request) {
		s.SetUsage(nil)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /sandbox/response-shapes", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.CurrentResponseShapes())
	})
	mux.HandleFunc("PUT /sandbox/response-shapes", s.controlSetShapes)
	mux.HandleFunc("GET /sandbox/calls", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Calls())
	})
	mux.HandleFunc("DELETE /sandbox/calls", func(w http.ResponseWriter, _ *http.Request) {
		s.ResetCalls()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /sandbox/clock", func(w http.ResponseWriter, _ *http.Request) {
		s.writeClock(w)
	})
	mux.HandleFunc("POST /sandbox/clock", s.controlAdvanceClock)
	mux.HandleFunc("/sandbox/", func(w http.ResponseWriter, r *http.Request) {
		writeControlError(w, http.StatusNotFound, fmt.Errorf("no control route %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// writeControlError answers a control request with {"error": "..."}.
func writeControlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// statusFor maps a method's error to the control API's status.
func statusFor(err error) int {
	var nf notFoundError
	var conflict errConflict
	switch {
	case errors.As(err, &nf):
		return http.StatusNotFound
	case errors.As(err, &conflict):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// decodeBody reads one JSON value into v, strictly.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeControlError(w, http.StatusBadRequest, fmt.Errorf("invalid JSON body: %w", err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeControlError(w, http.StatusBadRequest, errors.New("invalid JSON body: more than one value"))
		return false
	}
	return true
}

// controlAddAccount serves POST /sandbox/accounts.
func (s *Sandbox) controlAddAccount(w http.ResponseWriter, r *http.Request) {
	var a Account
	if !decodeBody(w, r, &a) {
		return
	}
	s.mu.Lock()
	out, err := s.addAccountLocked(a)
	s.mu.Unlock()
	if err != nil {
		writeControlError(w, statusFor(err), err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// accountRef is the body of the account controls.
type accountRef struct {
	Account  string `json:"account"`
	ClientID string `json:"client_id,omitempty"`
}

// controlPasswordChange serves POST /sandbox/accounts/password-change.
func (s *Sandbox) controlPasswordChange(w http.ResponseWriter, r *http.Request) {
	var ref accountRef
	if !decodeBody(w, r, &ref) {
		return
	}
	if err := s.ChangePassword(ref.Account); err != nil {
		writeControlError(w, statusFor(err), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// controlRemoveApp serves POST /sandbox/accounts/remove-app.
func (s *Sandbox) controlRemoveApp(w http.ResponseWriter, r *http.Request) {
	var ref accountRef
	if !decodeBody(w, r, &ref) {
		return
	}
	if err := s.RemoveApp(ref.Account, ref.ClientID); err != nil {
		writeControlError(w, statusFor(err), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// tokenWire is TokenRequest plus the age convenience.
type tokenWire struct {
	TokenRequest
	Age string `json:"age,omitempty"`
}

// controlIssueToken serves POST /sandbox/tokens.
func (s *Sandbox) controlIssueToken(w http.ResponseWriter, r *http.Request) {
	var req tokenWire
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Age != "" {
		age, err := time.ParseDuration(req.Age)
		switch {
		case err != nil:
			writeControlError(w, http.StatusBadRequest, fmt.Errorf("age: %w", err))
			return
		case !req.IssuedAt.IsZero():
			writeControlError(w, http.StatusBadRequest, errors.New("give issued_at or age, not both"))
			return
		}
		req.IssuedAt = s.Now().Add(-age)
	}
	tok, err := s.IssueToken(req.TokenRequest)
	if err != nil {
		writeControlError(w, statusFor(err), err)
		return
	}
	writeJSON(w, http.StatusCreated, tok)
}

// tokenRef is the body of the token controls.
type tokenRef struct {
	AccessToken string `json:"access_token"`
}

// controlInspectToken serves POST /sandbox/tokens/inspect.
func (s *Sandbox) controlInspectToken(w http.ResponseWriter, r *http.Request) {
	var ref tokenRef
	if !decodeBody(w, r, &ref) {
		return
	}
	info, ok := s.TokenInfo(ref.AccessToken)
	if !ok {
		writeControlError(w, http.StatusNotFound, errors.New("the sandbox never issued this token"))
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// controlRevokeToken serves POST /sandbox/tokens/revoke.
func (s *Sandbox) controlRevokeToken(w http.ResponseWriter, r *http.Request) {
	var ref tokenRef
	if !decodeBody(w, r, &ref) {
		return
	}
	if !s.RevokeToken(ref.AccessToken) {
		writeControlError(w, http.StatusNotFound, errors.New("the sandbox never issued this token"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// controlIssueCode serves POST /sandbox/codes.
func (s *Sandbox) controlIssueCode(w http.ResponseWriter, r *http.Request) {
	var req CodeRequest
	if !decodeBody(w, r, &req) {
		return
	}
	code, err := s.IssueCode(req)
	if err != nil {
		writeControlError(w, statusFor(err), err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"code": code})
}

// faultWire is a Fault on the wire, with hang_for as a Go duration string.
type faultWire struct {
	Kind                FaultKind `json:"kind"`
	Endpoint            string    `json:"endpoint,omitempty"`
	Count               int       `json:"count,omitempty"`
	Status              int       `json:"status,omitempty"`
	HTML                bool      `json:"html,omitempty"`
	RegainAccessMinutes int       `json:"estimated_time_to_regain_access,omitempty"`
	HangFor             string    `json:"hang_for,omitempty"`
}

// controlListFaults serves GET /sandbox/faults.
func (s *Sandbox) controlListFaults(w http.ResponseWriter, _ *http.Request) {
	faults := s.Faults()
	out := make([]faultWire, len(faults))
	for i, f := range faults {
		out[i] = faultWire{f.Kind, f.Endpoint, f.Count, f.Status, f.HTML, f.RegainAccessMinutes, ""}
		if f.HangFor > 0 {
			out[i].HangFor = f.HangFor.String()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// controlInjectFault serves POST /sandbox/faults.
func (s *Sandbox) controlInjectFault(w http.ResponseWriter, r *http.Request) {
	var fw faultWire
	if !decodeBody(w, r, &fw) {
		return
	}
	f := Fault{Kind: fw.Kind, Endpoint: fw.Endpoint, Count: fw.Count, Status: fw.Status, HTML: fw.HTML,
		RegainAccessMinutes: fw.RegainAccessMinutes}
	if fw.HangFor != "" {
		d, err := time.ParseDuration(fw.HangFor)
		if err != nil {
			writeControlError(w, http.StatusBadRequest, fmt.Errorf("hang_for: %w", err))
			return
		}
		f.HangFor = d
	}
	if err := s.InjectFault(f); err != nil {
		writeControlError(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// controlSetUsage serves PUT /sandbox/usage.
func (s *Sandbox) controlSetUsage(w http.ResponseWriter, r *http.Request) {
	var u Usage
	if !decodeBody(w, r, &u) {
		return
	}
	s.SetUsage(&u)
	w.WriteHeader(http.StatusNoContent)
}

// controlSetShapes serves PUT /sandbox/response-shapes.
func (s *Sandbox) controlSetShapes(w http.ResponseWriter, r *http.Request) {
	var rs ResponseShapes
	if !decodeBody(w, r, &rs) {
		return
	}
	if err := s.SetResponseShapes(rs); err != nil {
		writeControlError(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// clockWire is the body of the clock control.
type clockWire struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

// writeClock answers with the sandbox's time and offset.
func (s *Sandbox) writeClock(w http.ResponseWriter) {
	s.mu.Lock()
	now, off := s.nowLocked(), s.offset
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, clockWire{Now: now, Offset: off.String()})
}

// controlAdvanceClock serves POST /sandbox/clock.
func (s *Sandbox) controlAdvanceClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	d, err := time.ParseDuration(req.Advance)
	if err != nil {
		writeControlError(w, http.StatusBadRequest, fmt.Errorf("advance: %w", err))
		return
	}
	if _, err := s.AdvanceClock(d); err != nil {
		writeControlError(w, http.StatusBadRequest, err)
		return
	}
	s.writeClock(w)
}
