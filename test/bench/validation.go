package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
)

// The manager validates every token every --validate-interval (issue 16), so an idle
// manager is not silent: it makes exactly the validations that fall due in the window, each
// one /me call and one status patch. The harness computes them from the schedule the manager
// runs (login.Policy.DecideValidation) and the connections' status before the window.

// ValidationFigures are the idle window's validations: due by the schedule and measured.
type ValidationFigures struct {
	// Interval is the manager's --validate-interval (0: off).
	Interval time.Duration
	// DueLow and DueHigh bound the validations due in the window by the schedule: DueLow
	// counts those due at least a second inside it, DueHigh those due within a second of it,
	// since a validation due at the window's edge may land on either side.
	DueLow, DueHigh int
	// PerDay is the validation calls per connection per day the schedule makes.
	PerDay float64
}

// managerValidateInterval returns the --validate-interval the harness passes to the
// manager, or the manager's default.
func managerValidateInterval(args []string) (time.Duration, error) {
	v, found := "", false
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "--validate-interval="):
			v, found = strings.TrimPrefix(a, "--validate-interval="), true
		case a == "--validate-interval" && i+1 < len(args):
			v, found = args[i+1], true
		}
	}
	if !found {
		return login.DefaultValidateInterval, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("--validate-interval in -manager-args: %w", err)
	}
	return d, nil
}

// validationPolicy is the manager's validation schedule with the given interval.
func validationPolicy(interval time.Duration) login.Policy {
	p := login.DefaultPolicy()
	p.ValidateInterval = interval
	return p
}

// perDay is how many validations a day one connection gets: one per interval plus its
// offset, which averages half of the offset's window (min(MaxOffset, 1% of the interval)).
func perDay(p login.Policy) float64 {
	if p.ValidateInterval <= 0 {
		return 0
	}
	window := min(p.MaxOffset, p.ValidateInterval/100)
	return float64(24*time.Hour) / float64(p.ValidateInterval+window/2)
}

// schedule is when each connection of ns is next validated, from its status as it is now.
type schedule []login.ValidationInput

// validationSchedule reads the connections of ns for the validation schedule.
func (b *bench) validationSchedule(ctx context.Context, ns string) (schedule, error) {
	list := &igv1.InstagramConnectionList{}
	if err := b.kube.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	out := make(schedule, 0, len(list.Items))
	for _, c := range list.Items {
		in := login.ValidationInput{UID: c.UID}
		if t := c.Status.LastValidatedTime; t != nil {
			in.LastValidated = t.Time
		}
		if t := c.Status.TokenIssuedAt; t != nil {
			in.IssuedAt = t.Time
		}
		out = append(out, in)
	}
	return out, nil
}

// dueIn counts the validations p makes in [from, to]: each connection's next one, and the
// ones after it while they stay inside.
func (s schedule) dueIn(p login.Policy, from, to time.Time) int {
	n := 0
	for _, in := range s {
		in.Now = from
		for at := p.DecideValidation(in).At; !at.IsZero() && !at.After(to); at = p.DecideValidation(in).At {
			if !at.Before(from) {
				n++
			}
			in.LastValidated, in.Now = at, at
		}
	}
	return n
}

// figures computes the window's validations by the schedule.
func (s schedule) figures(interval time.Duration, from, to time.Time) ValidationFigures {
	p := validationPolicy(interval)
	return ValidationFigures{Interval: interval, PerDay: perDay(p),
		DueLow: s.dueIn(p, from.Add(time.Second), to.Add(-time.Second)), DueHigh: s.dueIn(p, from.Add(-time.Second), to)}
}
