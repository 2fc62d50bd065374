package hardening

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/callback"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/signedrequest"
)

// marker is in every hostile value, so an answer that repeats any of them is caught.
const marker = "EVILmarker7q"

// TestAbuse sends hostile requests to the real manager's callback server, hostile objects
// to the API server, and checks the servers' limits; a login, a replay and a few stale
// tickets run through the real flow. None may change anything, answer 5xx, echo the input,
// or break a header.
func TestAbuse(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "abuse")
	s := startStack(t, c, "abuse", stackOptions{ttl: 10 * time.Minute, accounts: 3})
	ctx := testContext(t, 8*time.Minute)
	m := s.mgrs[0]
	s.importConnection(ctx, t, "target", s.accounts[0].Username)
	for _, name := range []string{"awaiting", "recreated"} {
		conn := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
			Spec: igv1.InstagramConnectionSpec{SecretName: name + "-token"}}
		if err := c.kube.Create(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
	s.settle(t, 30*time.Second, false, "target")
	ticketOf := func(name string) string {
		var ticketURL string
		NewWithT(t).Eventually(func(g Gomega) {
			conn, err := s.connection(ctx, name)
			g.Expect(err).NotTo(HaveOccurred())
			ticketURL = conn.Status.AuthorizationURL
			g.Expect(ticketURL).NotTo(BeEmpty())
		}).WithTimeout(30*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), "%s's authorizationURL", name)
		u, err := url.Parse(ticketURL)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get(oauthstate.TicketParam)
	}
	awaitingTicket, recreatedTicket := ticketOf("awaiting"), ticketOf("recreated")
	target, _ := s.connection(ctx, "target")

	scenario(t, "hostile-http", func(t *testing.T) {
		// A ticket signed with a key that is not the operator's, for the right connection.
		otherSigner, err := oauthstate.NewSigner([]byte(strings.Repeat("k", 32)), clock.RealClock{})
		if err != nil {
			t.Fatal(err)
		}
		awaiting, _ := s.connection(ctx, "awaiting")
		foreignTicket := otherSigner.Ticket(oauthstate.TicketRef{Namespace: s.ns, Name: "awaiting", UID: awaiting.UID})
		flipped := flipLast(awaitingTicket)
		// A state minted with the foreign key: well formed, wrong signature.
		foreignState, _, _ := otherSigner.NewState(strings.Repeat("A", 43), "", oauthstate.FlowRedirect, 10*time.Minute)
		forgedSR := signedrequest.Sign("not-the-app-secret", signedrequest.Payload{UserID: target.Status.UserID,
			IssuedAt: time.Now().Unix()})
		noneSR := signedrequest.Sign(sandbox.DefaultClientSecret, signedrequest.Payload{Algorithm: "none",
			UserID: target.Status.UserID, IssuedAt: time.Now().Unix()})
		form := "application/x-www-form-urlencoded"
		q := url.QueryEscape
		long := func(n int) string { return marker + strings.Repeat("A", n) }
		cases := []hostileRequest{
			// The start endpoint and its tickets.
			{name: "start with a ticket whose MAC is off by one character", target: callback.StartPath + "?ticket=" + q(flipped)},
			{name: "start with a ticket signed by another key", target: callback.StartPath + "?ticket=" + q(foreignTicket)},
			{name: "start with a state instead of a ticket", target: callback.StartPath + "?ticket=" + q(foreignState)},
			{name: "start with a ticket of garbage", target: callback.StartPath + "?ticket=" + marker + "AAAA.BBBB"},
			{name: "start with a huge ticket", target: callback.StartPath + "?ticket=" + long(5000), want: http.StatusRequestURITooLong},
			{name: "start with a ticket just under the query limit", target: callback.StartPath + "?ticket=" + long(4000)},
			{name: "start with two tickets", target: callback.StartPath + "?ticket=" + q(awaitingTicket) + "&ticket=" + q(awaitingTicket)},
			{name: "start with a non-UTF-8 ticket", target: callback.StartPath + "?ticket=%ff%fe" + marker},
			{name: "start with CR LF in the ticket", target: callback.StartPath + "?ticket=x%0d%0aSet-Cookie:%20" + marker + "=1"},
			{name: "start with NUL in the ticket", target: callback.StartPath + "?ticket=" + q(awaitingTicket) + "%00"},
			{name: "start with an unknown flow", target: callback.StartPath + "?flow=" + marker},
			{name: "start with a bad escape", target: callback.StartPath + "?ticket=%zz" + marker},
			{name: "start with ; separators", target: callback.StartPath + "?ticket=a;flow=" + marker},
			{name: "start by POST", method: http.MethodPost, target: callback.StartPath, want: http.StatusMethodNotAllowed},
			// The callback.
			{name: "callback without parameters", target: callback.CallbackPath},
			{name: "callback without state", target: callback.CallbackPath + "?code=" + marker},
			{name: "callback with a state of another key", target: callback.CallbackPath + "?code=AQ" + marker + "&state=" + q(foreignState)},
			{name: "callback with a ticket as state", target: callback.CallbackPath + "?code=AQ" + marker + "&state=" + q(awaitingTicket)},
			{name: "callback with a huge code", target: callback.CallbackPath + "?code=" + long(3000) + "&state=x"},
			{name: "callback with a query over 4 KiB", target: callback.CallbackPath + "?code=" + long(5000), want: http.StatusRequestURITooLong},
			{name: "callback with repeated code and state", target: callback.CallbackPath + "?code=a&code=" + marker + "&state=b&state=c"},
			{name: "callback with non-UTF-8 code", target: callback.CallbackPath + "?code=%c3%28" + marker + "&state=x"},
			{name: "callback with CR LF in the code", target: callback.CallbackPath + "?code=AQ%0d%0aLocation:%20http://" + marker + "&state=x"},
			{name: "callback with CR LF in error", target: callback.CallbackPath + "?error=%0d%0aLocation:%20http://" + marker + "&state=x"},
			{name: "callback with HTML in error_description",
				target: callback.CallbackPath + "?error=access_denied&error_description=%3Cscript%3E" + marker + "&state=x"},
			{name: "callback by POST", method: http.MethodPost, target: callback.CallbackPath, ctype: form, body: "code=a&state=b", want: http.StatusMethodNotAllowed},
			// The JSON exchange.
			{name: "exchange by GET", target: callback.ExchangePath, want: http.StatusMethodNotAllowed},
			{name: "exchange as text/plain", method: http.MethodPost, target: callback.ExchangePath, ctype: "text/plain", body: `{"code":"a","state":"b"}`,
				want: http.StatusUnsupportedMediaType},
			{name: "exchange over 64 KiB", method: http.MethodPost, target: callback.ExchangePath, ctype: "application/json",
				body: `{"code":"` + long(70000) + `","state":"b"}`, want: http.StatusRequestEntityTooLarge},
			{name: "exchange with an array", method: http.MethodPost, target: callback.ExchangePath, ctype: "application/json", body: `["` + marker + `"]`},
			{name: "exchange with wrong types", method: http.MethodPost, target: callback.ExchangePath, ctype: "application/json",
				body: `{"code":1,"state":{"x":"` + marker + `"}}`},
			{name: "exchange with unknown fields", method: http.MethodPost, target: callback.ExchangePath, ctype: "application/json",
				body: `{"code":"a","state":"b","` + marker + `":1}`},
			{name: "exchange with duplicate keys", method: http.MethodPost, target: callback.ExchangePath, ctype: "application/json",
				body: `{"code":"a","code":"` + marker + `","state":"b"}`},
			{name: "exchange with a forged state", method: http.MethodPost, target: callback.ExchangePath, ctype: "application/json",
				body: `{"code":"AQ` + marker + `","state":"` + foreignState + `"}`},
			// Meta's signed requests.
			{name: "deauthorize signed with another secret", method: http.MethodPost, target: callback.DeauthorizePath, ctype: form,
				body: "signed_request=" + q(forgedSR)},
			{name: "deauthorize with algorithm none", method: http.MethodPost, target: callback.DeauthorizePath, ctype: form, body: "signed_request=" + q(noneSR)},
			{name: "deauthorize without signed_request", method: http.MethodPost, target: callback.DeauthorizePath, ctype: form,
				body: "user_id=" + target.Status.UserID},
			{name: "deauthorize with two signed_requests", method: http.MethodPost, target: callback.DeauthorizePath, ctype: form,
				body: "signed_request=a&signed_request=" + marker},
			{name: "deauthorize as JSON", method: http.MethodPost, target: callback.DeauthorizePath, ctype: "application/json",
				body: `{"signed_request":"` + marker + `"}`, want: http.StatusUnsupportedMediaType},
			{name: "deauthorize over 64 KiB", method: http.MethodPost, target: callback.DeauthorizePath, ctype: form, body: "signed_request=" + long(70000),
				want: http.StatusRequestEntityTooLarge},
			{name: "deauthorize with a non-UTF-8 form", method: http.MethodPost, target: callback.DeauthorizePath, ctype: form, body: "signed_request=%ff%fe." + marker},
			{name: "deauthorize with a bad escape", method: http.MethodPost, target: callback.DeauthorizePath, ctype: form, body: "signed_request=%zz" + marker},
			{name: "deauthorize by GET", target: callback.DeauthorizePath + "?signed_request=" + q(forgedSR), want: http.StatusMethodNotAllowed},
			{name: "data deletion signed with another secret", method: http.MethodPost, target: callback.DataDeletionPath, ctype: form,
				body: "signed_request=" + q(forgedSR)},
			{name: "data deletion with a truncated signature", method: http.MethodPost, target: callback.DataDeletionPath, ctype: form,
				body: "signed_request=" + q(forgedSR[10:])},
			{name: "data deletion with a multipart body", method: http.MethodPost, target: callback.DataDeletionPath, ctype: "multipart/form-data; boundary=x",
				body: "--x\r\nContent-Disposition: form-data; name=\"signed_request\"\r\n\r\n" + marker + "\r\n--x--\r\n", want: http.StatusUnsupportedMediaType},
			{name: "deletion status with a forged code", target: callback.DeletionStatusPath + "?code=" + marker + "AAAAAAAA"},
			{name: "deletion status with a huge code", target: callback.DeletionStatusPath + "?code=" + long(3000)},
			// Everything else.
			{name: "an unknown path", target: "/auth/instagram/" + marker, want: http.StatusNotFound},
			{name: "a path climbing out", target: "/auth/instagram/../../etc/passwd", want: http.StatusNotFound},
			{name: "TRACE", method: "TRACE", target: callback.StartPath, want: http.StatusMethodNotAllowed},
			{name: "a forged Host", target: callback.StartPath + "?ticket=" + q(flipped), host: marker + ".example"},
		}
		before := s.snapshot(ctx, t)
		calls := s.calls(ctx, t)
		for _, hc := range cases {
			a, err := hc.send(ctx, m.CallbackURL)
			if err != nil && hc.want == http.StatusRequestEntityTooLarge && refusedMidBody(err) {
				// The server answered 413 and closed the connection without reading the rest
				// of the body (net/http does so once a MaxBytesReader's limit is hit); a client
				// still writing then sees a reset instead of the answer. Either way the body was
				// refused, and requireUnchanged below proves that nothing changed.
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", hc.name, err)
				continue
			}
			if msg := hc.judge(a); msg != "" {
				t.Errorf("%s: %s", hc.name, msg)
			}
		}
		report.badInput("http requests", len(cases))
		s.requireUnchanged(ctx, t, before)
		if after := s.calls(ctx, t); fmt.Sprint(after) != fmt.Sprint(calls) {
			t.Errorf("hostile requests reached Instagram: calls %v, then %v", calls, after)
		}
	})

	scenario(t, "a forged Host does not steer redirects", func(t *testing.T) {
		// A good start request under a hostile Host and X-Forwarded-Host still sends the
		// browser to the configured Instagram, with the configured redirect_uri.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.CallbackURL+callback.StartPath+"?ticket="+
			url.QueryEscape(awaitingTicket), nil)
		req.Host = marker + ".example"
		req.Header.Set("X-Forwarded-Host", marker+".example")
		a, err := newBrowser().do(req)
		if err != nil {
			t.Fatal(err)
		}
		loc := a.header.Get("Location")
		if a.status != http.StatusFound || !strings.HasPrefix(loc, s.sb.URL+"/oauth/authorize?") || strings.Contains(loc, marker) {
			t.Errorf("HTTP %d to %q", a.status, loc)
		}
		if u, _ := url.Parse(loc); u == nil || u.Query().Get("redirect_uri") != "http://"+publicHost+callback.CallbackPath {
			t.Errorf("redirect_uri in %q", loc)
		}
		report.badInput("http requests", 1)
	})

	scenario(t, "replayed, cross-browser and forged states", func(t *testing.T) {
		calls := s.calls(ctx, t)
		// A login through awaiting's ticket, finished by another browser: refused, and
		// Instagram is not asked to exchange the code.
		owner, thief := newBrowser(), newBrowser()
		u, _ := via(m, "http://"+publicHost+callback.StartPath+"?ticket="+url.QueryEscape(awaitingTicket))
		a, err := owner.get(ctx, u)
		if err != nil || a.status != http.StatusFound {
			t.Fatalf("start: %v %d", err, a.status)
		}
		authorize, _ := url.Parse(a.header.Get("Location"))
		form := authorize.Query()
		form.Set("decision", "allow")
		form.Set("account", s.accounts[1].Username)
		a, err = owner.postForm(ctx, s.sb.URL+"/oauth/authorize", form)
		if err != nil || a.status != http.StatusFound {
			t.Fatalf("allow: %v %d", err, a.status)
		}
		back, _, _ := strings.Cut(a.header.Get("Location"), "#")
		cb, _ := via(m, back)
		before := s.snapshot(ctx, t)
		stolen, err := thief.get(ctx, cb)
		if err != nil {
			t.Fatal(err)
		}
		if stolen.status < 400 || stolen.status >= 500 {
			t.Errorf("a callback from another browser: HTTP %d", stolen.status)
		}
		cbURL, _ := url.Parse(cb)
		qv := cbURL.Query()
		qv.Set("state", flipLast(qv.Get("state")))
		forged, err := owner.get(ctx, m.CallbackURL+callback.CallbackPath+"?"+qv.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if forged.status < 400 || forged.status >= 500 {
			t.Errorf("a callback with a forged state: HTTP %d", forged.status)
		}
		s.requireUnchanged(ctx, t, before)
		if got := s.calls(ctx, t)[sandbox.EndpointCodeExchange]; got != calls[sandbox.EndpointCodeExchange] {
			t.Errorf("refused callbacks exchanged a code")
		}
		// The owner finishes the login; the same callback again is a replay.
		ok, err := owner.get(ctx, cb)
		if err != nil || ok.status != http.StatusOK {
			t.Fatalf("the owner's callback: %v, HTTP %d:\n%s", err, ok.status, ok.body)
		}
		s.settle(t, 30*time.Second, false, "awaiting")
		before = s.snapshot(ctx, t)
		exchanges := s.calls(ctx, t)[sandbox.EndpointCodeExchange]
		replay, err := owner.get(ctx, cb)
		if err != nil {
			t.Fatal(err)
		}
		if replay.status < 400 || replay.status >= 500 {
			t.Errorf("a replayed callback: HTTP %d", replay.status)
		}
		s.requireUnchanged(ctx, t, before)
		if got := s.calls(ctx, t)[sandbox.EndpointCodeExchange]; got != exchanges {
			t.Errorf("a replayed callback exchanged the code again")
		}
		report.badInput("http requests", 3)
	})

	scenario(t, "invalid resources", func(t *testing.T) { testInvalidResources(ctx, t, s) })
	scenario(t, "raw http", func(t *testing.T) {
		before := s.snapshot(ctx, t)
		testRawRequests(t, m.CallbackURL)
		s.requireUnchanged(ctx, t, before)
	})
	scenario(t, "leak canary", func(t *testing.T) { testLeakCanary(ctx, t, s) })
	scenario(t, "server limits", func(t *testing.T) { testServerLimits(ctx, t, m.CallbackURL, s.sb.URL) })

	scenario(t, "tickets of a deleted connection", func(t *testing.T) {
		old, _ := s.connection(ctx, "recreated")
		if err := c.kube.Delete(ctx, old); err != nil {
			t.Fatal(err)
		}
		NewWithT(t).Eventually(func() error {
			_, err := s.connection(ctx, "recreated")
			return err
		}).WithTimeout(30*time.Second).WithPolling(100*time.Millisecond).ShouldNot(Succeed(), "deletion: recreated still there")
		fresh := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Name: "recreated", Namespace: s.ns},
			Spec: igv1.InstagramConnectionSpec{SecretName: "recreated-token"}}
		if err := c.kube.Create(ctx, fresh); err != nil {
			t.Fatal(err)
		}
		if ticketOf("recreated") == recreatedTicket {
			t.Fatal("the namesake got the same ticket")
		}
		before := s.snapshot(ctx, t)
		a, err := newBrowser().get(ctx, m.CallbackURL+callback.StartPath+"?ticket="+url.QueryEscape(recreatedTicket))
		if err != nil {
			t.Fatal(err)
		}
		if a.status < 400 || a.status >= 500 || a.header.Get("Location") != "" || a.header.Get("Set-Cookie") != "" {
			t.Errorf("the ticket of a deleted connection, for its namesake: HTTP %d, Location %q", a.status,
				a.header.Get("Location"))
		}
		s.requireUnchanged(ctx, t, before)
		report.badInput("http requests", 1)
	})
}

// hostileRequest is one request of the hostile table.
type hostileRequest struct {
	name, method, target, ctype, body, host string
	// want is the exact status expected; zero means any 4xx.
	want int
}

// send sends the request to base (the callback server).
// refusedMidBody reports whether err is the server closing the connection while the request
// body was still being written.
func refusedMidBody(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (h hostileRequest) send(ctx context.Context, base string) (answer, error) {
	method := h.method
	if method == "" {
		method = http.MethodGet
	}
	var body *strings.Reader
	if h.body != "" {
		body = strings.NewReader(h.body)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, method, base+h.target, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, base+h.target, nil)
	}
	if err != nil {
		return answer{}, err
	}
	if h.ctype != "" {
		req.Header.Set("Content-Type", h.ctype)
	}
	if h.host != "" {
		req.Host = h.host
	}
	return newBrowser().do(req)
}

// judge returns what is wrong with an answer to a hostile request, or "".
func (h hostileRequest) judge(a answer) string {
	switch {
	case h.want != 0 && a.status != h.want:
		return fmt.Sprintf("HTTP %d, want %d", a.status, h.want)
	case a.status < 400 || a.status >= 500:
		return fmt.Sprintf("HTTP %d, want a 4xx", a.status)
	case a.header.Get("Location") != "":
		return "redirected to " + a.header.Get("Location")
	case a.header.Get("Set-Cookie") != "":
		return "set a cookie"
	case a.header.Get("Content-Security-Policy") == "":
		return "no Content-Security-Policy"
	}
	for name, vs := range a.header {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") || strings.Contains(v, marker) {
				return fmt.Sprintf("header %s carries the input or a line break: %q", name, v)
			}
		}
	}
	if strings.Contains(a.body, marker) || strings.Contains(a.body, html.EscapeString(marker)) {
		return "the answer repeats the input"
	}
	return ""
}

// snapshot returns the resource versions of every connection and Secret of the stack's
// namespace.
func (s *stack) snapshot(ctx context.Context, t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	conns := &igv1.InstagramConnectionList{}
	secrets := &corev1.SecretList{}
	if err := s.c.kube.List(ctx, conns, client.InNamespace(s.ns)); err != nil {
		t.Fatal(err)
	}
	if err := s.c.kube.List(ctx, secrets, client.InNamespace(s.ns)); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns.Items {
		out["connection "+c.Name] = c.ResourceVersion
	}
	for _, sec := range secrets.Items {
		out["secret "+sec.Name] = sec.ResourceVersion
	}
	return out
}

// requireUnchanged fails t if a connection or Secret of the namespace changed since before.
func (s *stack) requireUnchanged(ctx context.Context, t *testing.T, before map[string]string) {
	t.Helper()
	after := s.snapshot(ctx, t)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed (resourceVersion %s → %q)", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s appeared", k)
		}
	}
}

// flipLast changes the last character of s (to another of the base64url alphabet).
func flipLast(s string) string {
	if s == "" {
		return "A"
	}
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return s[:len(s)-1] + string(repl)
}
