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
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

func requested(conn *igv1.InstagramConnection, value string) *igv1.InstagramConnection {
	c := conn.DeepCopy()
	c.Annotations = map[string]string{igv1.AnnotationRefreshRequestedAt: value}
	return c
}

func TestJudgeRefresh(t *testing.T) {
	const v = "2026-12-01T10:00:00Z"
	before := connected()

	t.Run("nothing yet", func(t *testing.T) {
		if _, decided := JudgeRefresh(before, requested(before, v), v, t0); decided {
			t.Error("decided before the operator wrote anything")
		}
	})
	t.Run("refreshed", func(t *testing.T) {
		after := requested(before, v)
		after.Status.LastHandledRefreshRequest = v
		after.Status.LastRefreshTime = mt(t0)
		after.Status.TokenIssuedAt = mt(t0)
		after.Status.ExpiresAt = mt(t0.Add(60 * 24 * time.Hour))
		after.Status.NextRefreshTime = mt(t0.Add(40 * 24 * time.Hour))
		o, decided := JudgeRefresh(before, after, v, t0)
		if !decided || !o.Refreshed || !strings.Contains(o.Message, "refreshed: the token expires in 60 days") {
			t.Errorf("got %+v, %v", o, decided)
		}
	})
	t.Run("too early", func(t *testing.T) {
		young := connected()
		young.Status.TokenIssuedAt = mt(t0.Add(-time.Hour))
		after := requested(young, v)
		after.Status.NextRefreshTime = mt(t0.Add(23 * time.Hour))
		o, decided := JudgeRefresh(young, after, v, t0)
		want := "too early: Instagram refuses refreshes of tokens under 24 hours old; next possible at 2026-12-02T09:00:00Z (in 23 hours)"
		if !decided || o.Refreshed || !strings.HasPrefix(o.Message, want) {
			t.Errorf("got %+v, %v; want %q", o, decided, want)
		}
	})
	t.Run("too early again, while a request is pending", func(t *testing.T) {
		young := requested(connected(), "earlier")
		young.Status.TokenIssuedAt = mt(t0.Add(-time.Hour))
		young.Status.NextRefreshTime = mt(t0.Add(23 * time.Hour))
		o, decided := JudgeRefresh(young, requested(young, v), v, t0)
		if !decided || !strings.HasPrefix(o.Message, "too early") {
			t.Errorf("got %+v, %v", o, decided)
		}
	})
	t.Run("failed", func(t *testing.T) {
		after := requested(before, v)
		after.Status.FailedRefreshAttempts = 1
		after.Status.NextRefreshTime = mt(t0.Add(time.Minute))
		after.Status.Conditions[1] = metav1.Condition{Type: igv1.ConditionDegraded, Status: metav1.ConditionTrue,
			Reason: igv1.ReasonInstagramUnavailable, Message: "Instagram answered 503"}
		o, decided := JudgeRefresh(before, after, v, t0)
		if !decided || o.Refreshed || !strings.Contains(o.Message, "refresh failed (InstagramUnavailable, 1 attempts in a row)") {
			t.Errorf("got %+v, %v", o, decided)
		}
	})
	t.Run("refused by Instagram: the token is younger than the operator assumed", func(t *testing.T) {
		after := requested(before, v)
		after.Status.FailedRefreshAttempts = 1
		after.Status.NextRefreshTime = mt(t0.Add(time.Minute))
		after.Status.Conditions[1] = metav1.Condition{Type: igv1.ConditionDegraded, Status: metav1.ConditionTrue,
			Reason: igv1.ReasonInstagramUnavailable, Message: "attempt 1 failed: instagram refresh: HTTP 400: OAuthException (#100): " +
				"(#100) The access token is less than 24 hours old and cannot be refreshed yet [RetryLater]"}
		o, decided := JudgeRefresh(before, after, v, t0)
		want := "too early: Instagram refuses refreshes of tokens under 24 hours old; next possible at 2026-12-01T10:01:00Z (in 60 seconds)"
		if !decided || o.Refreshed || !strings.HasPrefix(o.Message, want) {
			t.Errorf("got %+v, %v; want %q", o, decided, want)
		}
	})
	t.Run("needs a login", func(t *testing.T) {
		after := requested(before, v)
		after.Status.LastHandledRefreshRequest = v
		after.Status.Conditions[0] = metav1.Condition{Type: igv1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: igv1.ReasonAwaitingAuthorization, Message: "no token"}
		o, decided := JudgeRefresh(before, after, v, t0)
		if !decided || o.Refreshed || !strings.Contains(o.Message, "not Ready (AwaitingAuthorization)") {
			t.Errorf("got %+v, %v", o, decided)
		}
	})
}
