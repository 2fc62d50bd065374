package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/igconnect/igconnect/internal/sandbox"
)

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--account", "alice:17841400000000099", "--account", "bob",
			"--client-id", "123", "--client-secret", "s3cret", "--min-refresh-age", "1h"}, outW, io.Discard)
		_ = outW.Close() // an io.PipeWriter's Close always returns nil
	}()

	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "sandbox listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("first line %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()

	resp, err := http.Get(base + "/sandbox/accounts")
	if err != nil {
		t.Fatal(err)
	}
	var accounts []sandbox.Account
	err = json.NewDecoder(resp.Body).Decode(&accounts)
	resp.Body.Close()
	if err != nil || len(accounts) != 2 || accounts[0].Username != "alice" || accounts[0].UserID != "17841400000000099" || accounts[1].Username != "bob" {
		t.Fatalf("accounts %+v %v", accounts, err)
	}
	// The configured app is the one the code exchange accepts.
	resp, err = http.PostForm(base+"/oauth/access_token", map[string][]string{
		"client_id": {"123"}, "client_secret": {"wrong"}, "grant_type": {"authorization_code"}, "redirect_uri": {"https://x/cb"}, "code": {"AQx"},
	})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"error_type":"OAuthException","code":400,"error_message":"Invalid platform app"}` {
		t.Fatalf("code exchange %s", body)
	}

	// A request held by a hang fault must not delay shutdown.
	if err := postJSON(base+"/sandbox/faults", `{"kind":"hang","endpoint":"profile"}`); err != nil {
		t.Fatal(err)
	}
	hung := make(chan error, 1)
	go func() {
		resp, err := http.Get(base + "/v25.0/me?access_token=IGAAx")
		if err == nil {
			resp.Body.Close()
		}
		hung <- err
	}()
	// Wait until the sandbox has counted the hanging call before shutting down.
	for calls := 0; calls == 0; {
		resp, err := http.Get(base + "/sandbox/calls")
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]int
		_ = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		calls = c["profile"]
	}
	// The polling above may leave the client a connection it dialled but never used; the
	// server sees it as new and http.Server.Shutdown waits 5 s before it counts such a
	// connection as idle, longer than run's shutdown allows. Close the client's idle ones.
	http.DefaultClient.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if err := <-hung; err == nil {
		t.Fatal("the hung request got an answer; its connection should have been dropped")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--account", "alice:12ab"},
		{"--account", ":1"},
		{"--account", "alice", "--account", "alice"},
		{"--code-ttl", "0s"},
		{"--client-secret", ""},
		{"extra"},
		{"--listen", "256.0.0.1:bad"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// postJSON posts a control request and checks for 2xx.
func postJSON(url, body string) error {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return &statusError{resp.StatusCode}
	}
	return nil
}

// statusError is a non-2xx control answer.
type statusError struct{ code int }

func (e *statusError) Error() string { return http.StatusText(e.code) }
