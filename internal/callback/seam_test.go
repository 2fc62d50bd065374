package callback

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
)

// otherLogin is a login kind that is not Instagram Login: its own dialog, a token that never
// expires, and its own error meanings. The callback server must complete it through the
// login seam alone.
type otherLogin struct {
	completeErr error
}

func (otherLogin) Kind() login.Kind { return "OtherLogin" }

func (otherLogin) AuthorizeURL(app login.App, redirectURI string, _ []string, state string) string {
	return "https://login.example.test/dialog?" + url.Values{"client_id": {app.ClientID},
		"redirect_uri": {redirectURI}, "state": {state}}.Encode()
}

func (l otherLogin) Complete(_ context.Context, _ login.App, _, code string, now time.Time) ([]login.Grant, error) {
	if l.completeErr != nil {
		return nil, l.completeErr
	}
	return []login.Grant{{
		Token:    login.Token{AccessToken: "EAApage-" + code, IssuedAt: now.Truncate(time.Second)},
		Identity: login.Identity{UserID: "17841400000000099", Username: "pagebiz"},
	}}, nil
}

func (otherLogin) Identify(context.Context, string) (login.Identity, error) {
	return login.Identity{}, errors.New("unused")
}

func (otherLogin) Upgrade(context.Context, login.App, string, time.Time) (login.Token, bool, error) {
	return login.Token{}, false, nil
}

func (otherLogin) Schedule(login.RefreshInput) login.RefreshDecision { return login.RefreshDecision{} }

func (otherLogin) Renew(context.Context, string, time.Time) (login.Token, error) {
	return login.Token{}, errors.New("unused")
}

func (otherLogin) Classify(error) login.Failure {
	return login.Failure{Rejected: igv1.ReasonReauthorizationRequired}
}

// TestAnotherLoginKindPlugsIn: the start, callback and exchange handlers know a login only
// through login.Login, so a second kind needs no branch in them.
func TestAnotherLoginKindPlugsIn(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(c *Config) { c.Login = otherLogin{} }})
	b := e.newBrowser()
	authorize := b.start("")
	if authorize.Host != "login.example.test" {
		t.Fatalf("start sent the browser to %s, want the login's own dialog", authorize)
	}
	r := b.get(CallbackPath + callbackQuery("c0de", authorize.Query().Get("state")))
	if r.status != http.StatusOK {
		t.Fatalf("callback: %d %s", r.status, pageText(r.body))
	}
	conn := e.connection(connNS, "ig-17841400000000099")
	if conn == nil {
		t.Fatal("no connection for the login's account")
	}
	s := e.secret(connNS, conn.Spec.SecretName)
	if s == nil || string(s.Data[igv1.SecretKeyAccessToken]) != "EAApage-c0de" {
		t.Fatalf("token Secret %v", s)
	}
	if _, ok := s.Data[igv1.SecretKeyExpiresAt]; ok {
		t.Error("a token that never expires got an expires_at")
	}

	// A failure is explained by what the login says it means.
	e = newEnv(t, envOptions{configure: func(c *Config) { c.Login = otherLogin{completeErr: errors.New("refused")} }})
	b = e.newBrowser()
	authorize = b.start("")
	r = b.get(CallbackPath + callbackQuery("c0de", authorize.Query().Get("state")))
	if r.status != http.StatusBadRequest || !strings.Contains(pageText(r.body), "did not accept the login") {
		t.Errorf("a rejected completion: %d %s", r.status, pageText(r.body))
	}
}
