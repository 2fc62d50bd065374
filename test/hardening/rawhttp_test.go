package hardening

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/igconnect/igconnect/internal/callback"
)

// rawRequest is a request written byte for byte, for what an HTTP client library refuses to
// send: raw CR and LF, bytes that are not UTF-8, oversized heads, smuggling attempts.
type rawRequest struct {
	name string
	raw  string
	// want is the exact status; zero means any 4xx.
	want int
}

// rawRequests are the hostile requests below the level of url.Values.
func rawRequests(host string) []rawRequest {
	head := func(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }
	big := strings.Repeat("A", callback.ServerMaxHeaderBytes+4096)
	many := strings.Repeat("X-"+marker+": 1\r\n", 2000)
	return []rawRequest{
		{name: "CR LF injected into the request line", raw: head("GET "+callback.StartPath+"?ticket=a", "X-Injected: "+marker+" HTTP/1.1", "Host: "+host)},
		{name: "raw non-UTF-8 bytes in the path", raw: head("GET /auth/instagram/\xff\xfe"+marker+" HTTP/1.1", "Host: "+host)},
		{name: "raw non-UTF-8 bytes in the ticket", raw: head("GET "+callback.StartPath+"?ticket=\xc3\x28"+marker+" HTTP/1.1", "Host: "+host)},
		{name: "raw non-UTF-8 bytes in the code", raw: head("GET "+callback.CallbackPath+"?code=\xff"+marker+"&state=x HTTP/1.1", "Host: "+host)},
		{name: "a space in the request target", raw: head("GET "+callback.StartPath+"?ticket=a b"+marker+" HTTP/1.1", "Host: "+host)},
		{name: "a header over the limit", raw: head("GET "+callback.StartPath+" HTTP/1.1", "Host: "+host, "X-Big: "+big),
			want: http.StatusRequestHeaderFieldsTooLarge},
		{name: "a request line over the limit", raw: head("GET "+callback.StartPath+"?ticket="+big+" HTTP/1.1", "Host: "+host),
			want: http.StatusRequestHeaderFieldsTooLarge},
		{name: "2000 headers", raw: "GET " + callback.StartPath + " HTTP/1.1\r\nHost: " + host + "\r\n" + many + "\r\n",
			want: http.StatusRequestHeaderFieldsTooLarge},
		{name: "a NUL in a header value", raw: head("GET "+callback.StartPath+" HTTP/1.1", "Host: "+host, "X-A: a\x00"+marker)},
		// net/http unfolds an obsolete line folding into the value; the fold injects nothing.
		{name: "a folded header", raw: head("GET "+callback.StartPath+"?ticket=x HTTP/1.1", "Host: "+host, "X-A: a", " Set-Cookie: "+marker)},
		{name: "two Host headers", raw: head("GET "+callback.StartPath+" HTTP/1.1", "Host: "+host, "Host: "+marker+".example")},
		{name: "a method with a control byte", raw: head("G\x01T "+callback.StartPath+" HTTP/1.1", "Host: "+host)},
		{name: "Content-Length and Transfer-Encoding together", raw: head("POST "+callback.ExchangePath+" HTTP/1.1", "Host: "+host,
			"Content-Type: application/json", "Content-Length: 4", "Transfer-Encoding: chunked") + "0\r\n\r\nGET /" + marker + " HTTP/1.1\r\n\r\n"},
		{name: "a negative Content-Length", raw: head("POST "+callback.ExchangePath+" HTTP/1.1", "Host: "+host,
			"Content-Type: application/json", "Content-Length: -1")},
		{name: "two different Content-Lengths", raw: head("POST "+callback.ExchangePath+" HTTP/1.1", "Host: "+host,
			"Content-Type: application/json", "Content-Length: 2", "Content-Length: 3") + "{}"},
		// net/http reads on past the handler, up to 256 KiB, to keep the connection; with
		// less than that in flight the answer waits for ServerReadTimeout.
		{name: "a chunk size over the body limit", raw: head("POST "+callback.ExchangePath+" HTTP/1.1", "Host: "+host,
			"Content-Type: application/json", "Transfer-Encoding: chunked") + "ffffffffff\r\n{\"code\":\"" + marker +
			strings.Repeat("A", 400<<10), want: http.StatusRequestEntityTooLarge},
		{name: "an absolute-form target naming another host", raw: head("GET http://"+marker+".example"+callback.StartPath+"?ticket=x HTTP/1.1", "Host: "+host)},
	}
}

// sendRaw writes raw to addr and reads the answer's status line, headers and body.
func sendRaw(addr, raw string) (answer, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return answer{}, err
	}
	defer func() { _ = conn.Close() }() // the answer is read by then; a close error changes nothing
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil && !errors.Is(err, net.ErrClosed) {
		// The server may close before reading everything; its answer is still there.
		var opErr *net.OpError
		if !errors.As(err, &opErr) {
			return answer{}, err
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return answer{resp.StatusCode, resp.Header, string(body)}, nil
}

// testRawRequests sends every raw request to the callback server.
func testRawRequests(t *testing.T, callbackURL string) {
	u, err := url.Parse(callbackURL)
	if err != nil {
		t.Fatal(err)
	}
	cases := rawRequests(u.Host)
	for _, rc := range cases {
		a, err := sendRaw(u.Host, rc.raw)
		if err != nil {
			t.Errorf("%s: %v", rc.name, err)
			continue
		}
		switch {
		case rc.want != 0 && a.status != rc.want:
			t.Errorf("%s: HTTP %d, want %d", rc.name, a.status, rc.want)
		case a.status < 400 || a.status >= 500:
			t.Errorf("%s: HTTP %d, want a 4xx", rc.name, a.status)
		case strings.Contains(a.body, marker) || a.header.Get("Location") != "" || a.header.Get("Set-Cookie") != "":
			t.Errorf("%s: the answer repeats the input, redirects or sets a cookie: %v %.200s", rc.name, a.header, a.body)
		}
	}
	report.badInput("raw http requests", len(cases))
}

// slowClient opens a connection to addr, writes prefix, then sends nothing more; it
// returns how long the server took to close the connection (or answer), capped at limit.
func slowClient(ctx context.Context, addr, prefix string, limit time.Duration) (time.Duration, string, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = conn.Close() }() // the timing is measured by then; a close error changes nothing
	start := time.Now()
	if _, err := io.WriteString(conn, prefix); err != nil {
		return 0, "", err
	}
	_ = conn.SetReadDeadline(start.Add(limit))
	go func() {
		<-ctx.Done()
		_ = conn.Close()
	}()
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return time.Since(start), string(b), fmt.Errorf("still open after %s", limit)
	}
	first, _, _ := strings.Cut(string(b), "\r\n")
	return time.Since(start), first, nil
}

// testServerLimits checks the callback server's configuration and, live, that a client that
// stalls in the head or the body is cut off when the limits say; and the sandbox's, which
// has only a header timeout.
func testServerLimits(ctx context.Context, t *testing.T, callbackURL, sandboxURL string) {
	srv := callback.NewServer("127.0.0.1:0", http.NotFoundHandler())
	for _, c := range []struct {
		name      string
		got, want time.Duration
		max       time.Duration
	}{
		{"ReadHeaderTimeout", srv.ReadHeaderTimeout, callback.ServerReadHeaderTimeout, 10 * time.Second},
		{"ReadTimeout", srv.ReadTimeout, callback.ServerReadTimeout, 30 * time.Second},
		{"WriteTimeout", srv.WriteTimeout, callback.ServerWriteTimeout, 2 * time.Minute},
		{"IdleTimeout", srv.IdleTimeout, callback.ServerIdleTimeout, 5 * time.Minute},
	} {
		if c.got != c.want || c.got <= 0 || c.got > c.max {
			t.Errorf("callback server %s = %s, want %s (positive, at most %s)", c.name, c.got, c.want, c.max)
		}
	}
	if srv.MaxHeaderBytes != callback.ServerMaxHeaderBytes || srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 64<<10 {
		t.Errorf("callback server MaxHeaderBytes = %d, want %d", srv.MaxHeaderBytes, callback.ServerMaxHeaderBytes)
	}

	cb, _ := url.Parse(callbackURL)
	sb, _ := url.Parse(sandboxURL)
	type probe struct {
		name, addr, prefix string
		// within is when the server must have cut the client off: its limit, give or take.
		min, within time.Duration
	}
	probes := []probe{
		{"callback server, a head that never ends", cb.Host, "GET " + callback.HealthzPath + " HTTP/1.1\r\nHost: x\r\n",
			callback.ServerReadHeaderTimeout - time.Second, callback.ServerReadHeaderTimeout + 5*time.Second},
		{"callback server, a body that never ends", cb.Host, "POST " + callback.ExchangePath + " HTTP/1.1\r\nHost: x\r\n" +
			"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"code\":\"",
			callback.ServerReadTimeout - time.Second, callback.ServerReadTimeout + 5*time.Second},
		// cmd/instagram-sandbox sets ReadHeaderTimeout: 10s and nothing else.
		{"sandbox, a head that never ends", sb.Host, "GET /sandbox/healthz HTTP/1.1\r\nHost: x\r\n",
			9 * time.Second, 15 * time.Second},
	}
	// The sandbox caps form and control bodies at 1 MiB.
	for _, big := range []struct{ path, ctype string }{
		{"/oauth/access_token", "application/x-www-form-urlencoded"},
		{"/sandbox/tokens", "application/json"},
	} {
		body := strings.NewReader("client_id=" + strings.Repeat("A", 2<<20))
		if big.ctype == "application/json" {
			body = strings.NewReader(`{"account":"` + strings.Repeat("A", 2<<20) + `"}`)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sandboxURL+big.path, body)
		req.Header.Set("Content-Type", big.ctype)
		a, err := newBrowser().do(req)
		if err != nil || a.status < 400 || a.status >= 500 {
			t.Errorf("sandbox %s with a 2 MiB body: %v, HTTP %d", big.path, err, a.status)
		}
	}
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			took, first, err := slowClient(ctx, p.addr, p.prefix, p.within)
			switch {
			case err != nil:
				t.Errorf("%s: %v", p.name, err)
			case took < p.min:
				t.Errorf("%s: cut off after %s (%q), before its limit", p.name, took.Round(100*time.Millisecond), first)
			default:
				t.Logf("%s: cut off after %s (%q)", p.name, took.Round(100*time.Millisecond), first)
			}
		}()
	}
	wg.Wait()
	report.badInput("slow clients", len(probes))
	report.badInput("oversized bodies", 2)
}
