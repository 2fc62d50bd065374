package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// tokenAge is how old the benchmark's tokens are when minted: older than Instagram's
// 24-hour minimum, so a requested refresh is due at once, and far from expiry, so nothing
// else is.
const tokenAge = "25h"

// tokenLifetime is the sandbox's long-lived token lifetime (its default, Instagram's).
const tokenLifetime = 60 * 24 * time.Hour

// ConvResult is the convergence scenario's outcome.
type ConvResult struct {
	N int
	// Floors and Operators are the samples, one per round; Floor and Operator the best
	// (least disturbed by whatever else the machine runs).
	Floors, Operators []time.Duration
	Floor, Operator   time.Duration
	// FloorObjects is the part of the best floor spent on the Secret and status writes,
	// before its events.
	FloorObjects time.Duration
	// FloorWrites is the API server's count of the floor's writes (last round).
	FloorWrites float64
	// FromReady is the best operator time counted from the manager's /readyz answering.
	FromReady time.Duration
	// Manager holds the manager's own counters at the end of the last round.
	Manager managerCounters
	// ServerWrites is the API server's count of writes during the last operator run, by
	// resource.
	ServerWrites map[string]float64
	// Calls is the sandbox's call count per endpoint during the last operator run.
	Calls map[string]int
	// FloorCPU and OperatorCPU say which process used the CPU during the best run of each.
	FloorCPU, OperatorCPU string
}

// convergence measures the floor, then the operator, on N imported connections each, for
// Rounds rounds. The operator's connections of the last round stay for the refresh wave.
func (b *bench) convergence(ctx context.Context) error {
	r := &ConvResult{N: b.cfg.N}
	b.res.Conv = r
	for round := 1; round <= b.cfg.Rounds; round++ {
		if err := b.floorRound(ctx, r); err != nil {
			return err
		}
		if err := b.operatorRound(ctx, r, round == b.cfg.Rounds); err != nil {
			return err
		}
	}
	return nil
}

// floorRound runs the floor client once on fresh imports and removes them again.
func (b *bench) floorRound(ctx context.Context, r *ConvResult) error {
	n := r.N
	if err := b.stopManager(); err != nil {
		return err
	}
	b.logf("floor: creating %d imported connections in %s", n, nsFloor)
	if err := b.createImports(ctx, nsFloor, n); err != nil {
		return err
	}
	w0, err := b.apiserverWrites(ctx)
	if err != nil {
		return err
	}
	cpu0 := cpuByProcess()
	waitProfiles := b.startProfiles(ctx, "floor")
	took, objects, err := b.floor(ctx, nsFloor)
	waitProfiles()
	if err != nil {
		return err
	}
	cpu := cpuDiff(cpuByProcess(), cpu0)
	w1, err := b.apiserverWrites(ctx)
	if err != nil {
		return err
	}
	r.FloorWrites = sum(w1) - sum(w0)
	r.Floors = append(r.Floors, took)
	if r.Floor == 0 || took < r.Floor {
		r.Floor, r.FloorObjects, r.FloorCPU = took, objects, cpu
	}
	b.logf("floor: %d connections in %s (%.0f writes)", n, took.Round(time.Millisecond), r.FloorWrites)
	return b.deleteAll(ctx, nsFloor)
}

// operatorRound starts the manager on fresh imports and waits until all are Ready; unless
// keep, it removes them again.
func (b *bench) operatorRound(ctx context.Context, r *ConvResult, keep bool) error {
	n := r.N
	if err := b.stopManager(); err != nil {
		return err
	}
	b.logf("operator: creating %d imported connections in %s", n, nsConv)
	if err := b.createImports(ctx, nsConv, n); err != nil {
		return err
	}
	if err := b.sbc.ResetCalls(ctx); err != nil {
		return err
	}
	w0, err := b.apiserverWrites(ctx)
	if err != nil {
		return err
	}
	cpu0 := cpuByProcess()
	start := time.Now()
	if err := b.startManager(ctx); err != nil {
		return err
	}
	ready := time.Now()
	waitProfiles := func() {}
	if keep {
		waitProfiles = b.startProfiles(ctx, "convergence")
	}
	done, err := b.watch.waitAll(ctx, nsConv, n, b.cfg.Timeout, isReady, func(total, ok int) {
		b.logf("operator: %d of %d Ready", ok, total)
	})
	if err != nil {
		waitProfiles()
		return err
	}
	cpu := cpuDiff(cpuByProcess(), cpu0)
	took := done.Sub(start)
	r.Operators = append(r.Operators, took)
	if r.Operator == 0 || took < r.Operator {
		r.Operator, r.FromReady, r.OperatorCPU = took, done.Sub(ready), cpu
	}
	b.logf("operator: %d connections Ready in %s (%s after /readyz)", n, took.Round(time.Millisecond),
		done.Sub(ready).Round(time.Millisecond))
	// Late writes and calls of the convergence still count: wait for the manager's last.
	if _, err := b.quiesce(ctx, 2*time.Second, time.Minute); err != nil {
		waitProfiles()
		return err
	}
	waitProfiles()
	if r.Manager, err = b.scrapeManager(ctx); err != nil {
		return err
	}
	w1, err := b.apiserverWrites(ctx)
	if err != nil {
		return err
	}
	r.ServerWrites = diff(w1, w0)
	if r.Calls, err = b.sbc.Calls(ctx); err != nil {
		return err
	}
	if keep {
		return nil
	}
	if err := b.stopManager(); err != nil {
		return err
	}
	return b.deleteAll(ctx, nsConv)
}

// createImports creates n imported connections in ns, as a person would: a Secret with just
// access_token and expires_at of a token the sandbox minted, then a connection naming it.
func (b *bench) createImports(ctx context.Context, ns string, n int) error {
	return parallel(ctx, n, setupWorkers, func(ctx context.Context, i int) error {
		tok, err := b.sbc.IssueToken(ctx, devenv.TokenRequest{Kind: sandbox.LongLived, Age: tokenAge})
		if err != nil {
			return err
		}
		name := connName(i)
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-token"},
			Type:       corev1.SecretTypeOpaque,
			Data: map[string][]byte{
				igv1.SecretKeyAccessToken: []byte(tok.AccessToken),
				igv1.SecretKeyExpiresAt:   []byte(tok.ExpiresAt.UTC().Format(time.RFC3339)),
			},
		}
		if err := b.kube.Create(ctx, secret); err != nil {
			return err
		}
		conn := &igv1.InstagramConnection{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       igv1.InstagramConnectionSpec{SecretName: secret.Name},
		}
		return b.kube.Create(ctx, conn)
	})
}

func connName(i int) string { return fmt.Sprintf("c-%05d", i) }

// floor does, for every imported connection in ns, exactly the writes an import needs and
// nothing else, with FloorWorkers concurrent workers and no client-side rate limit:
//
//   - one Secret update: adopt it (owner reference, labels) and complete it (token_type,
//     user_id, username and the bookkeeping annotations). Adoption is needed for
//     garbage collection and the labels for the operator's cache; both go in the same
//     update as the keys, so one write is the least;
//   - one status write: Ready=True with the account, the token times and the next refresh;
//   - one event, Normal Connected: the contract has events mirror the reasons, so every
//     connection that turns Ready announces it. It is created as the operator's recorder
//     creates it (events.k8s.io/v1, in protobuf, the same fields).
//
// /me's answer is taken from what the sandbox said when it minted the token, so the floor
// makes no Instagram call. It starts with the two lists it needs and ends with the last
// write. The events are sent in a second pass, after all Secret and status writes, so the
// time of those alone is known too (objects).
func (b *bench) floor(ctx context.Context, ns string) (total, objects time.Duration, err error) {
	start := time.Now()
	conns := &igv1.InstagramConnectionList{}
	if err := b.kube.List(ctx, conns, client.InNamespace(ns)); err != nil {
		return 0, 0, err
	}
	secrets := &corev1.SecretList{}
	if err := b.kube.List(ctx, secrets, client.InNamespace(ns)); err != nil {
		return 0, 0, err
	}
	byName := map[string]*corev1.Secret{}
	for i := range secrets.Items {
		byName[secrets.Items[i].Name] = &secrets.Items[i]
	}
	acct, err := b.firstAccount(ctx)
	if err != nil {
		return 0, 0, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	err = parallel(ctx, len(conns.Items), b.cfg.FloorWorkers, func(ctx context.Context, i int) error {
		conn := &conns.Items[i]
		secret := byName[conn.Spec.SecretName]
		if secret == nil {
			return fmt.Errorf("no Secret %s", conn.Spec.SecretName)
		}
		rec := tokensecret.Read(secret)
		rec.IssuedAt = rec.ExpiresAt.Add(-tokenLifetime)
		rec.UserID, rec.Username, rec.AccountType, rec.AppScopedUserID = acct.UserID, acct.Username, acct.AccountType,
			acct.AppScopedID
		rec.GrantedScopes = acct.Scopes
		tokensecret.Apply(secret, conn.Name, nil, rec)
		if err := controllerutil.SetControllerReference(conn, secret, b.scheme); err != nil {
			return err
		}
		if err := b.kube.Update(ctx, secret); err != nil {
			return err
		}
		before := conn.DeepCopy()
		next := rec.ExpiresAt.Add(-480 * time.Hour)
		conn.Status = igv1.InstagramConnectionStatus{
			ObservedGeneration: conn.Generation,
			UserID:             rec.UserID, Username: rec.Username, AccountType: rec.AccountType,
			AppScopedUserID: rec.AppScopedUserID, GrantedScopes: rec.GrantedScopes,
			TokenIssuedAt: &metav1.Time{Time: rec.IssuedAt}, ExpiresAt: &metav1.Time{Time: rec.ExpiresAt},
			NextRefreshTime: &metav1.Time{Time: next},
			Conditions: []metav1.Condition{
				{Type: igv1.ConditionReady, Status: metav1.ConditionTrue, Reason: igv1.ReasonConnected,
					ObservedGeneration: conn.Generation, LastTransitionTime: metav1.Time{Time: now},
					Message: fmt.Sprintf("token valid until %s; next refresh at %s", rec.ExpiresAt.Format(time.RFC3339),
						next.Format(time.RFC3339))},
				{Type: igv1.ConditionDegraded, Status: metav1.ConditionFalse, Reason: igv1.ReasonNoFailures,
					ObservedGeneration: conn.Generation, LastTransitionTime: metav1.Time{Time: now},
					Message: "no Instagram call is failing"},
			},
		}
		return b.kube.Status().Patch(ctx, conn, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
	if err != nil {
		return 0, 0, err
	}
	objects = time.Since(start)
	err = parallel(ctx, len(conns.Items), b.cfg.FloorWorkers, func(ctx context.Context, i int) error {
		conn := &conns.Items[i]
		return b.kube.Create(ctx, connectedEvent(conn, fmt.Sprintf("Imported the token of @%s (%s) from Secret %s; %s",
			acct.Username, acct.UserID, conn.Spec.SecretName, conn.Status.Conditions[0].Message)))
	})
	return time.Since(start), objects, err
}

// connectedEvent is the Normal Connected event of conn, as the operator's recorder
// (k8s.io/client-go/tools/events) builds it.
func connectedEvent(conn *igv1.InstagramConnection, note string) *eventsv1.Event {
	now := time.Now()
	return &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: conn.Namespace, Name: fmt.Sprintf("%s.%x", conn.Name, now.UnixNano())},
		EventTime:  metav1.NewMicroTime(now),
		Regarding: corev1.ObjectReference{Kind: "InstagramConnection", APIVersion: igv1.GroupVersion.String(),
			Namespace: conn.Namespace, Name: conn.Name, UID: conn.UID, ResourceVersion: conn.ResourceVersion},
		ReportingController: "igconnect",
		ReportingInstance:   "igconnect-bench-floor",
		Action:              "Import",
		Reason:              igv1.ReasonConnected,
		Type:                corev1.EventTypeNormal,
		Note:                note,
	}
}

// deleteAll deletes the connections and Secrets of ns (envtest runs no garbage collector or
// namespace controller, so each kind is deleted explicitly) and waits until the harness's
// informer has seen the connections go.
func (b *bench) deleteAll(ctx context.Context, ns string) error {
	if err := b.kube.DeleteAllOf(ctx, &igv1.InstagramConnection{}, client.InNamespace(ns)); err != nil {
		return err
	}
	if err := b.kube.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(ns)); err != nil {
		return err
	}
	_, err := b.watch.waitAll(ctx, ns, 0, time.Minute, func(*igv1.InstagramConnection) bool { return true }, nil)
	return err
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

func diff(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
