package login

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestDecideValidation(t *testing.T) {
	p := DefaultPolicy()
	p.MaxOffset = 0 // the offset has its own test
	off := p
	off.ValidateInterval = 0
	issued := t0.Add(-30 * day)
	cases := []struct {
		name   string
		policy Policy
		in     ValidationInput
		want   ValidationDecision
	}{
		{"validated an hour ago: due a day after", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(-time.Hour), IssuedAt: issued},
			ValidationDecision{At: t0.Add(23 * time.Hour)}},
		{"validated exactly one interval ago: due now", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(-day), IssuedAt: issued},
			ValidationDecision{Due: true, At: t0}},
		{"a refresh counts as a validation", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(-3 * day), IssuedAt: t0.Add(-time.Hour)},
			ValidationDecision{At: t0.Add(23 * time.Hour)}},
		{"never validated (status lost): once, from the issue time", p,
			ValidationInput{Now: t0, IssuedAt: issued},
			ValidationDecision{Due: true, At: issued.Add(day)}},
		{"a report validates at once", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(-time.Hour), IssuedAt: issued, Reported: true},
			ValidationDecision{Due: true, At: t0}},
		{"a report within 5 minutes of the last proof waits", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(-2 * time.Minute), IssuedAt: issued, Reported: true},
			ValidationDecision{At: t0.Add(3 * time.Minute)}},
		{"a report within 5 minutes of a refresh waits", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(-day), IssuedAt: t0.Add(-time.Minute), Reported: true},
			ValidationDecision{At: t0.Add(4 * time.Minute)}},
		{"the back-off holds a due validation", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(-2 * day), IssuedAt: issued, NotBefore: t0.Add(time.Minute)},
			ValidationDecision{At: t0.Add(time.Minute)}},
		{"the back-off holds a report", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(-time.Hour), IssuedAt: issued, Reported: true,
				NotBefore: t0.Add(10 * time.Minute)},
			ValidationDecision{At: t0.Add(10 * time.Minute)}},
		{"an interval of 0: no validation", off,
			ValidationInput{Now: t0, LastValidated: t0.Add(-100 * day), IssuedAt: issued},
			ValidationDecision{}},
		{"an interval of 0 still acts on a report", off,
			ValidationInput{Now: t0, LastValidated: t0.Add(-time.Hour), IssuedAt: issued, Reported: true},
			ValidationDecision{Due: true, At: t0}},
		{"an interval of 0 rate-limits a report too", off,
			ValidationInput{Now: t0, LastValidated: t0.Add(-time.Minute), IssuedAt: issued, Reported: true},
			ValidationDecision{At: t0.Add(4 * time.Minute)}},
		{"a proof in the future counts as now", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(30 * day), IssuedAt: issued},
			ValidationDecision{At: t0.Add(day)}},
		{"a sub-second proof: due no sooner than a full interval", p,
			ValidationInput{Now: t0, LastValidated: t0.Add(-time.Hour + 300*time.Millisecond), IssuedAt: issued},
			ValidationDecision{At: t0.Add(23*time.Hour + time.Second)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.DecideValidation(tc.in); got != tc.want {
				t.Errorf("DecideValidation = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestValidationOffsetIsStableAndBounded checks that a connection's validations keep one
// offset within min(MaxOffset, 1% of the interval), and that connections spread over it.
func TestValidationOffsetIsStableAndBounded(t *testing.T) {
	p := DefaultPolicy()
	seen := map[time.Duration]bool{}
	for i := range 200 {
		uid := types.UID(fmt.Sprintf("uid-%d", i))
		in := ValidationInput{Now: t0, LastValidated: t0, UID: uid}
		at := p.DecideValidation(in).At
		if again := p.DecideValidation(in).At; !again.Equal(at) {
			t.Fatalf("offset of %s not stable: %v then %v", uid, at, again)
		}
		off := at.Sub(t0.Add(p.ValidateInterval))
		if off < 0 || off > p.MaxOffset {
			t.Fatalf("offset of %s = %v, want within [0, %v]", uid, off, p.MaxOffset)
		}
		seen[off.Truncate(time.Minute)] = true
	}
	if len(seen) < 5 {
		t.Errorf("200 connections use %d of the 5 offset minutes; they should spread over all", len(seen))
	}

	short := DefaultPolicy()
	short.ValidateInterval = time.Minute
	off := short.DecideValidation(ValidationInput{Now: t0, LastValidated: t0, UID: "x"}).At.Sub(t0.Add(time.Minute))
	if off < 0 || off > time.Second {
		t.Errorf("a 1m interval's offset = %v, want under 1%% of it (rounded up to the second)", off)
	}
}
