package sandbox

import (
	"encoding/json"
	"net/http"
)

// Usage is what the rate-limit headers report: X-App-Usage (percentages of
// the app's limits) and X-Business-Use-Case-Usage (the same per business
// object, plus the minutes until access returns).
type Usage struct {
	// CallCount is the percentage of the call limit used.
	CallCount int `json:"call_count"`
	// TotalCPUTime is the percentage of the CPU-time limit used.
	TotalCPUTime int `json:"total_cputime"`
	// TotalTime is the percentage of the total-time limit used.
	TotalTime int `json:"total_time"`
	// EstimatedTimeToRegainAccess is in minutes, as Meta reports it.
	EstimatedTimeToRegainAccess int `json:"estimated_time_to_regain_access"`
}

// SetUsage makes every successful response of the API endpoints (not the
// authorize page) carry usage headers with these values; nil stops it. A
// client can then be tested for pacing itself before it is throttled.
func (s *Sandbox) SetUsage(u *Usage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u == nil {
		s.usage = nil
		return
	}
	c := *u
	s.usage = &c
}

// CurrentUsage returns the usage set with SetUsage, or nil.
func (s *Sandbox) CurrentUsage() *Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usage == nil {
		return nil
	}
	c := *s.usage
	return &c
}

// appUsage is the X-App-Usage value, which has no regain estimate.
type appUsage struct {
	CallCount    int `json:"call_count"`
	TotalCPUTime int `json:"total_cputime"`
	TotalTime    int `json:"total_time"`
}

// bucUsage is one entry of X-Business-Use-Case-Usage.
type bucUsage struct {
	Type string `json:"type"`
	Usage
}

// setUsageHeaders writes both headers, keyed (for the BUC one) by id.
func setUsageHeaders(h http.Header, u Usage, id string) {
	app, _ := json.Marshal(appUsage{u.CallCount, u.TotalCPUTime, u.TotalTime})
	buc, _ := json.Marshal(map[string][]bucUsage{id: {{Type: "instagram", Usage: u}}})
	h.Set("X-App-Usage", string(app))
	h.Set("X-Business-Use-Case-Usage", string(buc))
}

// usageID is the business object the BUC header is keyed by: the account
// behind the request's token when the sandbox knows it, else the app (the
// request's client_id, else the first app).
func (s *Sandbox) usageID(r *http.Request, ep endpoint) string {
	switch ep {
	case epTokenExchange, epRefresh, epProfile:
		value := accessTokenFrom(r, r.URL.Query())
		s.mu.Lock()
		t := s.tokens[value]
		var id string
		if t != nil {
			id = t.acct.UserID
		}
		s.mu.Unlock()
		if id != "" {
			return id
		}
	case epCodeExchange:
		if id := r.PostForm.Get("client_id"); s.appsByID[id] != nil {
			return id
		}
	}
	return s.apps[0].ClientID
}

// usageWriter adds usage headers when the wrapped handler answers 2xx.
type usageWriter struct {
	http.ResponseWriter
	s           *Sandbox
	r           *http.Request
	ep          endpoint
	usage       Usage
	wroteHeader bool
}

// WriteHeader adds the headers before a 2xx status goes out.
func (u *usageWriter) WriteHeader(code int) {
	if !u.wroteHeader {
		u.wroteHeader = true
		if code >= 200 && code < 300 {
			setUsageHeaders(u.Header(), u.usage, u.s.usageID(u.r, u.ep))
		}
	}
	u.ResponseWriter.WriteHeader(code)
}

// Write implies a 200, as for any ResponseWriter.
func (u *usageWriter) Write(b []byte) (int, error) {
	if !u.wroteHeader {
		u.WriteHeader(http.StatusOK)
	}
	return u.ResponseWriter.Write(b)
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (u *usageWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }
