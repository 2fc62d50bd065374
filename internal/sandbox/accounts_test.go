package sandbox

import (
	"reflect"
	"strconv"
	"testing"
)

func TestDefaultsAndDeterministicAccounts(t *testing.T) {
	s := New(Options{})
	want := Account{UserID: defaultUserID, AppScopedID: defaultScopedID, Username: "sandbox_business",
		Name: "Sandbox Business", AccountType: "BUSINESS", Scopes: Scopes()}
	if got := s.Accounts(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("default account %+v", got)
	}
	if apps := s.Apps(); len(apps) != 1 || apps[0].ClientID != DefaultClientID || apps[0].ClientSecret != DefaultClientSecret {
		t.Fatalf("default apps %+v", apps)
	}
	second := s.AddAccount(Account{Name: "Acme"})
	if second.UserID != "17841400000000003" || second.AppScopedID != "27640875392278833" || second.Username != "sandbox_business_2" || second.Name != "Acme" {
		t.Fatalf("second %+v", second)
	}
	// Every generated ID is above 2^53 and does not survive float64.
	for _, a := range s.Accounts() {
		for _, id := range []string{a.UserID, a.AppScopedID} {
			n, _ := strconv.ParseUint(id, 10, 64)
			if n <= 1<<53 || uint64(float64(n)) == n {
				t.Fatalf("id %s is float64-safe", id)
			}
		}
	}
	// The same configuration gives the same accounts.
	again := New(Options{Accounts: []Account{{}, {Name: "Acme"}}})
	if !reflect.DeepEqual(again.Accounts(), s.Accounts()) {
		t.Fatalf("not deterministic:\n%+v\n%+v", again.Accounts(), s.Accounts())
	}
}

func TestAddAccountUpdatesAndRejects(t *testing.T) {
	s := New(Options{})
	s.AddAccount(Account{UserID: defaultUserID, Username: "renamed", Scopes: []string{ScopeBasic}})
	if a, ok := s.LookupAccount("renamed"); !ok || a.UserID != defaultUserID || a.Name != "Sandbox Business" || len(a.Scopes) != 1 {
		t.Fatalf("updated %+v %v", a, ok)
	}
	if _, ok := s.LookupAccount("sandbox_business"); ok {
		t.Fatal("old username still resolves")
	}
	if a, ok := s.LookupAccount(defaultScopedID); !ok || a.Username != "renamed" {
		t.Fatal("app-scoped lookup")
	}
	for name, a := range map[string]Account{
		"username taken":   {Username: "renamed"},
		"non-numeric":      {UserID: "abc"},
		"unknown scope":    {Scopes: []string{"business_basic"}},
		"scoped id taken":  {AppScopedID: defaultScopedID},
		"user id is scope": {UserID: defaultScopedID},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			s.AddAccount(a)
		}()
	}
}

func TestNewRejectsBadApps(t *testing.T) {
	for name, apps := range map[string][]App{
		"no secret": {{ClientID: "1"}},
		"duplicate": {{ClientID: "1", ClientSecret: "a"}, {ClientID: "1", ClientSecret: "b"}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			New(Options{Apps: apps})
		}()
	}
}

func TestParseScopes(t *testing.T) {
	got, rejection := parseScopes("instagram_business_basic,instagram_business_manage_comments instagram_business_basic")
	if rejection != "" || !reflect.DeepEqual(got, []string{ScopeBasic, "instagram_business_manage_comments"}) {
		t.Fatalf("%v %q", got, rejection)
	}
	if _, rejection := parseScopes(""); rejection != "Invalid Scopes: instagram_business_basic is required" {
		t.Fatalf("empty scope: rejection %q", rejection)
	}
}
