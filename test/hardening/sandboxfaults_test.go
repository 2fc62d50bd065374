package hardening

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// fault is a fault as the sandbox's control API takes it (POST /sandbox/faults), with the
// fields devenv.Fault leaves out.
type fault struct {
	Kind     string `json:"kind"`
	Endpoint string `json:"endpoint,omitempty"`
	Count    int    `json:"count,omitempty"`
	Status   int    `json:"status,omitempty"`
	HTML     bool   `json:"html,omitempty"`
	// RegainMinutes is the throttle's estimated_time_to_regain_access.
	RegainMinutes int    `json:"estimated_time_to_regain_access,omitempty"`
	HangFor       string `json:"hang_for,omitempty"`
}

// String names the fault for the report.
func (f fault) String() string {
	s := f.Kind
	if f.Status != 0 {
		s += fmt.Sprintf("-%d", f.Status)
	}
	if f.HTML {
		s += "-html"
	}
	if f.RegainMinutes > 0 {
		s += fmt.Sprintf("-regain%dm", f.RegainMinutes)
	}
	return s
}

// inject adds a fault to the stack's sandbox and records it.
func (s *stack) inject(ctx context.Context, t *testing.T, f fault) {
	t.Helper()
	b, _ := json.Marshal(f)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.sb.URL+"/sandbox/faults", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("inject %+v: HTTP %d %s", f, resp.StatusCode, body)
	}
	report.fault("instagram " + f.String())
}

// clearFaults removes every fault and releases hung requests.
func (s *stack) clearFaults(ctx context.Context, t *testing.T) {
	t.Helper()
	if err := s.sb.Control.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
}
