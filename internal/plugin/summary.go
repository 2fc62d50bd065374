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
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// Login kinds of spec.login. The field is read from the object as the API server returns it,
// so the plugin shows a kind its own copy of the API types does not know yet.
const (
	// LoginInstagram is Instagram Business Login, the default when spec.login is absent.
	LoginInstagram = "InstagramLogin"
	// LoginFacebook is Facebook Login for Page-linked accounts; its tokens are validated, not
	// refreshed.
	LoginFacebook = "FacebookLogin"
)

// noValue is what the table shows for a value that does not exist.
const noValue = "-"

// StatusList is the document `status -o json|yaml` prints. Its shape is part of the plugin's
// interface (docs/kubectl-plugin.md): fields are only ever added.
type StatusList struct {
	// Connections are the connections shown, sorted by namespace and name.
	Connections []ConnectionStatus `json:"connections"`
}

// ConnectionStatus is one connection as the plugin describes it.
type ConnectionStatus struct {
	// Namespace and Name identify the connection.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Account is the Instagram account the token belongs to, once known.
	Account Account `json:"account"`
	// Login is spec.login, or InstagramLogin when absent.
	Login string `json:"login"`
	// Ready is the Ready condition.
	Ready ConditionSummary `json:"ready"`
	// Token describes the token's expiry.
	Token TokenSummary `json:"token"`
	// Next is the next refresh (InstagramLogin) or validation (FacebookLogin), if scheduled.
	Next *NextAction `json:"next"`
	// LastFailure is the Degraded condition while it is True, or the failed attempts in a row.
	LastFailure *Failure `json:"lastFailure"`
	// Webhook is the connection's webhook subscription state; null until the API has one.
	Webhook *string `json:"webhook"`
	// AuthorizationURL is status.authorizationURL: set while a person must log in.
	AuthorizationURL string `json:"authorizationURL,omitempty"`
}

// Account identifies an Instagram professional account.
type Account struct {
	Username    string `json:"username,omitempty"`
	UserID      string `json:"userID,omitempty"`
	AccountType string `json:"accountType,omitempty"`
}

// ConditionSummary is a condition's status, reason and message; Status is "Unknown" when the
// operator has not written the condition yet.
type ConditionSummary struct {
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// TokenSummary says when the token expires.
type TokenSummary struct {
	// Present is true once a token has been issued (status.tokenIssuedAt is set).
	Present bool `json:"present"`
	// IssuedAt is status.tokenIssuedAt.
	IssuedAt *time.Time `json:"issuedAt,omitempty"`
	// ExpiresAt is status.expiresAt; absent for a token that never expires.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// Estimated is true when the operator could only estimate the expiry (an imported token
	// Instagram would not refresh yet).
	Estimated bool `json:"estimated,omitempty"`
	// Expiry is ExpiresAt in words: "expires in 39 days", "expired 2 days ago", "never", "-".
	Expiry string `json:"expiry"`
}

// NextAction is the operator's next scheduled call for this connection.
type NextAction struct {
	// Action is "refresh" or "validation".
	Action string `json:"action"`
	// At is status.nextRefreshTime.
	At time.Time `json:"at"`
	// In is At in words: "in 20 days", "now", "3 minutes ago" (overdue).
	In string `json:"in"`
}

// Failure is what went wrong last, while it still matters.
type Failure struct {
	// Reason and Message are the Degraded condition's, when it is True.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// FailedAttempts is status.failedRefreshAttempts.
	FailedAttempts int32 `json:"failedAttempts"`
}

// Summarize describes a connection, read as the API server returned it, as seen at now.
func Summarize(u *unstructured.Unstructured, now time.Time) (ConnectionStatus, error) {
	conn := &igv1.InstagramConnection{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, conn); err != nil {
		return ConnectionStatus{}, err
	}
	login, _, _ := unstructured.NestedString(u.Object, "spec", "login")
	if login == "" {
		login = LoginInstagram
	}
	return summarizeTyped(conn, login, now), nil
}

func summarizeTyped(conn *igv1.InstagramConnection, login string, now time.Time) ConnectionStatus {
	st := conn.Status
	out := ConnectionStatus{
		Namespace:        conn.Namespace,
		Name:             conn.Name,
		Account:          Account{Username: st.Username, UserID: st.UserID, AccountType: st.AccountType},
		Login:            login,
		Ready:            conditionSummary(st.Conditions, igv1.ConditionReady),
		AuthorizationURL: st.AuthorizationURL,
	}
	out.Token = TokenSummary{Present: st.TokenIssuedAt != nil, IssuedAt: timeOf(st.TokenIssuedAt), ExpiresAt: timeOf(st.ExpiresAt)}
	out.Token.Estimated = out.Token.ExpiresAt != nil && expiryEstimated(out.Ready.Message)
	out.Token.Expiry = ExpiryPhrase(now, out.Token.ExpiresAt, out.Token.Present)
	if st.NextRefreshTime != nil && out.Ready.Status == string(metav1.ConditionTrue) {
		action := "refresh"
		if login == LoginFacebook {
			action = "validation"
		}
		out.Next = &NextAction{Action: action, At: st.NextRefreshTime.UTC(), In: Relative(now, st.NextRefreshTime.Time)}
	}
	degraded := meta.FindStatusCondition(st.Conditions, igv1.ConditionDegraded)
	if (degraded != nil && degraded.Status == metav1.ConditionTrue) || st.FailedRefreshAttempts > 0 {
		f := &Failure{FailedAttempts: st.FailedRefreshAttempts}
		if degraded != nil && degraded.Status == metav1.ConditionTrue {
			f.Reason, f.Message = degraded.Reason, degraded.Message
		}
		out.LastFailure = f
	}
	return out
}

// expiryEstimated reports whether Ready's message marks the expiry as an estimate: the
// reconciler says "(estimated)" when Instagram would not tell it.
func expiryEstimated(readyMessage string) bool {
	return strings.Contains(readyMessage, "(estimated)")
}

func conditionSummary(conds []metav1.Condition, typ string) ConditionSummary {
	c := meta.FindStatusCondition(conds, typ)
	if c == nil {
		return ConditionSummary{Status: string(metav1.ConditionUnknown)}
	}
	return ConditionSummary{Status: string(c.Status), Reason: c.Reason, Message: c.Message}
}

func timeOf(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
