package hardening

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/callback"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/signedrequest"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// The fuzz targets complete the callback package's own (FuzzCallbackQuery,
// FuzzExchangeBody): the start endpoint's ticket verification, and the form parsing of Meta's
// deauthorize and data-deletion callbacks, each through the real handler against a fake API
// server. Their committed corpora are in testdata/fuzz; `go test` runs them, and
// `go test -fuzz=FuzzStartTicket ./test/hardening/` explores further.

const (
	fuzzNS        = "fuzz"
	fuzzAppID     = "990000000000001"
	fuzzAppSecret = "fuzz-app-secret-0123456789"
	fuzzUserID    = "17841400000000001"
	fuzzScopedID  = "27640875392278831"
	fuzzStateKey  = "0123456789abcdef0123456789abcdef"
	fuzzOtherKey  = "fedcba9876543210fedcba9876543210"
	fuzzToken     = "IGAAfuzztokenfuzztokenfuzztokenfuzztokenfuzztoken"
)

// fuzzT0 is the fake clock's time.
var fuzzT0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// fuzzInstagram refuses everything and must not be reached by these endpoints' failures.
type fuzzInstagram struct{}

func (fuzzInstagram) AuthorizeURL(clientID, redirectURI string, scopes []string, state string) string {
	return "https://www.instagram.com/oauth/authorize?" + url.Values{"client_id": {clientID},
		"redirect_uri": {redirectURI}, "scope": {strings.Join(scopes, ",")}, "state": {state}}.Encode()
}

func (fuzzInstagram) ExchangeCode(context.Context, instagram.App, string, string) (instagram.ShortLivedToken, error) {
	return instagram.ShortLivedToken{}, errors.New("no code exchange in these targets")
}

func (fuzzInstagram) ExchangeForLongLived(context.Context, instagram.App, string) (instagram.LongLivedToken, error) {
	return instagram.LongLivedToken{}, errors.New("no exchange in these targets")
}

func (fuzzInstagram) Profile(context.Context, string) (instagram.Profile, error) {
	return instagram.Profile{}, errors.New("no /me in these targets")
}

// fuzzConnections are the objects of every fuzz iteration: a Ready connection of the
// operator's app with its token Secret, and one awaiting its first login.
func fuzzConnections() []client.Object {
	controller := true
	owned := func(name, uid string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: igv1.GroupVersion.String(), Kind: "InstagramConnection",
			Name: name, UID: types.UID(uid), Controller: &controller}}
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "acme-token", Namespace: fuzzNS,
		OwnerReferences: owned("acme", "uid-acme")}}
	tokensecret.Apply(secret, "acme", nil, tokensecret.Record{AccessToken: fuzzToken, IssuedAt: fuzzT0.Add(-24 * time.Hour),
		ExpiresAt: fuzzT0.Add(59 * 24 * time.Hour), UserID: fuzzUserID, Username: "acme", AppScopedUserID: fuzzScopedID})
	return []client.Object{
		&igv1.InstagramConnection{
			ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: fuzzNS, UID: "uid-acme"},
			Spec:       igv1.InstagramConnectionSpec{SecretName: "acme-token", InstagramUserID: fuzzUserID},
			Status:     igv1.InstagramConnectionStatus{UserID: fuzzUserID, AppScopedUserID: fuzzScopedID, Username: "acme"},
		},
		secret,
		&igv1.InstagramConnection{
			ObjectMeta: metav1.ObjectMeta{Name: "awaiting", Namespace: fuzzNS, UID: "uid-awaiting"},
			Spec:       igv1.InstagramConnectionSpec{SecretName: "awaiting-token"},
		},
	}
}

// fuzzHandler builds the callback handler over a fresh fake API server.
func fuzzHandler(t testing.TB) (http.Handler, client.Client, *oauthstate.Signer) {
	clk := clocktesting.NewFakeClock(fuzzT0)
	signer, err := oauthstate.NewSigner([]byte(fuzzStateKey), clk)
	if err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&igv1.InstagramConnection{}).
		WithObjects(fuzzConnections()...).Build()
	h, err := callback.NewHandler(callback.Config{
		Client:      kube,
		APIReader:   kube,
		Instagram:   fuzzInstagram{},
		Credentials: &appcreds.Resolver{Reader: kube, Default: instagram.App{ClientID: fuzzAppID, ClientSecret: fuzzAppSecret}},
		Signer:      signer,
		Replay:      oauthstate.NewReplayGuard(clk, 1000),
		Clock:       clk,
		PublicURL:   "https://ig.example.test",
		Log:         logr.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, kube, signer
}

// fuzzSnapshot renders every object of the fake API server, to tell whether a request
// changed anything.
func fuzzSnapshot(t testing.TB, kube client.Client) string {
	conns := &igv1.InstagramConnectionList{}
	secrets := &corev1.SecretList{}
	if err := kube.List(context.Background(), conns); err != nil {
		t.Fatal(err)
	}
	if err := kube.List(context.Background(), secrets); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range conns.Items {
		fmt.Fprintf(&b, "conn %s %s %v|", c.Name, c.ResourceVersion, c.Spec)
	}
	for _, s := range secrets.Items {
		fmt.Fprintf(&b, "secret %s %s %v|", s.Name, s.ResourceVersion, s.Data)
	}
	return b.String()
}

// checkAnswer holds for every answer to a fuzzed request: no server error, no broken or
// echoing header, no cookie or redirect unless allowed, and no echo of a long input.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, redirectOK bool, inputs ...string) {
	t.Helper()
	if rec.Code >= 500 || rec.Code < 200 {
		t.Fatalf("HTTP %d:\n%s", rec.Code, rec.Body.String())
	}
	for name, vs := range rec.Header() {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") {
				t.Fatalf("header %s has CR or LF: %q", name, v)
			}
		}
	}
	if !redirectOK && (rec.Header().Get("Location") != "" || rec.Header().Get("Set-Cookie") != "") {
		t.Fatalf("HTTP %d redirects to %q, sets %q", rec.Code, rec.Header().Get("Location"), rec.Header().Get("Set-Cookie"))
	}
	body := rec.Body.String()
	for _, in := range inputs {
		if len(in) < 12 || strings.Count(in, in[:1]) == len(in) || strings.Contains(callbackText(), in) {
			continue
		}
		if strings.Contains(body, in) || strings.Contains(body, html.EscapeString(in)) {
			t.Fatalf("the answer repeats the input %q", in)
		}
	}
}

// callbackText is every text the callback server can answer with on its own: its sources
// and page template. An input found there proves nothing when an answer repeats it.
var callbackText = sync.OnceValue(func() string {
	var b strings.Builder
	dir := filepath.Join(repoRoot, "internal", "callback")
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	files = append(files, filepath.Join(dir, "templates", "page.html"))
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			panic(err)
		}
		b.Write(src)
	}
	return b.String()
})

// FuzzStartTicket: GET /auth/instagram/start?ticket=… never fails with 5xx, never echoes
// the ticket, changes nothing, and redirects only for the exact ticket of a connection that
// exists with the ticket's UID, with a state that carries that ticket.
func FuzzStartTicket(f *testing.F) {
	_, _, signer := fuzzHandler(f)
	other, _ := oauthstate.NewSigner([]byte(fuzzOtherKey), clocktesting.NewFakeClock(fuzzT0))
	good := signer.Ticket(oauthstate.TicketRef{Namespace: fuzzNS, Name: "awaiting", UID: "uid-awaiting"})
	f.Add(good, "")
	f.Add(good, "json")
	f.Add(signer.Ticket(oauthstate.TicketRef{Namespace: fuzzNS, Name: "acme", UID: "uid-acme"}), "redirect")
	f.Add(signer.Ticket(oauthstate.TicketRef{Namespace: fuzzNS, Name: "awaiting", UID: "uid-old"}), "")
	f.Add(signer.Ticket(oauthstate.TicketRef{Namespace: fuzzNS, Name: "gone", UID: "uid-gone"}), "")
	f.Add(signer.Ticket(oauthstate.TicketRef{Namespace: "other", Name: "awaiting", UID: "uid-awaiting"}), "")
	f.Add(other.Ticket(oauthstate.TicketRef{Namespace: fuzzNS, Name: "awaiting", UID: "uid-awaiting"}), "")
	state, _, _ := signer.NewState(strings.Repeat("A", 43), good, oauthstate.FlowRedirect, 10*time.Minute)
	f.Add(state, "")
	f.Add(good+good, "")
	f.Add(good[:len(good)/2], "")
	f.Add(strings.ToUpper(good), "")
	f.Add(good+"=", "")
	f.Add(" "+good, "")
	f.Add(good+"\r\nSet-Cookie: a=b", "")
	f.Add("\xff\xfe"+good, "")
	f.Add(strings.Repeat("A", 5000), "")
	f.Add("", "json\r\nLocation: x")
	f.Fuzz(func(t *testing.T, ticket, flow string) {
		report.badInput("fuzzed start tickets", 1)
		h, kube, signer := fuzzHandler(t)
		before := fuzzSnapshot(t, kube)
		q := url.Values{}
		if ticket != "" {
			q.Set(oauthstate.TicketParam, ticket)
		}
		if flow != "" {
			q.Set("flow", flow)
		}
		req := httptest.NewRequest(http.MethodGet, "https://ig.example.test"+callback.StartPath, nil)
		req.URL.RawQuery = q.Encode()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		ref, verr := signer.VerifyTicket(ticket)
		valid := ticket == "" || (verr == nil && ref.Namespace == fuzzNS &&
			(ref.Name == "awaiting" && ref.UID == "uid-awaiting" || ref.Name == "acme" && ref.UID == "uid-acme"))
		valid = valid && (flow == "" || flow == "redirect" || flow == "json")
		checkAnswer(t, rec, valid, ticket, flow)
		if after := fuzzSnapshot(t, kube); after != before {
			t.Fatalf("the start endpoint changed objects")
		}
		if !valid {
			if rec.Code < 400 {
				t.Fatalf("HTTP %d for ticket %q, flow %q", rec.Code, ticket, flow)
			}
			return
		}
		if rec.Code != http.StatusFound {
			t.Fatalf("HTTP %d for a good ticket:\n%s", rec.Code, rec.Body.String())
		}
		loc, err := url.Parse(rec.Header().Get("Location"))
		if err != nil || loc.Host != "www.instagram.com" {
			t.Fatalf("redirected to %q", rec.Header().Get("Location"))
		}
		cookie := rec.Result().Cookies()
		if len(cookie) != 1 {
			t.Fatalf("cookies %v", cookie)
		}
		claims, err := signer.VerifyState(loc.Query().Get("state"), cookie[0].Value)
		if err != nil || claims.Ticket != ticket {
			t.Fatalf("the state does not carry the ticket: %v, %q", err, claims.Ticket)
		}
	})
}

// FuzzMetaForm: the deauthorize and data-deletion endpoints never fail with 5xx on any
// form body or content type, never echo it, and change nothing unless the body carries,
// once, a signed_request correctly signed with the app secret; then they act only on the
// account it names.
func FuzzMetaForm(f *testing.F) {
	sign := func(p signedrequest.Payload) string { return signedrequest.Sign(fuzzAppSecret, p) }
	deauth := sign(signedrequest.Payload{UserID: fuzzUserID, IssuedAt: fuzzT0.Unix()})
	scoped := signedrequest.SignPadded(fuzzAppSecret, signedrequest.Payload{UserID: fuzzScopedID, IssuedAt: fuzzT0.Unix()})
	stranger := sign(signedrequest.Payload{UserID: "17841499999999999", IssuedAt: fuzzT0.Unix()})
	forged := signedrequest.Sign("another-secret", signedrequest.Payload{UserID: fuzzUserID, IssuedAt: fuzzT0.Unix()})
	none := sign(signedrequest.Payload{Algorithm: "none", UserID: fuzzUserID})
	formType := "application/x-www-form-urlencoded"
	for _, deletion := range []bool{false, true} {
		f.Add(deletion, formType, "signed_request="+url.QueryEscape(deauth))
		f.Add(deletion, formType, "signed_request="+url.QueryEscape(scoped))
		f.Add(deletion, formType, "signed_request="+url.QueryEscape(stranger))
		f.Add(deletion, formType, "signed_request="+url.QueryEscape(forged))
	}
	f.Add(false, formType, "signed_request="+url.QueryEscape(none))
	f.Add(false, formType, "signed_request="+url.QueryEscape(deauth)+"&signed_request="+url.QueryEscape(deauth))
	f.Add(false, formType+"; charset=utf-8", "signed_request="+deauth)
	f.Add(false, formType, "signed_request="+url.QueryEscape(deauth[:len(deauth)-3]))
	f.Add(false, formType, "signed_request=%zz")
	f.Add(false, formType, "signed_request=\xff\xfe.\xff")
	f.Add(false, formType, "signed_request=a;b=c")
	f.Add(false, formType, "signed_request="+strings.Repeat("A", 70000))
	f.Add(true, formType, strings.Repeat("x=1&", 20000))
	f.Add(true, "application/json", `{"signed_request":"`+deauth+`"}`)
	f.Add(true, "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"signed_request\"\r\n\r\n"+deauth+"\r\n--b--\r\n")
	f.Add(true, "", "signed_request="+deauth)
	f.Add(true, "application/x-www-form-urlencoded\r\nX-Evil: 1", "signed_request="+deauth)
	f.Fuzz(func(t *testing.T, deletion bool, contentType, body string) {
		report.badInput("fuzzed Meta callback forms", 1)
		h, kube, _ := fuzzHandler(t)
		before := fuzzSnapshot(t, kube)
		path := callback.DeauthorizePath
		if deletion {
			path = callback.DataDeletionPath
		}
		req := httptest.NewRequest(http.MethodPost, "https://ig.example.test"+path, strings.NewReader(body))
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, false, body)

		// What a correct handler may act on: exactly one signed_request, signed with the
		// app secret, in a form body of at most 64 KiB.
		var payload signedrequest.Payload
		signed := false
		if ct, _, _ := strings.Cut(contentType, ";"); strings.TrimSpace(strings.ToLower(ct)) == formType && len(body) <= 64<<10 {
			if form, err := url.ParseQuery(body); err == nil && len(form["signed_request"]) == 1 {
				p, err := signedrequest.Parse(strings.TrimSpace(form.Get("signed_request")), fuzzAppSecret)
				payload, signed = p, err == nil
			}
		}
		after := fuzzSnapshot(t, kube)
		switch {
		case !signed && rec.Code < 400:
			t.Fatalf("HTTP %d for a body that is not a signed request", rec.Code)
		case !signed && after != before:
			t.Fatalf("a body that is not a signed request changed objects")
		case signed && payload.UserID != fuzzUserID && payload.UserID != fuzzScopedID && after != before:
			t.Fatalf("a signed request for another account changed objects")
		}
	})
}
