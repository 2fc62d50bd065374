package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDecideRollout(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *metav1.Time { m := metav1.NewTime(now.Add(-d)); return &m }
	base := rolloutInput{Targets: 2, Current: "new", RestartedFor: "old", HadToken: true, Now: now, MinInterval: time.Minute}
	cases := []struct {
		name string
		edit func(*rolloutInput)
		want rolloutDecision
	}{
		{"a new token is restarted for", func(*rolloutInput) {}, rolloutDecision{action: rolloutRestartNow}},
		{"the same token owes nothing (resync, restart, hand edit, same-token rewrite)",
			func(in *rolloutInput) { in.Current = "old" }, rolloutDecision{action: rolloutNone}},
		{"no token stored owes nothing", func(in *rolloutInput) { in.Current = "" }, rolloutDecision{action: rolloutNone}},
		{"no targets owes nothing", func(in *rolloutInput) { in.Targets, in.RestartedFor = 0, "" }, rolloutDecision{action: rolloutNone}},
		{"targets removed drops the record", func(in *rolloutInput) { in.Targets = 0 }, rolloutDecision{action: rolloutForget}},
		{"a token from before the record is adopted (upgrade, targets added)",
			func(in *rolloutInput) { in.RestartedFor = "" }, rolloutDecision{action: rolloutAdopt, record: "new"}},
		{"a first token is restarted for", func(in *rolloutInput) { in.RestartedFor, in.HadToken = "", false },
			rolloutDecision{action: rolloutRestartNow}},
		{"inside the window waits for its end", func(in *rolloutInput) { in.Last = ago(20 * time.Second) },
			rolloutDecision{action: rolloutLater, after: 40 * time.Second}},
		{"at the window's end restarts", func(in *rolloutInput) { in.Last = ago(time.Minute) },
			rolloutDecision{action: rolloutRestartNow}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base
			c.edit(&in)
			if got := decideRollout(in); got != c.want {
				t.Errorf("decideRollout = %+v, want %+v", got, c.want)
			}
		})
	}
}
