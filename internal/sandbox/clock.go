package sandbox

import (
	"fmt"
	"time"
)

// Now returns the sandbox's current time: its clock plus the offset
// AdvanceClock has accumulated. Every lifetime check uses it.
func (s *Sandbox) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

// nowLocked is Now for callers that hold mu.
func (s *Sandbox) nowLocked() time.Time {
	return s.clock.Now().Add(s.offset)
}

// AdvanceClock moves the sandbox's time forward by d on top of its clock and
// returns the new time. It exists for a sandbox running as a separate process
// on the real clock, where a test cannot inject a fake one (POST
// /sandbox/clock). In-process tests should step a FakeClock instead. A
// negative d is rejected: time that runs backwards would let expired tokens
// come back to life, which Instagram never does.
func (s *Sandbox) AdvanceClock(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("cannot move the clock backwards (%s)", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
	return s.nowLocked(), nil
}

// ClockOffset returns the total AdvanceClock has added.
func (s *Sandbox) ClockOffset() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset
}
