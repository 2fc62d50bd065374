package controller

import "github.com/igconnect/igconnect/internal/login"

// Policy holds the operator-wide refresh and back-off settings; internal/login defines the
// rules, which are Instagram Login's.
type Policy = login.Policy

// DefaultMinRefreshAge is Instagram's rule that a token must be 24 hours old to be refreshed.
const DefaultMinRefreshAge = login.DefaultMinRefreshAge

// DefaultPolicy returns the policy the manager runs with unless told otherwise.
func DefaultPolicy() Policy { return login.DefaultPolicy() }
