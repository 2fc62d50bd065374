package login

import (
	"hash/fnv"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/igconnect/igconnect/internal/tokensecret"
)

// Instagram's documented token rules, the defaults of Policy.
const (
	// DefaultMinRefreshAge is Instagram's rule that a token must be 24 hours old to be refreshed.
	DefaultMinRefreshAge = 24 * time.Hour
	// DefaultTokenLifetime is the lifetime of a long-lived token: 60 days from issue or refresh.
	DefaultTokenLifetime = tokensecret.DefaultTokenLifetime
)

// Policy holds the operator-wide refresh settings. Its methods are pure functions of their
// arguments, so the whole schedule is tested without a clock or a cluster.
type Policy struct {
	// MinRefreshAge is how old a token must be before Instagram refreshes it.
	MinRefreshAge time.Duration
	// TokenLifetime is a long-lived token's lifetime, used where a token's own is unknown.
	TokenLifetime time.Duration
	// BackoffBase is the wait after the first failed attempt worth retrying; it doubles with
	// each further failure.
	BackoffBase time.Duration
	// BackoffMax caps the wait between failed attempts.
	BackoffMax time.Duration
	// MaxOffset caps the stable per-connection offset that spreads connections with the same
	// expiry over time, so that many connections do not refresh in the same second.
	MaxOffset time.Duration
	// ValidateInterval is how often a stored token is validated with one cheap call
	// (DecideValidation); zero turns the periodic validation off.
	ValidateInterval time.Duration
	// MinValidateInterval is the shortest time between the last proof that a token works
	// and a validation that a rejection report asks for.
	MinValidateInterval time.Duration
}

// DefaultPolicy returns the policy the manager runs with unless told otherwise.
func DefaultPolicy() Policy {
	return Policy{
		MinRefreshAge: DefaultMinRefreshAge,
		TokenLifetime: DefaultTokenLifetime,
		BackoffBase:   time.Minute,
		BackoffMax:    time.Hour,
		MaxOffset:     5 * time.Minute,

		ValidateInterval:    DefaultValidateInterval,
		MinValidateInterval: DefaultMinValidateInterval,
	}
}

// RefreshTime returns when to refresh a token issued at issuedAt that expires at expiresAt:
// refreshBefore ahead of the expiry, or at two thirds of the lifetime where refreshBefore is
// not shorter than it, never before the token is MinRefreshAge old, plus the connection's
// stable offset.
func (p Policy) RefreshTime(issuedAt, expiresAt time.Time, refreshBefore time.Duration, uid types.UID) time.Time {
	lifetime := expiresAt.Sub(issuedAt)
	var at time.Time
	if refreshBefore >= lifetime {
		at = issuedAt.Add(lifetime * 2 / 3)
	} else {
		at = expiresAt.Add(-refreshBefore)
	}
	if earliest := issuedAt.Add(p.MinRefreshAge); at.Before(earliest) {
		at = earliest
	}
	// The offset is at most 1% of the lifetime, so short-lived test tokens stay in order.
	// Whole seconds: the Secret and status keep times to the second, and the moment
	// reported in status.nextRefreshTime must be the moment the refresh becomes due.
	return at.Add(stableOffset(uid, min(p.MaxOffset, lifetime/100))).Truncate(time.Second)
}

// stableOffset maps a connection's UID to an offset in [0, window): the same connection
// always gets the same offset, and many connections spread evenly over the window.
func stableOffset(uid types.UID, window time.Duration) time.Duration {
	if window <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(uid))
	return time.Duration(h.Sum64() % uint64(window))
}

// Backoff returns how long to wait after the given number of failed attempts in a row:
// BackoffBase doubling up to BackoffMax, and never less than what Instagram asked for.
func (p Policy) Backoff(failures int32, retryAfter time.Duration) time.Duration {
	d := p.BackoffBase
	for i := int32(1); i < failures && d < p.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, p.BackoffMax)
	return max(d, retryAfter)
}

// AssumedIssuedAt returns the issue time to assume for a token whose expiry is known but
// whose issue time is not (an imported token with expires_at): tokens live TokenLifetime, so
// it was issued that long before it expires, and certainly not after now.
func (p Policy) AssumedIssuedAt(expiresAt, now time.Time) time.Time {
	issued := expiresAt.Add(-p.TokenLifetime)
	if issued.After(now) {
		return now
	}
	return issued
}

// RefreshInput is what the refresh decision depends on.
type RefreshInput struct {
	// Now is the reconcile's single reading of the clock.
	Now time.Time
	// IssuedAt and ExpiresAt describe the token; a zero ExpiresAt means the expiry is
	// unknown, and only a refresh can tell it.
	IssuedAt, ExpiresAt time.Time
	// RefreshBefore is the connection's spec.refreshBefore or its default.
	RefreshBefore time.Duration
	// UID seeds the connection's stable offset.
	UID types.UID
	// Requested is true when the refresh annotation carries a value not yet handled.
	Requested bool
	// NotBefore is the end of the current back-off after failed attempts, or zero.
	NotBefore time.Time
}

// RefreshDecision says whether to refresh now and, if not, when.
type RefreshDecision struct {
	// Due is true when the token should be refreshed now.
	Due bool
	// At is when the refresh is (or was) due.
	At time.Time
}

// DecideRefresh is the refresh decision: a pure function of the token, the connection's
// settings and the time.
func (p Policy) DecideRefresh(in RefreshInput) RefreshDecision {
	var at time.Time
	switch {
	case in.ExpiresAt.IsZero():
		// An imported token of unknown expiry: a refresh is the only call that reports the
		// expiry, so it is due at once.
		at = in.Now
	default:
		issued := in.IssuedAt
		if issued.IsZero() {
			issued = p.AssumedIssuedAt(in.ExpiresAt, in.Now)
		}
		at = p.RefreshTime(issued, in.ExpiresAt, in.RefreshBefore, in.UID)
		if in.Requested {
			// A requested refresh happens now, but never before the token is old enough.
			requested := maxTime(in.Now, issued.Add(p.MinRefreshAge))
			at = minTime(at, requested)
		}
	}
	at = maxTime(at, in.NotBefore)
	return RefreshDecision{Due: !in.Now.Before(at), At: at}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
