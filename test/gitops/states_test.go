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

package gitops

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// The connection states below are built the way the reconciler writes them
// (internal/controller/status.go): every condition carries the generation it was computed
// from, status.observedGeneration too, Ready and Degraded move together, and
// status.authorizationURL is set only while a person is needed. Each GitOps tool's reading
// of them is tested against the same list: kstatus (kstatus_test.go), the Argo CD health
// script (argocd_test.go) and Flux's health expressions (flux_test.go).

var (
	t0        = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	issuedAt  = metav1.NewTime(t0.Add(-24 * time.Hour))
	expiresAt = metav1.NewTime(t0.Add(59 * 24 * time.Hour))
	nextAt    = metav1.NewTime(t0.Add(39 * 24 * time.Hour))
)

const authURL = "https://ig.example.com/auth/instagram/start?ticket=AAAA.BBBB"

// connection returns a connection at generation gen whose status was computed from
// observed, with the given Ready and Degraded conditions (nil: absent).
func connection(gen, observed int64, ready, degraded *metav1.Condition) *igv1.InstagramConnection {
	c := &igv1.InstagramConnection{
		TypeMeta: metav1.TypeMeta{APIVersion: igv1.GroupVersion.String(), Kind: "InstagramConnection"},
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "marketing", Generation: gen,
			UID: "0b8e2a9c-1111-4c1e-9d3a-5f0c2f7e0001", CreationTimestamp: metav1.NewTime(t0.Add(-48 * time.Hour))},
		Spec: igv1.InstagramConnectionSpec{SecretName: "acme-instagram-token",
			Scopes: []igv1.Scope{igv1.ScopeBasic, igv1.ScopeContentPublish}},
	}
	c.Status.ObservedGeneration = observed
	for _, cond := range []*metav1.Condition{ready, degraded} {
		if cond != nil {
			cond.ObservedGeneration = observed
			cond.LastTransitionTime = metav1.NewTime(t0)
			c.Status.Conditions = append(c.Status.Conditions, *cond)
		}
	}
	return c
}

func cond(typ string, s metav1.ConditionStatus, reason, message string) *metav1.Condition {
	return &metav1.Condition{Type: typ, Status: s, Reason: reason, Message: message}
}

// noFailures is the Degraded condition of a connection whose last Instagram call succeeded.
func noFailures() *metav1.Condition {
	return cond(igv1.ConditionDegraded, metav1.ConditionFalse, igv1.ReasonNoFailures, "no Instagram call is failing")
}

// connected is a connection with a usable token, as setReady and setTokenStatus leave it, its
// status written for generation 2: at gen 2 it is current, at a later one the spec changed since.
func connected(gen int64, degraded *metav1.Condition) *igv1.InstagramConnection {
	c := connection(gen, 2, cond(igv1.ConditionReady, metav1.ConditionTrue, igv1.ReasonConnected,
		"token valid until 2026-12-30T12:00:00Z; next refresh at 2026-12-10T12:00:00Z"), degraded)
	c.Status.UserID, c.Status.Username, c.Status.AccountType = "17841400000000001", "acme", "BUSINESS"
	c.Status.GrantedScopes = []string{"instagram_business_basic", "instagram_business_content_publish"}
	c.Status.TokenIssuedAt, c.Status.ExpiresAt, c.Status.NextRefreshTime = &issuedAt, &expiresAt, &nextAt
	return c
}

// needsPerson is a connection with Ready=False for reason, as needsLogin or setNotReady leave
// it: no refresh scheduled, Degraded cleared, a login link offered, and (syncStalled) Stalled
// mirroring Ready for every reason but AwaitingAuthorization.
func needsPerson(reason, message string) *igv1.InstagramConnection {
	c := notReady(reason, message)
	c.Status.AuthorizationURL = authURL
	return c
}

// notReady is a connection with Ready=False for reason and the Stalled condition the
// reconciler derives from it.
func notReady(reason, message string) *igv1.InstagramConnection {
	c := connection(1, 1, cond(igv1.ConditionReady, metav1.ConditionFalse, reason, message), noFailures())
	if reason != igv1.ReasonAwaitingAuthorization {
		stalled := cond(igv1.ConditionStalled, metav1.ConditionTrue, reason, message)
		stalled.ObservedGeneration, stalled.LastTransitionTime = 1, metav1.NewTime(t0)
		c.Status.Conditions = append(c.Status.Conditions, *stalled)
	}
	return c
}

// Argo CD health statuses and Flux outcomes, as the tools name them.
const (
	argoHealthy     = "Healthy"
	argoProgressing = "Progressing"
	argoDegraded    = "Degraded"
	argoSuspended   = "Suspended"

	// fluxUnknown is an expression that could not be evaluated (it reads a field the object
	// does not have yet): Flux reports the resource's status as Unknown and checks again
	// until the Kustomization's timeout.
	fluxUnknown = status.UnknownStatus
)

// state is one connection state and what each GitOps tool must make of it.
type state struct {
	name string
	conn *igv1.InstagramConnection
	// kstatus is what kstatus computes (Flux without healthCheckExprs, cli-utils appliers).
	kstatus status.Status
	// argo is the Argo CD health of docs/gitops/argocd-health.lua, and argoMessage a part of
	// the message it must give.
	argo, argoMessage string
	// flux is the status Flux computes with docs/gitops.md's healthCheckExprs.
	flux status.Status
}

// states are the connection states the reconciler writes, one per row of docs/gitops.md's
// tables.
func states() []state {
	deleting := connected(2, noFailures())
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	deleting.Finalizers = []string{"example.com/hold"} // a deleted object is only seen with one

	importing := connection(1, 1, cond(igv1.ConditionReady, metav1.ConditionUnknown, igv1.ReasonInstagramUnavailable,
		"could not validate the imported token yet; see the Degraded condition"),
		cond(igv1.ConditionDegraded, metav1.ConditionTrue, igv1.ReasonInstagramUnavailable,
			"attempt 1 failed, next at 2026-11-01T12:01:00Z: Instagram answered 503"))

	// The spec changed after the last status write, and Ready describes the generation before.
	staleReady := connected(3, noFailures())
	staleReady.Status.ObservedGeneration = 3

	awaitingNoURL := notReady(igv1.ReasonAwaitingAuthorization,
		"no token yet (the operator runs without --public-url, so there is no login link)")

	return []state{
		// The one GitOps tools wait for.
		{name: "Ready=True Connected, observedGeneration current", conn: connected(2, noFailures()),
			kstatus: status.CurrentStatus, argo: argoHealthy, argoMessage: "token valid until", flux: status.CurrentStatus},
		// The token is still usable and the refresh is retried: kstatus ignores Degraded,
		// and so do the Argo CD script (saying so) and the Flux expressions.
		{name: "Ready=True Connected, Degraded=True RateLimited", conn: connected(2, cond(igv1.ConditionDegraded,
			metav1.ConditionTrue, igv1.ReasonRateLimited, "attempt 2 failed, next at 2026-11-01T12:02:00Z")),
			kstatus: status.CurrentStatus, argo: argoHealthy,
			argoMessage: "the last call to Instagram failed (RateLimited) and igconnect retries", flux: status.CurrentStatus},
		{name: "Ready=True Connected, Degraded=True ConfigurationError", conn: connected(2, cond(igv1.ConditionDegraded,
			metav1.ConditionTrue, igv1.ReasonConfigurationError, "Invalid platform app")),
			kstatus: status.CurrentStatus, argo: argoHealthy, argoMessage: "(ConfigurationError)", flux: status.CurrentStatus},
		// The spec changed and the reconciler has not caught up yet.
		{name: "Ready=True Connected, observedGeneration stale", conn: connected(3, noFailures()),
			kstatus: status.InProgressStatus, argo: argoProgressing, argoMessage: "observe generation 3", flux: status.InProgressStatus},
		// The reconciler never writes this (it stamps every condition with the generation it
		// writes status for), but a tool should not take it for Ready: kstatus reads only
		// status.observedGeneration and does; the Argo CD script and Flux's expressions do not.
		{name: "observedGeneration current, Ready's observedGeneration stale", conn: staleReady,
			kstatus: status.CurrentStatus, argo: argoProgressing, argoMessage: "report the Ready condition", flux: status.InProgressStatus},
		// Just applied, not yet reconciled: no status at all. kstatus cannot tell this from
		// a resource that has no status, and calls it Current; the Flux expressions read
		// fields that do not exist yet, and Flux keeps checking.
		{name: "no status yet", conn: connection(1, 0, nil, nil),
			kstatus: status.CurrentStatus, argo: argoProgressing, argoMessage: "reconcile the connection", flux: fluxUnknown},
		// Awaiting the first login is the normal state of a connection applied from Git:
		// in progress, not failed.
		{name: "Ready=False AwaitingAuthorization", conn: needsPerson(igv1.ReasonAwaitingAuthorization,
			"no token yet: open status.authorizationURL and log in with the Instagram account"),
			kstatus: status.InProgressStatus, argo: argoSuspended, argoMessage: authURL, flux: status.InProgressStatus},
		{name: "Ready=False AwaitingAuthorization without a login link", conn: awaitingNoURL,
			kstatus: status.InProgressStatus, argo: argoSuspended, argoMessage: "without --public-url", flux: status.InProgressStatus},
		// Every other Ready=False needs a person: Stalled=True makes kstatus say Failed, so a
		// Flux Kustomization fails at once instead of waiting for its timeout.
		{name: "Ready=False ReauthorizationRequired", conn: needsPerson(igv1.ReasonReauthorizationRequired,
			"Instagram rejected the token; a person must log in again through status.authorizationURL"),
			kstatus: status.FailedStatus, argo: argoDegraded, argoMessage: "ReauthorizationRequired: Instagram rejected", flux: status.FailedStatus},
		{name: "Ready=False AccountActionRequired", conn: needsPerson(igv1.ReasonAccountActionRequired,
			"Instagram reports a problem with the account"),
			kstatus: status.FailedStatus, argo: argoDegraded, argoMessage: "AccountActionRequired: ", flux: status.FailedStatus},
		{name: "Ready=False TokenExpired", conn: needsPerson(igv1.ReasonTokenExpired,
			"the token expired at 2026-10-30T12:00:00Z without a refresh"),
			kstatus: status.FailedStatus, argo: argoDegraded, argoMessage: "TokenExpired: ", flux: status.FailedStatus},
		{name: "Ready=False Deauthorized", conn: needsPerson(igv1.ReasonDeauthorized,
			"the Instagram user removed the app"),
			kstatus: status.FailedStatus, argo: argoDegraded, argoMessage: "Deauthorized: ", flux: status.FailedStatus},
		{name: "Ready=False AccountMismatch", conn: needsPerson(igv1.ReasonAccountMismatch,
			"the token belongs to @other, but spec.instagramUserID is 17841400000000001"),
			kstatus: status.FailedStatus, argo: argoDegraded, argoMessage: "AccountMismatch: ", flux: status.FailedStatus},
		{name: "Ready=False SecretConflict", conn: notReady(igv1.ReasonSecretConflict,
			"Secret acme-instagram-token belongs to another object"),
			kstatus: status.FailedStatus, argo: argoDegraded, argoMessage: "SecretConflict: ", flux: status.FailedStatus},
		{name: "Ready=False AppCredentialsMissing", conn: notReady(igv1.ReasonAppCredentialsMissing,
			"no Instagram app credentials"),
			kstatus: status.FailedStatus, argo: argoDegraded, argoMessage: "AppCredentialsMissing: ", flux: status.FailedStatus},
		// An imported token whose validation is being retried.
		{name: "Ready=Unknown while an import is retried", conn: importing,
			kstatus: status.InProgressStatus, argo: argoProgressing, argoMessage: "InstagramUnavailable: ", flux: status.InProgressStatus},
		// Argo CD reports an object being deleted as Progressing ("Pending deletion") before
		// it runs any health script; Flux's expressions do not look at deletion.
		{name: "being deleted", conn: deleting,
			kstatus: status.TerminatingStatus, argo: argoProgressing, argoMessage: "Pending deletion", flux: status.CurrentStatus},
	}
}

// unstructuredOf returns the connection as the API server would serve it to a tool.
func unstructuredOf(t *testing.T, c *igv1.InstagramConnection) map[string]any {
	t.Helper()
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}
