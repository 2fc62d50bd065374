package controller

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rolloutAction is what decideRollout says to do about the connection's restart targets.
type rolloutAction int

const (
	// rolloutNone: nothing is owed.
	rolloutNone rolloutAction = iota
	// rolloutForget: no targets any more; drop the record so that targets added later start
	// from the token of that time.
	rolloutForget
	// rolloutAdopt: record the current token without a restart. A connection that had a
	// token before it had a record (an operator upgrade, targets just added) restarts nothing.
	rolloutAdopt
	// rolloutLater: a restart is owed, but the last one was too recent; requeue.
	rolloutLater
	// rolloutRestartNow: restart the targets and record the current token.
	rolloutRestartNow
)

// rolloutInput is what decideRollout looks at.
type rolloutInput struct {
	// Targets is how many restart targets the spec names.
	Targets int
	// Current is the fingerprint of the token the Secret holds as igconnect's; empty when
	// there is none (no token, or an import not adopted yet).
	Current string
	// RestartedFor is status.rolloutRestartedFor.
	RestartedFor string
	// HadToken is true when status described a token before this reconcile.
	HadToken bool
	// Last is status.lastRolloutRestartTime.
	Last *metav1.Time
	// Now and MinInterval: the reconcile's clock reading and the coalescing window.
	Now         time.Time
	MinInterval time.Duration
}

// rolloutDecision is decideRollout's answer.
type rolloutDecision struct {
	action rolloutAction
	// record is status.rolloutRestartedFor to be (rolloutForget, rolloutAdopt).
	record string
	// after is how long until the window ends (rolloutLater).
	after time.Duration
}

// decideRollout decides whether the targets are owed a restart: a pure function, so that
// every case is table-tested (rollout_decide_test.go). A restart is owed while the Secret
// holds a token other than the one last restarted for; a first token (a first login or
// import) is owed one, since the targets may have started without it.
func decideRollout(in rolloutInput) rolloutDecision {
	switch {
	case in.Targets == 0 && in.RestartedFor != "":
		return rolloutDecision{action: rolloutForget}
	case in.Targets == 0, in.Current == "", in.Current == in.RestartedFor:
		return rolloutDecision{action: rolloutNone}
	case in.RestartedFor == "" && in.HadToken:
		return rolloutDecision{action: rolloutAdopt, record: in.Current}
	}
	if in.Last != nil {
		if end := in.Last.Add(in.MinInterval); in.Now.Before(end) {
			return rolloutDecision{action: rolloutLater, after: end.Sub(in.Now)}
		}
	}
	return rolloutDecision{action: rolloutRestartNow}
}
