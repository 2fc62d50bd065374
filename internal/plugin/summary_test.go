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
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

func mt(t time.Time) *metav1.Time { v := metav1.NewTime(t); return &v }

// connected is a Ready connection whose token was issued 20 days before t0.
func connected() *igv1.InstagramConnection {
	issued := t0.Add(-20 * 24 * time.Hour)
	return &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: "marketing", Name: "acme", Generation: 1},
		Spec:       igv1.InstagramConnectionSpec{SecretName: "acme-instagram-token"},
		Status: igv1.InstagramConnectionStatus{
			UserID: "17841400000000001", Username: "acme", AccountType: "BUSINESS",
			TokenIssuedAt:   mt(issued),
			ExpiresAt:       mt(issued.Add(60 * 24 * time.Hour)),
			NextRefreshTime: mt(issued.Add(40 * 24 * time.Hour)),
			Conditions: []metav1.Condition{
				{Type: igv1.ConditionReady, Status: metav1.ConditionTrue, Reason: igv1.ReasonConnected, Message: "token valid"},
				{Type: igv1.ConditionDegraded, Status: metav1.ConditionFalse, Reason: igv1.ReasonNoFailures},
			},
		},
	}
}

func toUnstructured(t *testing.T, conn *igv1.InstagramConnection, extraSpec map[string]any) *unstructured.Unstructured {
	t.Helper()
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(conn)
	if err != nil {
		t.Fatal(err)
	}
	spec := obj["spec"].(map[string]any)
	for k, v := range extraSpec {
		spec[k] = v
	}
	return &unstructured.Unstructured{Object: obj}
}

func TestSummarizeConnected(t *testing.T) {
	s, err := Summarize(toUnstructured(t, connected(), nil), t0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Login != LoginInstagram {
		t.Errorf("Login = %q, want the default %q", s.Login, LoginInstagram)
	}
	if s.Token.Expiry != "expires in 40 days" {
		t.Errorf("Token.Expiry = %q", s.Token.Expiry)
	}
	if s.Next == nil || s.Next.Action != "refresh" || s.Next.In != "in 20 days" {
		t.Errorf("Next = %+v, want a refresh in 20 days", s.Next)
	}
	if s.LastFailure != nil {
		t.Errorf("LastFailure = %+v, want none", s.LastFailure)
	}
	if s.Webhook != nil {
		t.Errorf("Webhook = %v, want none until the API has the field", *s.Webhook)
	}
}

func TestSummarizeReadsSpecLogin(t *testing.T) {
	conn := connected()
	conn.Status.ExpiresAt = nil // a Page token that never expires
	s, err := Summarize(toUnstructured(t, conn, map[string]any{"login": "FacebookLogin"}), t0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Login != LoginFacebook || s.Token.Expiry != "never" || s.Next == nil || s.Next.Action != "validation" {
		t.Errorf("got login %q, expiry %q, next %+v; want FacebookLogin, never, a validation", s.Login, s.Token.Expiry, s.Next)
	}
}

func TestSummarizeDegraded(t *testing.T) {
	conn := connected()
	conn.Status.FailedRefreshAttempts = 3
	conn.Status.Conditions[1] = metav1.Condition{Type: igv1.ConditionDegraded, Status: metav1.ConditionTrue,
		Reason: igv1.ReasonRateLimited, Message: "Instagram throttled the app"}
	s := summarizeTyped(conn, LoginInstagram, t0)
	if s.LastFailure == nil || s.LastFailure.Reason != igv1.ReasonRateLimited || s.LastFailure.FailedAttempts != 3 {
		t.Fatalf("LastFailure = %+v", s.LastFailure)
	}
	if got := failureCell(s.LastFailure); got != "RateLimited (3 attempts)" {
		t.Errorf("failureCell = %q", got)
	}
}

func TestStatusTableAndJSON(t *testing.T) {
	waiting := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: "marketing", Name: "brand"},
		Status: igv1.InstagramConnectionStatus{
			AuthorizationURL: "https://ig.example.com/auth/instagram/start?ticket=abc",
			Conditions: []metav1.Condition{{Type: igv1.ConditionReady, Status: metav1.ConditionFalse,
				Reason: igv1.ReasonAwaitingAuthorization, Message: "log in"}},
		},
	}
	expired := connected()
	expired.Name = "old"
	expired.Status.ExpiresAt = mt(t0.Add(-2 * 24 * time.Hour))
	expired.Status.Conditions[0] = metav1.Condition{Type: igv1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: igv1.ReasonTokenExpired}
	list := StatusList{Connections: []ConnectionStatus{
		summarizeTyped(connected(), LoginInstagram, t0),
		summarizeTyped(waiting, LoginInstagram, t0),
		summarizeTyped(expired, LoginInstagram, t0),
	}}
	var b bytes.Buffer
	if err := printStatus(&b, list, &statusOptions{allNamespaces: true}, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"NAMESPACE", "expires in 40 days", "refresh in 20 days", "AwaitingAuthorization", "expired 2 days ago"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Errorf("table has %d lines, want a header and 3 rows:\n%s", len(lines), out)
	}

	b.Reset()
	if err := printStatus(&b, list, &statusOptions{output: "json"}, false); err != nil {
		t.Fatal(err)
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, b.String())
	}
	first := doc["connections"][0]
	for _, key := range []string{"namespace", "name", "account", "login", "ready", "token", "next", "lastFailure", "webhook"} {
		if _, ok := first[key]; !ok {
			t.Errorf("-o json lacks %q (the documented shape): %v", key, first)
		}
	}
	if got := first["token"].(map[string]any)["expiry"]; got != "expires in 40 days" {
		t.Errorf("token.expiry = %v", got)
	}
}

func TestNoLoginURLReason(t *testing.T) {
	base := ConnectionStatus{Namespace: "ns", Name: "c", Account: Account{Username: "acme"}}
	cases := []struct {
		name  string
		ready ConditionSummary
		want  string
	}{
		{"not reconciled", ConditionSummary{Status: "Unknown"}, "has not reconciled it"},
		{"ready", ConditionSummary{Status: "True", Reason: igv1.ReasonConnected}, "needs no login: it is Ready (Connected) as @acme"},
		{"no public url", ConditionSummary{Status: "False", Reason: igv1.ReasonAwaitingAuthorization,
			Message: "no token yet (the operator runs without --public-url, so it cannot offer a login link)"}, "no callback server configured"},
		{"no app", ConditionSummary{Status: "False", Reason: igv1.ReasonAppCredentialsMissing, Message: "no app"}, "no app credentials"},
	}
	for _, tc := range cases {
		s := base
		s.Ready = tc.ready
		if got := NoLoginURLReason(s); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q lacks %q", tc.name, got, tc.want)
		}
	}
}
