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

package main

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// windowGuard lengthens the one-second window of callLimiter. A call leaves the manager a
// little after its slot (building the request, a connection, a busy CPU) and that delay
// varies; without a margin, a call delayed by a few milliseconds would land in the same
// second, as Instagram counts it, as the call a full window after it. 50 ms covers what
// `make bench` measured on a loaded 2-core machine and costs 5% of the peak rate.
const windowGuard = 50 * time.Millisecond

// callLimiter paces the manager's calls to Instagram so that no second, as Instagram sees
// it, holds more than perSecond calls, whatever the number of reconciles and logins running.
//
// A token bucket alone (golang.org/x/time/rate) does not say that: with rate r and burst b
// it lets b calls through at once and r more within the next second, so a wave of refreshes
// would see r+b calls in a second (39 with the old defaults of 20 and 20, measured by
// `make bench` from the sandbox's side). Here the bucket only shapes the calls (burst: how
// many may leave back to back), and a sliding window holds the ceiling: the call after the
// last perSecond calls waits until the oldest of them is one window old.
//
// Slots are handed out in order: each Wait reserves the next free slot and sleeps until it,
// so waiters do not race each other at every expiry. A Wait cancelled while sleeping leaves
// its slot unused, which only ever lowers the rate.
type callLimiter struct {
	bucket *rate.Limiter
	window time.Duration

	mu sync.Mutex
	// slots holds the times of the last len(slots) calls, oldest at next.
	slots []time.Time
	next  int
}

// newCallLimiter returns a limiter of at most perSecond calls in any second (at least one
// call per window of 1/perSecond seconds when perSecond is below 1), of which burst may
// leave back to back.
func newCallLimiter(perSecond float64, burst int) *callLimiter {
	n := max(1, int(math.Floor(perSecond)))
	window := time.Second + windowGuard
	if perSecond < 1 {
		// One call per 1/perSecond seconds: the bucket alone spaces them so.
		window = time.Duration(float64(time.Second)/perSecond) + windowGuard
	}
	return &callLimiter{
		bucket: rate.NewLimiter(rate.Limit(perSecond), max(1, min(burst, n))),
		window: window,
		slots:  make([]time.Time, n),
	}
}

// Wait blocks until the next call may be sent, or ctx ends.
func (l *callLimiter) Wait(ctx context.Context) error {
	if err := l.bucket.Wait(ctx); err != nil {
		return err
	}
	l.mu.Lock()
	now := time.Now()
	at := now
	if oldest := l.slots[l.next]; !oldest.IsZero() && oldest.Add(l.window).After(now) {
		at = oldest.Add(l.window)
	}
	l.slots[l.next] = at
	l.next = (l.next + 1) % len(l.slots)
	l.mu.Unlock()
	if wait := time.Until(at); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
