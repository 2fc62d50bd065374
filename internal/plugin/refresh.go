/*
Copyright 2026 The igconnect Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// InstagramMinRefreshAge is Instagram's rule: a token under 24 hours old is not refreshed.
const InstagramMinRefreshAge = 24 * time.Hour

type refreshOptions struct {
	wait    bool
	timeout time.Duration
}

func newRefreshCommand(env *Env) *cobra.Command {
	o := &refreshOptions{}
	cmd := &cobra.Command{
		Use:   "refresh NAME",
		Short: "Ask the operator to refresh a connection's token now (the refresh annotation)",
		Long: "refresh sets the annotation " + igv1.AnnotationRefreshRequestedAt + " to a new value. The operator " +
			"refreshes the token at once, but never before the token is 24 hours old (Instagram refuses); it echoes " +
			"the value in status.lastHandledRefreshRequest once it acted. With --wait the command waits for that " +
			"and prints the outcome.",
		Example: `  kubectl igconnect refresh acme -n marketing --wait
  kubectl igconnect refresh acme -n marketing --wait --timeout 2m`,
		Args: exactlyOneName("refresh"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return env.refresh(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().BoolVar(&o.wait, "wait", false, "wait until the operator acted on the request and print the outcome")
	cmd.Flags().DurationVar(&o.timeout, "timeout", time.Minute, "how long --wait waits")
	return cmd
}

func (e *Env) refresh(ctx context.Context, name string, o *refreshOptions) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	ns, err := e.namespace()
	if err != nil {
		return err
	}
	before, err := getTypedConnection(ctx, c, ns, name)
	if err != nil {
		return err
	}
	value := e.now().UTC().Format(time.RFC3339Nano)
	if value == before.Annotations[igv1.AnnotationRefreshRequestedAt] {
		value += "-again"
	}
	patched := before.DeepCopy()
	if patched.Annotations == nil {
		patched.Annotations = map[string]string{}
	}
	patched.Annotations[igv1.AnnotationRefreshRequestedAt] = value
	if err := c.Patch(ctx, patched, client.MergeFrom(before)); err != nil {
		return explainAPIError(err, fmt.Sprintf("annotate InstagramConnection %s/%s", ns, name))
	}
	out := &output{w: e.Streams.Out}
	out.printf("instagramconnection/%s: refresh requested (%s=%s)\n", name, igv1.AnnotationRefreshRequestedAt, value)
	if !o.wait {
		if note := tooEarlyNote(before, e.now()); note != "" {
			out.printf("%s\n", note)
		}
		return out.err
	}

	var outcome RefreshOutcome
	pollCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	err = wait.PollUntilContextCancel(pollCtx, e.PollInterval, true, func(ctx context.Context) (bool, error) {
		after, err := getTypedConnection(ctx, c, ns, name)
		if err != nil {
			return false, err
		}
		var decided bool
		outcome, decided = JudgeRefresh(before, after, value, e.now())
		return decided, nil
	})
	switch {
	case errors.Is(err, context.DeadlineExceeded) || wait.Interrupted(err):
		return fmt.Errorf("no outcome within %s: the operator has not acted on the request (is the manager running? "+
			"kubectl igconnect check tells); the annotation stays set, so it acts once it runs", o.timeout)
	case err != nil:
		return err
	case !outcome.Refreshed:
		return errors.New(outcome.Message)
	}
	out.printf("%s\n", outcome.Message)
	return out.err
}

// RefreshOutcome is what became of a refresh request.
type RefreshOutcome struct {
	// Refreshed is true when the operator refreshed the token (or otherwise handled the
	// request with the connection Ready).
	Refreshed bool
	// Message says what happened, for a person.
	Message string
}

// JudgeRefresh decides, from the connection before the request and as it is now, whether the
// operator has acted on the request with the given value, and what became of it. The
// operator echoes the value in status.lastHandledRefreshRequest once it refreshed (or found
// nothing to refresh); a request it may not carry out yet (the token is under 24 hours old, or
// a back-off runs) stays pending, and it says so only by moving status.nextRefreshTime to the
// earliest time it may.
func JudgeRefresh(before, after *igv1.InstagramConnection, value string, now time.Time) (RefreshOutcome, bool) {
	bs, as := before.Status, after.Status
	ready := meta.FindStatusCondition(as.Conditions, igv1.ConditionReady)
	switch {
	case as.LastHandledRefreshRequest == value:
		return handledOutcome(before, after, ready, now), true
	case as.FailedRefreshAttempts > bs.FailedRefreshAttempts:
		return RefreshOutcome{Message: failedOutcome(after, now)}, true
	case as.NextRefreshTime != nil && as.NextRefreshTime.After(now) &&
		(!sameTime(as.NextRefreshTime, bs.NextRefreshTime) || pendingRequest(before)):
		return RefreshOutcome{Message: deferredMessage(after, as.NextRefreshTime.Time, now)}, true
	}
	return RefreshOutcome{}, false
}

func handledOutcome(before, after *igv1.InstagramConnection, ready *metav1.Condition, now time.Time) RefreshOutcome {
	as := after.Status
	switch {
	case ready == nil || ready.Status != metav1.ConditionTrue:
		reason, message := "", ""
		if ready != nil {
			reason, message = ready.Reason, ready.Message
		}
		return RefreshOutcome{Message: fmt.Sprintf("not refreshed: the connection is not Ready (%s): %s", reason, message)}
	case !sameTime(as.LastRefreshTime, before.Status.LastRefreshTime):
		msg := "refreshed"
		if as.ExpiresAt != nil {
			msg += fmt.Sprintf(": the token %s (%s)", ExpiryPhrase(now, &as.ExpiresAt.Time, true),
				as.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if as.NextRefreshTime != nil {
			msg += fmt.Sprintf("; next refresh %s", Relative(now, as.NextRefreshTime.Time))
		}
		return RefreshOutcome{Refreshed: true, Message: msg}
	default:
		return RefreshOutcome{Refreshed: true, Message: fmt.Sprintf("handled: Ready (%s): %s", ready.Reason, ready.Message)}
	}
}

// instagramTooEarly is in the error Instagram answers a refresh of a token under 24 hours
// old with ("The access token is less than 24 hours old and cannot be refreshed yet"); the
// reconciler puts it in the Degraded message. It refreshes such a token when it believes the
// token older than it is: an imported token whose expires_at was given is assumed to be
// 60 days from its issue.
const instagramTooEarly = "less than 24 hours old"

func failedOutcome(after *igv1.InstagramConnection, now time.Time) string {
	as := after.Status
	if d := meta.FindStatusCondition(as.Conditions, igv1.ConditionDegraded); d != nil && d.Status == metav1.ConditionTrue &&
		strings.Contains(d.Message, instagramTooEarly) {
		return tooEarlyRefused(after, now)
	}
	msg := fmt.Sprintf("refresh failed (%d attempts in a row)", as.FailedRefreshAttempts)
	if d := meta.FindStatusCondition(as.Conditions, igv1.ConditionDegraded); d != nil && d.Status == metav1.ConditionTrue {
		msg = fmt.Sprintf("refresh failed (%s, %d attempts in a row): %s", d.Reason, as.FailedRefreshAttempts, d.Message)
	}
	if as.NextRefreshTime != nil {
		msg += fmt.Sprintf("; the operator retries at %s (%s)", as.NextRefreshTime.UTC().Format(time.RFC3339),
			Relative(now, as.NextRefreshTime.Time))
	}
	return msg
}

// deferredMessage explains a request the operator keeps pending until at.
func deferredMessage(conn *igv1.InstagramConnection, at, now time.Time) string {
	when := fmt.Sprintf("%s (%s)", at.UTC().Format(time.RFC3339), Relative(now, at))
	s := conn.Status
	switch {
	case s.TokenIssuedAt != nil && now.Before(s.TokenIssuedAt.Add(InstagramMinRefreshAge)):
		return fmt.Sprintf("too early: Instagram refuses refreshes of tokens under 24 hours old; next possible at %s. "+
			"The request stays pending and the operator refreshes then", when)
	case s.FailedRefreshAttempts > 0:
		return fmt.Sprintf("not yet: the operator backs off after %d failed attempts; next attempt at %s", s.FailedRefreshAttempts, when)
	default:
		return fmt.Sprintf("not yet: the operator refreshes at %s (its --min-refresh-age)", when)
	}
}

// tooEarlyRefused explains a refresh Instagram refused because the token is under 24 hours
// old. The next possible time is tokenIssuedAt + 24h when status knows the issue time and it
// lies ahead; otherwise (an assumed issue time) it is the operator's next attempt.
func tooEarlyRefused(conn *igv1.InstagramConnection, now time.Time) string {
	s := conn.Status
	var at time.Time
	switch {
	case s.TokenIssuedAt != nil && s.TokenIssuedAt.Add(InstagramMinRefreshAge).After(now):
		at = s.TokenIssuedAt.Add(InstagramMinRefreshAge)
	case s.NextRefreshTime != nil:
		at = s.NextRefreshTime.Time
	default:
		return "too early: Instagram refuses refreshes of tokens under 24 hours old"
	}
	return fmt.Sprintf("too early: Instagram refuses refreshes of tokens under 24 hours old; next possible at %s (%s), "+
		"when the operator tries again (the request stays pending)", at.UTC().Format(time.RFC3339), Relative(now, at))
}

// tooEarlyNote warns, without waiting, that a token is too young for Instagram to refresh.
func tooEarlyNote(conn *igv1.InstagramConnection, now time.Time) string {
	s := conn.Status
	if s.TokenIssuedAt == nil || !now.Before(s.TokenIssuedAt.Add(InstagramMinRefreshAge)) {
		return ""
	}
	at := s.TokenIssuedAt.Add(InstagramMinRefreshAge)
	return fmt.Sprintf("too early: Instagram refuses refreshes of tokens under 24 hours old; next possible at %s (%s). "+
		"The request stays pending and the operator refreshes then", at.UTC().Format(time.RFC3339), Relative(now, at))
}

// pendingRequest reports whether a refresh request was already waiting before this one.
func pendingRequest(conn *igv1.InstagramConnection) bool {
	v := conn.Annotations[igv1.AnnotationRefreshRequestedAt]
	return v != "" && v != conn.Status.LastHandledRefreshRequest
}

func sameTime(a, b *metav1.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(b)
}

// getTypedConnection reads one connection with the plugin's API types.
func getTypedConnection(ctx context.Context, c client.Client, ns, name string) (*igv1.InstagramConnection, error) {
	conn := &igv1.InstagramConnection{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, conn); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("no InstagramConnection %q in namespace %q (kubectl igconnect status -A lists them all)", name, ns)
		}
		return nil, explainAPIError(err, fmt.Sprintf("read InstagramConnection %s/%s", ns, name))
	}
	return conn, nil
}
