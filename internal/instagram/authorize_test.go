package instagram_test

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/igconnect/igconnect/internal/instagram"
)

func TestAuthorizeURL(t *testing.T) {
	scopes := []string{"instagram_business_basic", "instagram_business_manage_comments"}
	tests := []struct {
		name      string
		base      string
		scopes    []string
		state     string
		wantBase  string
		wantQuery url.Values
	}{
		{
			name:     "default host is www.instagram.com",
			scopes:   scopes,
			state:    "st4te",
			wantBase: "https://www.instagram.com/oauth/authorize",
			wantQuery: url.Values{
				"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
				"scope": {"instagram_business_basic,instagram_business_manage_comments"}, "state": {"st4te"},
			},
		},
		{
			name:     "sandbox base keeps its own parameters, ours win",
			base:     "http://127.0.0.1:8090/oauth/authorize?force_reauth=true&response_type=token",
			scopes:   []string{" instagram_business_basic ", ""},
			wantBase: "http://127.0.0.1:8090/oauth/authorize",
			wantQuery: url.Values{
				"force_reauth": {"true"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
				"response_type": {"code"}, "scope": {"instagram_business_basic"},
			},
		},
		{
			name:      "no scopes, no state",
			wantBase:  "https://www.instagram.com/oauth/authorize",
			wantQuery: url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := instagram.New(instagram.Config{AuthorizeURL: tt.base})
			raw := c.AuthorizeURL(clientID, redirectURI, tt.scopes, tt.state)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			u.RawQuery = ""
			if u.String() != tt.wantBase || !reflect.DeepEqual(q, tt.wantQuery) {
				t.Fatalf("got %s\nwant %s with %v", raw, tt.wantBase, tt.wantQuery)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	if instagram.DefaultAuthorizeURL != "https://www.instagram.com/oauth/authorize" ||
		instagram.DefaultAPIURL != "https://api.instagram.com" ||
		instagram.DefaultGraphURL != "https://graph.instagram.com" ||
		instagram.DefaultGraphVersion != "v25.0" {
		t.Fatal("defaults changed")
	}
	for c, want := range map[instagram.Class]string{
		instagram.ClassReauthorize:   "ReauthorizationRequired",
		instagram.ClassAccount:       "AccountActionRequired",
		instagram.ClassConfiguration: "ConfigurationError",
		instagram.ClassRetryLater:    "RetryLater",
	} {
		if string(c) != want {
			t.Errorf("class %q, want %q", c, want)
		}
	}
}
