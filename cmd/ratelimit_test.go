package main

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"
)

// TestCallLimiterNeverExceedsTheRateInAnySecond fires more calls at once than two windows
// allow and checks every one-second window, burst included.
func TestCallLimiterNeverExceedsTheRateInAnySecond(t *testing.T) {
	const perSecond, calls = 10, 25
	l := newCallLimiter(perSecond, perSecond)
	var (
		mu    sync.Mutex
		times []time.Time
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range calls {
		wg.Go(func() {
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i := range times {
		in := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < time.Second; j++ {
			in++
		}
		if in > perSecond {
			t.Fatalf("%d calls within one second from call %d, want at most %d", in, i, perSecond)
		}
	}
	// 25 calls at 10 per window need two full windows after the first ten.
	if elapsed := time.Since(start); elapsed < 2*time.Second {
		t.Errorf("25 calls took %s, want at least two windows", elapsed)
	}
	// The first calls go at once, up to the burst.
	if d := times[perSecond-1].Sub(start); d > 500*time.Millisecond {
		t.Errorf("the first %d calls took %s, want them at once", perSecond, d)
	}
}

func TestCallLimiterBelowOnePerSecondAndCancel(t *testing.T) {
	l := newCallLimiter(0.5, 5)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("a second call within two seconds at 0.5/s must wait past the deadline")
	}
	if time.Since(start) > time.Second {
		t.Errorf("a cancelled wait returned after %s", time.Since(start))
	}
}
