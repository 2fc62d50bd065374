package login

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func TestRefreshTime(t *testing.T) {
	p := DefaultPolicy()
	p.MaxOffset = 0 // the offset has its own test
	cases := []struct {
		name          string
		lifetime      time.Duration
		refreshBefore time.Duration
		want          time.Duration // after issue
	}{
		{"default: day 40 of 60", 60 * day, 480 * time.Hour, 40 * day},
		{"refreshBefore 1h", 60 * day, time.Hour, 60*day - time.Hour},
		{"refreshBefore 59 days hits the 24h minimum age", 60 * day, 1416 * time.Hour, day},
		{"refreshBefore equal to the lifetime: two thirds", 60 * day, 60 * day, 40 * day},
		{"refreshBefore longer than a short token: two thirds", 30 * day, 1000 * time.Hour, 20 * day},
		{"a 30-day token with the default: 20 days before expiry", 30 * day, 480 * time.Hour, 10 * day},
		{"two thirds under the minimum age: the minimum age", 30 * time.Hour, 480 * time.Hour, day},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := p.RefreshTime(t0, t0.Add(tc.lifetime), tc.refreshBefore, "uid")
			if want := t0.Add(tc.want); !got.Equal(want) {
				t.Errorf("RefreshTime = %v after issue, want %v", got.Sub(t0), tc.want)
			}
		})
	}
}

func TestStableOffsetSpreadsAndIsStable(t *testing.T) {
	p := DefaultPolicy()
	exp := t0.Add(60 * day)
	a := p.RefreshTime(t0, exp, 480*time.Hour, "uid-a")
	if again := p.RefreshTime(t0, exp, 480*time.Hour, "uid-a"); !again.Equal(a) {
		t.Fatal("the offset must be stable for one connection")
	}
	seen := map[time.Time]bool{}
	for i := range 1000 {
		at := p.RefreshTime(t0, exp, 480*time.Hour, types.UID(string(rune('a'+i%26))+time.Duration(i).String()))
		if off := at.Sub(t0.Add(40 * day)); off < 0 || off >= p.MaxOffset {
			t.Fatalf("offset %v outside [0, %v)", off, p.MaxOffset)
		}
		seen[at.Truncate(time.Second)] = true
	}
	// 1000 connections over a 5-minute window of 300 seconds: nearly every second is used.
	if len(seen) < 250 {
		t.Errorf("1000 connections share only %d of 300 seconds: the offset does not spread them", len(seen))
	}
	short := p.RefreshTime(t0, t0.Add(10*time.Minute), 480*time.Hour, "uid-a")
	if short.After(t0.Add(p.MinRefreshAge + 6*time.Second)) {
		t.Errorf("the offset of a 10-minute token must stay within 1%% of its lifetime, got %v", short.Sub(t0))
	}
}

func TestBackoff(t *testing.T) {
	p := DefaultPolicy()
	cases := []struct {
		failures   int32
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, time.Minute},
		{2, 0, 2 * time.Minute},
		{4, 0, 8 * time.Minute},
		{7, 0, time.Hour},
		{1000, 0, time.Hour},
		{1, 30 * time.Minute, 30 * time.Minute},
		{7, 3 * time.Hour, 3 * time.Hour},
	}
	for _, tc := range cases {
		if got := p.Backoff(tc.failures, tc.retryAfter); got != tc.want {
			t.Errorf("Backoff(%d, %v) = %v, want %v", tc.failures, tc.retryAfter, got, tc.want)
		}
	}
}

func TestDecideRefresh(t *testing.T) {
	p := DefaultPolicy()
	p.MaxOffset = 0
	issued, expires := t0, t0.Add(60*day)
	cases := []struct {
		name    string
		in      RefreshInput
		wantDue bool
		wantAt  time.Time
	}{
		{"fresh token: wait until day 40",
			RefreshInput{Now: t0.Add(time.Hour), IssuedAt: issued, ExpiresAt: expires, RefreshBefore: 480 * time.Hour},
			false, t0.Add(40 * day)},
		{"day 40: due",
			RefreshInput{Now: t0.Add(40 * day), IssuedAt: issued, ExpiresAt: expires, RefreshBefore: 480 * time.Hour},
			true, t0.Add(40 * day)},
		{"requested on a young token: at 24h",
			RefreshInput{Now: t0.Add(time.Hour), IssuedAt: issued, ExpiresAt: expires, RefreshBefore: 480 * time.Hour, Requested: true},
			false, t0.Add(day)},
		{"requested on an old token: now",
			RefreshInput{Now: t0.Add(3 * day), IssuedAt: issued, ExpiresAt: expires, RefreshBefore: 480 * time.Hour, Requested: true},
			true, t0.Add(3 * day)},
		{"unknown expiry: due now",
			RefreshInput{Now: t0, RefreshBefore: 480 * time.Hour},
			true, t0},
		{"backing off: not before the back-off ends",
			RefreshInput{Now: t0.Add(40 * day), IssuedAt: issued, ExpiresAt: expires, RefreshBefore: 480 * time.Hour,
				NotBefore: t0.Add(40*day + time.Minute)},
			false, t0.Add(40*day + time.Minute)},
		{"unknown issue time: assumed from the expiry",
			RefreshInput{Now: t0, ExpiresAt: t0.Add(30 * day), RefreshBefore: 480 * time.Hour},
			false, t0.Add(10 * day)},
		{"unknown issue time, expiry beyond a lifetime: assumed issued now",
			RefreshInput{Now: t0, ExpiresAt: t0.Add(90 * day), RefreshBefore: 480 * time.Hour, Requested: true},
			false, t0.Add(day)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := p.DecideRefresh(tc.in)
			if got.Due != tc.wantDue || !got.At.Equal(tc.wantAt) {
				t.Errorf("DecideRefresh = {Due:%v At:+%v}, want {Due:%v At:+%v}",
					got.Due, got.At.Sub(t0), tc.wantDue, tc.wantAt.Sub(t0))
			}
		})
	}
}
