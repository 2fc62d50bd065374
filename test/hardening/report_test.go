package hardening

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// report gathers the suite's figures as the scenarios run; TestMain prints them.
var report = &figures{faults: map[string]int{}, badInputs: map[string]int{}}

// figures are the suite's counts. Every method is safe for concurrent use.
type figures struct {
	mu sync.Mutex
	// faults counts injected faults by kind; faultedCalls the Instagram calls they spoiled.
	faults       map[string]int
	faultedCalls int
	// scenarios are the scenarios run, in order of completion.
	scenarios []scenarioResult
	// badInputs counts hostile inputs by family.
	badInputs map[string]int
	// tokensLost counts connections whose token was gone or unusable after a scenario
	// when it should not have been.
	tokensLost int
	// connectionChecks counts connection consistency checks that passed after a fault.
	connectionChecks int
	// refreshes: scheduled refreshes stored, refreshes redone because a kill or outage
	// lost the first result, refreshes of a token that was not yet due.
	refreshesStored, refreshesRedone, refreshesNeedless int
	// leak scan: texts and bytes scanned, distinct secret values looked for, findings.
	leakTexts, leakBytes, leakValues, leakFindings int
	// canaryCaught is true once the scan found a deliberately planted secret.
	canaryCaught bool
}

// scenarioResult is one scenario's outcome.
type scenarioResult struct {
	name     string
	passed   bool
	duration time.Duration
}

// fault records one injected fault of kind.
func (f *figures) fault(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[kind]++
}

// spoiled records n Instagram calls answered with an injected fault.
func (f *figures) spoiled(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faultedCalls += n
}

// badInput records n hostile inputs of a family.
func (f *figures) badInput(family string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.badInputs[family] += n
}

// lost records n lost tokens.
func (f *figures) lost(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokensLost += n
}

// checked records n passed connection checks.
func (f *figures) checked(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connectionChecks += n
}

// refreshed records a refresh accounting.
func (f *figures) refreshed(stored, redone, needless int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshesStored += stored
	f.refreshesRedone += redone
	f.refreshesNeedless += needless
}

// scenario runs fn as subtest name of t and records whether it passed.
func scenario(t *testing.T, name string, fn func(t *testing.T)) bool {
	start := time.Now()
	ok := t.Run(name, fn)
	report.mu.Lock()
	report.scenarios = append(report.scenarios, scenarioResult{name: t.Name() + "/" + name, passed: ok,
		duration: time.Since(start)})
	report.mu.Unlock()
	return ok
}

// summary renders the figures.
func (f *figures) summary(elapsed time.Duration) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	passed := 0
	for _, s := range f.scenarios {
		if s.passed {
			passed++
		}
	}
	total := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	fmt.Fprintf(&b, "\n===== igconnect hardening summary (%s, long=%v) =====\n", elapsed.Round(time.Second), long)
	fmt.Fprintf(&b, "faults injected:        %d (%s)\n", total(f.faults), kv(f.faults))
	fmt.Fprintf(&b, "instagram calls spoiled: %d\n", f.faultedCalls)
	fmt.Fprintf(&b, "scenarios survived:     %d of %d\n", passed, len(f.scenarios))
	for _, s := range f.scenarios {
		mark := "ok  "
		if !s.passed {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %-70s %s\n", mark, s.name, s.duration.Round(100*time.Millisecond))
	}
	fmt.Fprintf(&b, "bad inputs tried:       %d (%s)\n", total(f.badInputs), kv(f.badInputs))
	fmt.Fprintf(&b, "connection checks:      %d passed after faults\n", f.connectionChecks)
	fmt.Fprintf(&b, "refreshes:              %d stored, %d redone after a lost result, %d needless\n",
		f.refreshesStored, f.refreshesRedone, f.refreshesNeedless)
	fmt.Fprintf(&b, "leak scan:              %d findings in %d texts (%d KiB) for %d secret values; planted canary caught: %v\n",
		f.leakFindings, f.leakTexts, f.leakBytes>>10, f.leakValues, f.canaryCaught)
	fmt.Fprintf(&b, "tokens lost:            %d\n", f.tokensLost)
	return b.String()
}

// kv renders a map as "a=1, b=2" in key order.
func kv(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
