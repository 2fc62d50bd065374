package devenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/igconnect/igconnect/internal/sandbox"
)

// SandboxClient drives a sandbox running as its own process through its JSON control API
// (internal/sandbox/control.go). Tokens travel only in request bodies.
type SandboxClient struct {
	base string
	hc   *http.Client
}

// NewSandboxClient returns a client for the sandbox at baseURL (http://127.0.0.1:PORT). Its
// connection pool is sized for the benchmark's concurrency: the default transport keeps only
// two idle connections per host, and thousands of parallel setup calls would each open a
// new one. The timeout leaves room for a sandbox loaded by such a run.
func NewSandboxClient(baseURL string) *SandboxClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &SandboxClient{base: baseURL, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// TokenRequest asks the sandbox to mint a token, as POST /sandbox/tokens.
type TokenRequest struct {
	// Account is a user ID, app-scoped ID or username; empty means the first account.
	Account string `json:"account,omitempty"`
	// Kind is sandbox.ShortLived or sandbox.LongLived; empty means long-lived.
	Kind sandbox.TokenKind `json:"kind,omitempty"`
	// Age backdates the token, e.g. "25h" for one old enough to refresh.
	Age string `json:"age,omitempty"`
	// ClientID is the app; empty means the sandbox's first app.
	ClientID string `json:"client_id,omitempty"`
	// Scopes are the granted scopes; empty means all the account's.
	Scopes []string `json:"scopes,omitempty"`
}

// IssueToken mints a token, as the App Dashboard's "generate token" would.
func (c *SandboxClient) IssueToken(ctx context.Context, req TokenRequest) (sandbox.IssuedToken, error) {
	var out sandbox.IssuedToken
	err := c.do(ctx, http.MethodPost, "/sandbox/tokens", req, &out, http.StatusCreated)
	return out, err
}

// InspectToken returns what the sandbox knows about a token; found is false for a token it
// never issued.
func (c *SandboxClient) InspectToken(ctx context.Context, token string) (info sandbox.TokenInfo, found bool, err error) {
	err = c.do(ctx, http.MethodPost, "/sandbox/tokens/inspect", map[string]string{"access_token": token}, &info,
		http.StatusOK)
	if se := (*statusError)(nil); errors.As(err, &se) && se.status == http.StatusNotFound {
		return info, false, nil
	}
	return info, err == nil, err
}

// RevokeToken logs the token out.
func (c *SandboxClient) RevokeToken(ctx context.Context, token string) error {
	return c.do(ctx, http.MethodPost, "/sandbox/tokens/revoke", map[string]string{"access_token": token}, nil,
		http.StatusNoContent)
}

// RemoveApp removes the app (all apps when clientID is empty) from the account, which
// invalidates its tokens, as a person does in Instagram's settings.
func (c *SandboxClient) RemoveApp(ctx context.Context, account, clientID string) error {
	return c.do(ctx, http.MethodPost, "/sandbox/accounts/remove-app",
		map[string]string{"account": account, "client_id": clientID}, nil, http.StatusNoContent)
}

// Accounts lists the accounts that can log in.
func (c *SandboxClient) Accounts(ctx context.Context) ([]sandbox.Account, error) {
	var out []sandbox.Account
	err := c.do(ctx, http.MethodGet, "/sandbox/accounts", nil, &out, http.StatusOK)
	return out, err
}

// Calls returns the number of calls per endpoint (sandbox.EndpointRefresh, ...), failed
// ones included.
func (c *SandboxClient) Calls(ctx context.Context) (map[string]int, error) {
	var out map[string]int
	err := c.do(ctx, http.MethodGet, "/sandbox/calls", nil, &out, http.StatusOK)
	return out, err
}

// ResetCalls sets every call count to zero.
func (c *SandboxClient) ResetCalls(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/sandbox/calls", nil, nil, http.StatusNoContent)
}

// Fault is a misbehaviour to inject, as POST /sandbox/faults takes it.
type Fault struct {
	// Kind is a sandbox.FaultKind: throttle, server_error, hang, malformed, truncated.
	Kind sandbox.FaultKind `json:"kind"`
	// Endpoint is a sandbox endpoint name; empty means all.
	Endpoint string `json:"endpoint,omitempty"`
	// Count is how many calls it affects; 0 means until cleared.
	Count int `json:"count,omitempty"`
	// Status is the HTTP status of throttle and server_error faults.
	Status int `json:"status,omitempty"`
	// HangFor bounds a hang, as a Go duration; empty means until the client gives up or
	// the faults are cleared.
	HangFor string `json:"hang_for,omitempty"`
}

// InjectFault adds a fault.
func (c *SandboxClient) InjectFault(ctx context.Context, f Fault) error {
	return c.do(ctx, http.MethodPost, "/sandbox/faults", f, nil, http.StatusNoContent)
}

// Faults lists the faults that still have calls left.
func (c *SandboxClient) Faults(ctx context.Context) ([]Fault, error) {
	var out []Fault
	err := c.do(ctx, http.MethodGet, "/sandbox/faults", nil, &out, http.StatusOK)
	return out, err
}

// ClearFaults removes every fault and releases hanging requests.
func (c *SandboxClient) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/sandbox/faults", nil, nil, http.StatusNoContent)
}

// statusError is an unexpected answer of the control API.
type statusError struct {
	method, path string
	status       int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("sandbox %s %s: HTTP %d: %s", e.method, e.path, e.status, e.body)
}

// do sends in as JSON and decodes the answer into out, expecting status want.
func (c *SandboxClient) do(ctx context.Context, method, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		// Control API errors name what was wrong, never a token.
		return &statusError{method: method, path: path, status: resp.StatusCode, body: string(bytes.TrimSpace(b))}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
