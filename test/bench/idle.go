package main

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// IdleResult is the idle scenario's outcome.
type IdleResult struct {
	N int
	// Converge is from the manager's start to all N Ready (Secrets already in igconnect's
	// format, so no Instagram call is needed); Settle from then to the manager's last write
	// (the events that mirror the new conditions), after which the window starts.
	Converge, Settle time.Duration
	// Window is how long the idle manager was watched.
	Window time.Duration
	// Calls is the sandbox's call count in the window: only validations (profile).
	Calls map[string]int
	// ConvergeCalls is the sandbox's call count during the convergence: one validation per
	// connection, whose status (as after an upgrade to a manager that validates) has no
	// lastValidatedTime yet.
	ConvergeCalls map[string]int
	// Validation is the window's validations by the schedule.
	Validation ValidationFigures
	// ManagerWrites and ManagerRequests are the manager's own API requests in the window;
	// ServerWrites the API server's count of writes to connections, Secrets and events;
	// WatchedChanges the changes to connections and Secrets the harness's watch saw.
	ManagerWrites, ManagerRequests float64
	ServerWrites                   map[string]float64
	WatchedChanges                 int64
	// CPU is the manager's CPU time in the window; RSS its resident memory at the end, HWM
	// its peak resident memory over the whole run.
	CPU      time.Duration
	RSS, HWM int64
}

// idle converges IdleN connections that are not due for a refresh, then watches the manager
// for IdleWindow, in which it makes only the validations due (validation.go).
func (b *bench) idle(ctx context.Context) error {
	n := b.cfg.IdleN
	r := &IdleResult{N: n, Window: b.cfg.IdleWindow}
	interval, err := managerValidateInterval(b.cfg.ManagerArgs)
	if err != nil {
		return err
	}
	b.res.Idle = r
	if err := b.stopManager(); err != nil {
		return err
	}
	// Only the idle connections: the other scenarios' are removed.
	for _, ns := range []string{nsFloor, nsConv, nsIdle} {
		if err := b.deleteAll(ctx, ns); err != nil {
			return err
		}
	}
	b.logf("idle: creating %d managed connections in %s", n, nsIdle)
	if err := b.createManaged(ctx, nsIdle, n); err != nil {
		return err
	}
	if err := b.sbc.ResetCalls(ctx); err != nil {
		return err
	}
	start := time.Now()
	if err := b.startManager(ctx); err != nil {
		return err
	}
	done, err := b.watch.waitAll(ctx, nsIdle, n, b.cfg.Timeout, isReady, func(total, ok int) {
		b.logf("idle: %d of %d Ready", ok, total)
	})
	if err != nil {
		return err
	}
	r.Converge = done.Sub(start)
	// The Connected events of the last connections are still being written: that is
	// convergence, not idling.
	if r.Settle, err = b.quiesce(ctx, 2*time.Second, time.Minute); err != nil {
		return err
	}
	b.logf("idle: %d connections Ready in %s, last write %s later; watching for %s", n,
		r.Converge.Round(time.Millisecond), r.Settle.Round(time.Millisecond), r.Window)

	if r.ConvergeCalls, err = b.sbc.Calls(ctx); err != nil {
		return err
	}
	sched, err := b.validationSchedule(ctx, nsIdle)
	if err != nil {
		return err
	}
	if err := b.sbc.ResetCalls(ctx); err != nil {
		return err
	}
	from := time.Now()
	m0, err := b.scrapeManager(ctx)
	if err != nil {
		return err
	}
	w0, err := b.apiserverWrites(ctx)
	if err != nil {
		return err
	}
	p0, err := readProc(b.mgr.Pid())
	if err != nil {
		return err
	}
	c0 := b.watch.connChanges.Load() + b.watch.secretChanges.Load()
	if err := sleep(ctx, r.Window); err != nil {
		return err
	}
	p1, err := readProc(b.mgr.Pid())
	if err != nil {
		return err
	}
	r.WatchedChanges = b.watch.connChanges.Load() + b.watch.secretChanges.Load() - c0
	if r.Calls, err = b.sbc.Calls(ctx); err != nil {
		return err
	}
	r.Validation = sched.figures(interval, from, time.Now())
	m1, err := b.scrapeManager(ctx)
	if err != nil {
		return err
	}
	w1, err := b.apiserverWrites(ctx)
	if err != nil {
		return err
	}
	// Scraping is a request of the harness, not of the manager, and rest_client counts only
	// the manager's own clients.
	r.ManagerWrites, r.ManagerRequests = m1.Writes-m0.Writes, m1.Requests-m0.Requests
	r.ServerWrites = diff(w1, w0)
	r.CPU, r.RSS, r.HWM = p1.CPU-p0.CPU, p1.RSS, p1.HWM
	b.heapProfile(ctx, "idle")
	return nil
}

// createManaged creates n connections whose Secrets igconnect already manages: a sandbox
// token 25 hours old with its full record, labels and owner reference, as the reconciler
// leaves them. Nothing is due for 40 days.
func (b *bench) createManaged(ctx context.Context, ns string, n int) error {
	acct, err := b.firstAccount(ctx)
	if err != nil {
		return err
	}
	return parallel(ctx, n, setupWorkers, func(ctx context.Context, i int) error {
		tok, err := b.sbc.IssueToken(ctx, devenv.TokenRequest{Kind: sandbox.LongLived, Age: tokenAge})
		if err != nil {
			return err
		}
		name := connName(i)
		conn := &igv1.InstagramConnection{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       igv1.InstagramConnectionSpec{SecretName: name + "-token"},
		}
		if err := b.kube.Create(ctx, conn); err != nil {
			return err
		}
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: conn.Spec.SecretName}}
		tokensecret.Apply(secret, name, nil, tokensecret.Record{
			AccessToken: tok.AccessToken, IssuedAt: tok.IssuedAt.UTC().Truncate(time.Second),
			ExpiresAt: tok.ExpiresAt.UTC().Truncate(time.Second), UserID: acct.UserID, Username: acct.Username,
			AccountType: acct.AccountType, AppScopedUserID: acct.AppScopedID, GrantedScopes: acct.Scopes,
		})
		if err := controllerutil.SetControllerReference(conn, secret, b.scheme); err != nil {
			return err
		}
		return b.kube.Create(ctx, secret)
	})
}
