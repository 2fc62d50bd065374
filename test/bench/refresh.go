package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// RefreshResult is the refresh wave's outcome.
type RefreshResult struct {
	N int
	// Requesting is how long the harness took to annotate all N (manager stopped); Wave is
	// from the manager's start to the last connection refreshed.
	Requesting, Wave time.Duration
	// Calls is the sandbox's call count per endpoint during the wave and a settling moment.
	Calls map[string]int
	// PeakSliding is the most manager calls the sandbox received in any one-second window,
	// PeakFixed in any calendar second; Configured is the manager's settings.
	PeakSliding, PeakFixed int
	Configured             string
	// Expired counts connections not Ready or past expiry after the wave; InvalidTokens
	// the Secrets whose token the sandbox does not consider valid.
	Expired, InvalidTokens int
	// CPU says which process used the CPU during the wave.
	CPU string
}

// settle is how long after a wave calls are still counted, to catch any stray one.
const settle = 3 * time.Second

// refreshWave asks for a refresh of all N connections at once through the refresh annotation.
func (b *bench) refreshWave(ctx context.Context) error {
	n := b.cfg.N
	r := &RefreshResult{N: n}
	b.res.Refresh = r
	if total, ok, _ := b.watch.counts(nsConv, isReady); total != n || ok != n || b.mgr == nil {
		// Run alone: make the connections first (not measured).
		b.logf("refresh: preparing %d ready connections", n)
		if err := b.stopManager(); err != nil {
			return err
		}
		if err := b.deleteAll(ctx, nsConv); err != nil {
			return err
		}
		if err := b.createImports(ctx, nsConv, n); err != nil {
			return err
		}
		if err := b.startManager(ctx); err != nil {
			return err
		}
		if _, err := b.watch.waitAll(ctx, nsConv, n, b.cfg.Timeout, isReady, nil); err != nil {
			return err
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	// The refresh of all is requested while the manager is stopped, so that the wave is
	// the manager's work alone (the harness's N annotation writes would compete with it)
	// and all N are due at the same moment: the manager's start.
	if err := b.stopManager(); err != nil {
		return err
	}
	conns := b.watch.connections(nsConv)
	value := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	requested := time.Now()
	err := parallel(ctx, len(conns), setupWorkers, func(ctx context.Context, i int) error {
		c := conns[i].DeepCopy()
		patch := client.MergeFrom(c.DeepCopy())
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[igv1.AnnotationRefreshRequestedAt] = value
		return b.kube.Patch(ctx, c, patch)
	})
	if err != nil {
		return err
	}
	r.Requesting = time.Since(requested)
	if err := b.sbc.ResetCalls(ctx); err != nil {
		return err
	}
	cpu0 := cpuByProcess()
	start := time.Now()
	if err := b.startManager(ctx); err != nil {
		return err
	}
	r.Configured = b.res.ManagerSettings
	since := start.Truncate(time.Second)
	done, err := b.watch.waitAll(ctx, nsConv, n, b.cfg.Timeout, func(c *igv1.InstagramConnection) bool {
		return c.Status.LastHandledRefreshRequest == value && c.Status.LastRefreshTime != nil &&
			!c.Status.LastRefreshTime.Time.Before(since) && isReady(c)
	}, func(total, ok int) { b.logf("refresh: %d of %d refreshed", ok, total) })
	if err != nil {
		return err
	}
	r.Wave = done.Sub(start)
	r.CPU = cpuDiff(cpuByProcess(), cpu0)
	b.logf("refresh: %d connections refreshed in %s", n, r.Wave.Round(time.Millisecond))
	if err := sleep(ctx, settle); err != nil {
		return err
	}
	if r.Calls, err = b.sbc.Calls(ctx); err != nil {
		return err
	}
	calls, err := b.sandboxCalls(start.Add(-time.Second), time.Now())
	if err != nil {
		return err
	}
	r.PeakSliding, r.PeakFixed = peakPerSecond(calls)

	now := time.Now()
	var invalid atomic.Int64
	conns = b.watch.connections(nsConv)
	for _, c := range conns {
		if !isReady(c) || c.Status.ExpiresAt == nil || !c.Status.ExpiresAt.After(now) {
			r.Expired++
		}
	}
	err = parallel(ctx, len(conns), setupWorkers, func(ctx context.Context, i int) error {
		s := &corev1.Secret{}
		if err := b.kube.Get(ctx, client.ObjectKey{Namespace: nsConv, Name: conns[i].Spec.SecretName}, s); err != nil {
			return err
		}
		info, _, err := b.sbc.InspectToken(ctx, tokensecret.Read(s).AccessToken)
		if err != nil || !info.Valid {
			invalid.Add(1)
		}
		return nil
	})
	r.InvalidTokens = int(invalid.Load())
	return err
}
