package sandbox

import (
	"fmt"
	"strconv"
)

// Account is an Instagram professional account that can log in to the
// sandbox.
type Account struct {
	// UserID is the professional account ID (IG_ID): /me's user_id and the
	// id webhooks carry. Digits; generated IDs exceed 2^53 so that a client
	// that decodes IDs through float64 visibly corrupts them.
	UserID string `json:"user_id"`
	// AppScopedID is the app-scoped user ID: the code exchange's user_id and
	// /me's id. Different from UserID, as on Instagram, so that a client that
	// confuses the two fails in tests.
	AppScopedID string `json:"app_scoped_id"`
	// Username is the Instagram handle, unique within the sandbox.
	Username string `json:"username"`
	// Name is the profile's display name.
	Name string `json:"name"`
	// AccountType is BUSINESS or MEDIA_CREATOR (the casing the sandbox uses;
	// the real casing is unconfirmed).
	AccountType string `json:"account_type"`
	// Scopes are the permissions this account grants when asked; an
	// authorization gets the requested scopes intersected with these.
	Scopes []string `json:"scopes"`
}

// account is an Account plus the invalidation markers that make password
// changes and app removals O(1): a token is dead if it was issued (seq) at or
// before the marker.
type account struct {
	Account
	allowed            map[string]bool
	passwordChangedSeq uint64
	appRemovedSeq      map[string]uint64
}

// Generated IDs start here and step by two so that every one is odd: above
// 2^53 an odd integer cannot survive a float64 round trip. The first app-scoped
// ID is the one from the platform notes' captured-looking fixture.
const (
	userIDBase      uint64 = 17841400000000001
	appScopedIDBase uint64 = 27640875392278831
)

// AddAccount adds an account that can log in and returns it with its blanks
// filled deterministically: the n-th generated account gets UserID
// 17841400000000001+2(n-1), AppScopedID 27640875392278831+2(n-1), username
// sandbox_business (then sandbox_business_n), name "Sandbox Business" (then
// "Sandbox Business n"), type BUSINESS and every known scope.
//
// An account whose UserID already exists updates that account in place (blank
// fields keep their values; its tokens stay valid). AddAccount panics on a
// non-numeric ID, a username or app-scoped ID already used by another
// account, or an unknown scope — mistakes in the calling test. The control
// API (POST /sandbox/accounts) reports the same mistakes as 400/409 instead.
func (s *Sandbox) AddAccount(a Account) Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.addAccountLocked(a)
	if err != nil {
		panic("sandbox: AddAccount: " + err.Error())
	}
	return out
}

// errConflict marks AddAccount errors that are clashes with existing data.
type errConflict struct{ msg string }

// Error returns the conflict's description.
func (e errConflict) Error() string { return e.msg }

// addAccountLocked validates, fills and stores a; callers hold mu.
func (s *Sandbox) addAccountLocked(a Account) (Account, error) {
	for _, id := range []string{a.UserID, a.AppScopedID} {
		if id != "" && !isDigits(id) {
			return Account{}, fmt.Errorf("account IDs must be digits, got %q", id)
		}
	}
	for _, sc := range a.Scopes {
		if !isKnownScope(sc) {
			return Account{}, fmt.Errorf("unknown scope %q", sc)
		}
	}
	existing := s.byUserID[a.UserID]
	if a.UserID != "" && existing == nil && s.byScopedID[a.UserID] != nil {
		return Account{}, errConflict{fmt.Sprintf("user ID %s is another account's app-scoped ID", a.UserID)}
	}
	if other := s.byUsername[a.Username]; a.Username != "" && other != nil && other != existing {
		return Account{}, errConflict{fmt.Sprintf("username %q is taken", a.Username)}
	}
	if other := s.byScopedID[a.AppScopedID]; a.AppScopedID != "" && other != nil && other != existing {
		return Account{}, errConflict{fmt.Sprintf("app-scoped ID %s is taken", a.AppScopedID)}
	}
	if a.AppScopedID != "" && s.byUserID[a.AppScopedID] != nil {
		return Account{}, errConflict{fmt.Sprintf("app-scoped ID %s is another account's user ID", a.AppScopedID)}
	}
	if existing != nil {
		return s.updateAccountLocked(existing, a), nil
	}
	n := len(s.accounts) + 1
	if a.UserID == "" {
		a.UserID = s.freeID(userIDBase, n)
	}
	if a.AppScopedID == "" {
		a.AppScopedID = s.freeID(appScopedIDBase, n)
	}
	if a.Username == "" {
		for i := n; ; i++ {
			a.Username = "sandbox_business"
			if i > 1 {
				a.Username += "_" + strconv.Itoa(i)
			}
			if s.byUsername[a.Username] == nil {
				break
			}
		}
	}
	if a.Name == "" {
		a.Name = "Sandbox Business"
		if n > 1 {
			a.Name += " " + strconv.Itoa(n)
		}
	}
	if a.AccountType == "" {
		a.AccountType = "BUSINESS"
	}
	if len(a.Scopes) == 0 {
		a.Scopes = Scopes()
	}
	acc := &account{appRemovedSeq: map[string]uint64{}}
	acc.set(a)
	s.accounts = append(s.accounts, acc)
	s.byUserID[a.UserID] = acc
	s.byScopedID[a.AppScopedID] = acc
	s.byUsername[a.Username] = acc
	return acc.snapshot(), nil
}

// updateAccountLocked overwrites existing's non-blank fields with a's.
func (s *Sandbox) updateAccountLocked(acc *account, a Account) Account {
	merged := acc.Account
	if a.AppScopedID != "" {
		delete(s.byScopedID, merged.AppScopedID)
		merged.AppScopedID = a.AppScopedID
	}
	if a.Username != "" {
		delete(s.byUsername, merged.Username)
		merged.Username = a.Username
	}
	if a.Name != "" {
		merged.Name = a.Name
	}
	if a.AccountType != "" {
		merged.AccountType = a.AccountType
	}
	if len(a.Scopes) > 0 {
		merged.Scopes = a.Scopes
	}
	acc.set(merged)
	s.byScopedID[merged.AppScopedID] = acc
	s.byUsername[merged.Username] = acc
	return acc.snapshot()
}

// freeID returns the first generated ID from the n-th slot on that no
// account uses as either kind of ID.
func (s *Sandbox) freeID(base uint64, n int) string {
	for i := uint64(n); ; i++ {
		id := strconv.FormatUint(base+2*(i-1), 10)
		if s.byUserID[id] == nil && s.byScopedID[id] == nil {
			return id
		}
	}
}

// set stores a copy of a and rebuilds the allowed-scope set.
func (acc *account) set(a Account) {
	a.Scopes = append([]string(nil), a.Scopes...)
	acc.Account = a
	acc.allowed = make(map[string]bool, len(a.Scopes))
	for _, sc := range a.Scopes {
		acc.allowed[sc] = true
	}
}

// snapshot returns a copy the caller may keep and modify.
func (acc *account) snapshot() Account {
	a := acc.Account
	a.Scopes = append([]string(nil), a.Scopes...)
	return a
}

// Accounts returns every account in the order they were added; the first is
// the one the consent page preselects.
func (s *Sandbox) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Account, 0, len(s.accounts))
	for _, acc := range s.accounts {
		out = append(out, acc.snapshot())
	}
	return out
}

// LookupAccount finds an account by user ID, app-scoped ID or username.
func (s *Sandbox) LookupAccount(key string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.findAccountLocked(key)
	if acc == nil {
		return Account{}, false
	}
	return acc.snapshot(), true
}

// findAccountLocked resolves key as user ID, app-scoped ID or username.
func (s *Sandbox) findAccountLocked(key string) *account {
	if acc := s.byUserID[key]; acc != nil {
		return acc
	}
	if acc := s.byScopedID[key]; acc != nil {
		return acc
	}
	return s.byUsername[key]
}

// isDigits reports whether v is a non-empty run of ASCII digits.
func isDigits(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}
