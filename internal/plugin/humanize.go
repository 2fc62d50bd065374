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

package plugin

import (
	"fmt"
	"time"
)

// HumanDuration says a positive duration the way a person would, in its largest whole unit:
// "45 seconds", "12 minutes", "5 hours", "39 days". Below two of a unit the next smaller one
// is used ("90 minutes", "36 hours"), so that "1 day" never stands for 47 hours.
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < 2*time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < 2*time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	default:
		return plural(int64(d/(24*time.Hour)), "day")
	}
}

func plural(n int64, unit string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Relative says when t is as seen from now: "in 20 days", "3 hours ago", or "now" within a
// second.
func Relative(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -time.Second && d < time.Second:
		return "now"
	case d > 0:
		return "in " + HumanDuration(d)
	default:
		return HumanDuration(d) + " ago"
	}
}

// ExpiryPhrase describes a token's expiry: "expires in 39 days", "expired 2 days ago", or
// "never" for a token that has no expiry. hasToken false (no token yet) gives "-".
func ExpiryPhrase(now time.Time, expiresAt *time.Time, hasToken bool) string {
	switch {
	case expiresAt == nil && hasToken:
		return "never"
	case expiresAt == nil:
		return "-"
	case expiresAt.After(now):
		return "expires " + Relative(now, *expiresAt)
	default:
		return "expired " + Relative(now, *expiresAt)
	}
}
