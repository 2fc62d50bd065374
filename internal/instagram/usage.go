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

package instagram

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate-limit headers. Which of them graph.instagram.com sends on the token
// endpoints and /me is not documented, so all are optional.
const (
	headerAppUsage             = "X-App-Usage"
	headerBusinessUseCaseUsage = "X-Business-Use-Case-Usage"
	headerRetryAfter           = "Retry-After"
)

// maxRetryAfter caps any wait Instagram asks for. A token manager makes a
// few calls per account per day; waiting a day and asking again is harmless,
// while a bogus header must not park a connection for years (or overflow a
// time.Duration).
const maxRetryAfter = 24 * time.Hour

// maxUsageValue caps numbers read from usage headers so that arithmetic on
// them cannot overflow.
const maxUsageValue = 1_000_000

// AppUsage is the X-App-Usage header: the app's share of its platform rate
// limit, each value a percentage (100 means throttled).
type AppUsage struct {
	// CallCount is the share of the call-count limit used.
	CallCount int
	// TotalCPUTime is the share of the CPU-time limit used.
	TotalCPUTime int
	// TotalTime is the share of the total-time limit used.
	TotalTime int
}

// BusinessUseCaseUsage is one entry of the X-Business-Use-Case-Usage header,
// which is how Instagram Platform calls are rate limited (per app and
// account). Percentages as in AppUsage.
type BusinessUseCaseUsage struct {
	// Type is the use case, "instagram" for the Instagram Platform.
	Type string
	// CallCount is the share of the call-count limit used.
	CallCount int
	// TotalCPUTime is the share of the CPU-time limit used.
	TotalCPUTime int
	// TotalTime is the share of the total-time limit used.
	TotalTime int
	// EstimatedTimeToRegainAccess is in minutes, 0 when not throttled.
	EstimatedTimeToRegainAccess int
}

// Usage is what one response's rate-limit headers said. The zero value
// means no such headers.
type Usage struct {
	// App is X-App-Usage, nil when absent or unparsable.
	App *AppUsage
	// BusinessUseCase is X-Business-Use-Case-Usage, keyed by business object
	// id; nil when absent or unparsable.
	BusinessUseCase map[string][]BusinessUseCaseUsage
	// RetryAfter is the longer of Retry-After (seconds or an HTTP date) and
	// the largest estimated_time_to_regain_access, capped at 24h; 0 when
	// neither is present.
	RetryAfter time.Duration
}

// IsZero reports whether the response carried no usable rate-limit header.
func (u Usage) IsZero() bool {
	return u.App == nil && len(u.BusinessUseCase) == 0 && u.RetryAfter == 0
}

// MaxPercent returns the highest percentage in any usage header, 0 when
// there is none. A caller that paces itself only needs to know how close
// the tightest limit is; 100 or more means throttled.
func (u Usage) MaxPercent() int {
	m := 0
	if u.App != nil {
		m = max(m, u.App.CallCount, u.App.TotalCPUTime, u.App.TotalTime)
	}
	for _, entries := range u.BusinessUseCase {
		for _, e := range entries {
			m = max(m, e.CallCount, e.TotalCPUTime, e.TotalTime)
		}
	}
	return m
}

// parseUsage reads the rate-limit headers of a response. It never fails: a
// malformed header is ignored, because pacing hints must not turn a
// successful call into an error.
func parseUsage(h http.Header, now time.Time) Usage {
	var u Usage
	if v := h.Get(headerAppUsage); v != "" {
		u.App = parseAppUsage(v)
	}
	var regain time.Duration
	if v := h.Get(headerBusinessUseCaseUsage); v != "" {
		u.BusinessUseCase = parseBUCUsage(v)
		for _, entries := range u.BusinessUseCase {
			for _, e := range entries {
				regain = max(regain, time.Duration(e.EstimatedTimeToRegainAccess)*time.Minute)
			}
		}
	}
	u.RetryAfter = min(max(parseRetryAfter(h.Get(headerRetryAfter), now), regain), maxRetryAfter)
	return u
}

func parseAppUsage(v string) *AppUsage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &m); err != nil || m == nil {
		return nil
	}
	return &AppUsage{
		CallCount:    usageNumber(m["call_count"]),
		TotalCPUTime: usageNumber(m["total_cputime"]),
		TotalTime:    usageNumber(m["total_time"]),
	}
}

func parseBUCUsage(v string) map[string][]BusinessUseCaseUsage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &m); err != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string][]BusinessUseCaseUsage, len(m))
	for id, raw := range m {
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			// Tolerate a single object where the documented shape has a list.
			var one map[string]json.RawMessage
			if err := json.Unmarshal(raw, &one); err != nil || one == nil {
				continue
			}
			items = append(items, one)
		}
		for _, it := range items {
			if it == nil {
				continue
			}
			var typ string
			_ = json.Unmarshal(it["type"], &typ)
			out[id] = append(out[id], BusinessUseCaseUsage{
				Type:                        typ,
				CallCount:                   usageNumber(it["call_count"]),
				TotalCPUTime:                usageNumber(it["total_cputime"]),
				TotalTime:                   usageNumber(it["total_time"]),
				EstimatedTimeToRegainAccess: usageNumber(it["estimated_time_to_regain_access"]),
			})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// usageNumber reads a JSON number or numeric string, rounding up (a limit at
// 99.5% is closer to 100 than to 99) and clamping to [0, maxUsageValue].
// Anything else counts as 0.
func usageNumber(raw json.RawMessage) int {
	if len(raw) == 0 {
		return 0
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0
		}
	} else {
		s = string(raw)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || f <= 0 {
		return 0
	}
	return int(math.Min(math.Ceil(f), maxUsageValue))
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). A date in the past, or an unparsable value, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if isDigits(v) {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter // only a range error is possible here
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}
