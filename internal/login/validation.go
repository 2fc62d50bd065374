package login

import (
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Validation defaults (CONTRACT §6: the same interval and pacing as Facebook Login's
// debug_token validation).
const (
	// DefaultValidateInterval is how often a stored token is validated with one cheap call:
	// Meta's advice for tokens that can be revoked at any time (a password change, 190/460).
	DefaultValidateInterval = 24 * time.Hour
	// DefaultMinValidateInterval is the shortest time between two validations of one
	// connection that an app's rejection report may cause, so that a broken app setting the
	// report annotation in a loop cannot make the operator hammer Instagram.
	DefaultMinValidateInterval = 5 * time.Minute
)

// ValidationInput is what the validation decision depends on.
type ValidationInput struct {
	// Now is the reconcile's single reading of the clock.
	Now time.Time
	// LastValidated is when the token was last proven to work (status.lastValidatedTime,
	// or a validation of this reconcile); zero when never.
	LastValidated time.Time
	// IssuedAt is when the token was issued or refreshed: a refresh proves the token works,
	// so it counts as a validation. It also bounds the cost of a lost status: without
	// LastValidated a token is validated once, not once per missed interval.
	IssuedAt time.Time
	// UID seeds the connection's stable offset.
	UID types.UID
	// Reported is true when the rejection report annotation carries a value not yet handled.
	Reported bool
	// NotBefore is the end of the current back-off after failed attempts, or zero: a
	// validation shares the refresh's back-off.
	NotBefore time.Time
}

// ValidationDecision says whether to validate now and, if not, when.
type ValidationDecision struct {
	// Due is true when the token should be validated now.
	Due bool
	// At is when the validation is (or was) due; zero when none is scheduled (validation is
	// off and nothing was reported).
	At time.Time
}

// DecideValidation is the validation decision, a pure function like DecideRefresh: every
// ValidateInterval after the token was last proven to work, plus the connection's stable
// offset; at once on a new rejection report, but never sooner than MinValidateInterval after
// the last proof. A ValidateInterval of zero turns the periodic validation off; a report is
// still acted on.
func (p Policy) DecideValidation(in ValidationInput) ValidationDecision {
	// A proof after now (a hand-edited status, a clock stepped back) is believed only up to
	// now, so it cannot put the next validation off by more than one interval.
	last := minTime(maxTime(in.LastValidated, in.IssuedAt), in.Now)
	var at time.Time
	if p.ValidateInterval > 0 {
		at = ceilSecond(last.Add(p.ValidateInterval).Add(p.validationOffset(in.UID)))
	}
	if in.Reported {
		reported := maxTime(in.Now, last.Add(p.MinValidateInterval))
		if at.IsZero() || reported.Before(at) {
			at = reported
		}
	}
	if at.IsZero() {
		return ValidationDecision{}
	}
	at = maxTime(at, in.NotBefore)
	return ValidationDecision{Due: !in.Now.Before(at), At: at}
}

// validationOffset is the connection's stable offset within the validation interval, by the
// refresh schedule's rule (RefreshTime): at most MaxOffset and 1% of the interval, so that
// connections logged in together do not all validate in the same second.
func (p Policy) validationOffset(uid types.UID) time.Duration {
	return stableOffset(uid, min(p.MaxOffset, p.ValidateInterval/100))
}

// ceilSecond rounds t up to a whole second: status keeps times to the second, and the
// moment a validation becomes due must never come before a full interval has passed.
func ceilSecond(t time.Time) time.Time {
	if c := t.Truncate(time.Second); c.Before(t) {
		return c.Add(time.Second)
	}
	return t
}
