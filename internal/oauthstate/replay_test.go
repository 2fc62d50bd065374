package oauthstate

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestReplayGuardUse(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	g := NewReplayGuard(clk, 0)
	exp := epoch.Add(ttl)

	if err := g.Use("n1", exp); err != nil {
		t.Fatalf("first Use() error = %v", err)
	}
	if err := g.Use("n1", exp); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second Use() error = %v, want ErrReplayed", err)
	}
	if err := g.Use("n2", exp); err != nil {
		t.Fatalf("Use() of another nonce error = %v", err)
	}
	if err := g.Use("n3", epoch); !errors.Is(err, ErrExpired) {
		t.Fatalf("Use() of an expired state error = %v, want ErrExpired", err)
	}
	if err := g.Use("", exp); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Use() of an empty nonce error = %v, want ErrMalformed", err)
	}
	if g.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", g.Len())
	}
}

func TestReplayGuardForgetsExpiredFirst(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	g := NewReplayGuard(clk, 3)
	_ = g.Use("short", epoch.Add(time.Minute))
	_ = g.Use("long-1", epoch.Add(time.Hour))
	_ = g.Use("long-2", epoch.Add(time.Hour))

	clk.Step(2 * time.Minute) // "short" expires
	if err := g.Use("new", epoch.Add(time.Hour)); err != nil {
		t.Fatalf("Use() error = %v", err)
	}
	for _, n := range []string{"long-1", "long-2", "new"} {
		if err := g.Use(n, epoch.Add(time.Hour)); !errors.Is(err, ErrReplayed) {
			t.Errorf("Use(%q) error = %v, want ErrReplayed: a live nonce was evicted", n, err)
		}
	}
	if g.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", g.Len())
	}
}

func TestReplayGuardFullEvictsSoonestExpiry(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	g := NewReplayGuard(clk, 3)
	_ = g.Use("late", epoch.Add(3*time.Minute))
	_ = g.Use("soonest", epoch.Add(1*time.Minute))
	_ = g.Use("middle", epoch.Add(2*time.Minute))

	if err := g.Use("new", epoch.Add(4*time.Minute)); err != nil {
		t.Fatalf("Use() on a full guard error = %v", err)
	}
	if g.Len() != 3 {
		t.Fatalf("Len() = %d, want the capacity 3", g.Len())
	}
	for _, n := range []string{"late", "middle", "new"} {
		if err := g.Use(n, epoch.Add(time.Hour)); !errors.Is(err, ErrReplayed) {
			t.Errorf("Use(%q) error = %v, want ErrReplayed", n, err)
		}
	}
}

// TestReplayGuardConcurrent races goroutines over one set of nonces; run it with -race. Each
// nonce must be accepted exactly once however the calls interleave.
func TestReplayGuardConcurrent(t *testing.T) {
	const workers, nonces = 8, 2000
	clk := clocktesting.NewFakeClock(epoch)
	g := NewReplayGuard(clk, nonces)
	var accepted [nonces]atomic.Int32

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range nonces {
				n := (i + w*nonces/workers) % nonces // start each worker elsewhere
				err := g.Use(fmt.Sprintf("nonce-%d", n), epoch.Add(ttl))
				switch {
				case err == nil:
					accepted[n].Add(1)
				case !errors.Is(err, ErrReplayed):
					t.Errorf("Use() error = %v", err)
				}
			}
		})
	}
	wg.Wait()
	for n := range accepted {
		if c := accepted[n].Load(); c != 1 {
			t.Fatalf("nonce-%d accepted %d times, want once", n, c)
		}
	}
}
