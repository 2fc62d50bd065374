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
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func TestExpiryPhrase(t *testing.T) {
	day := 24 * time.Hour
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	cases := []struct {
		name      string
		expiresAt *time.Time
		hasToken  bool
		want      string
	}{
		{"39 days and some hours ahead", at(39*day + 7*time.Hour), true, "expires in 39 days"},
		{"a fresh 60-day token, seconds later", at(60*day - 3*time.Second), true, "expires in 59 days"},
		{"exactly two days", at(2 * day), true, "expires in 2 days"},
		{"36 hours stay hours", at(36 * time.Hour), true, "expires in 36 hours"},
		{"90 minutes stay minutes", at(90 * time.Minute), true, "expires in 90 minutes"},
		{"one minute", at(time.Minute), true, "expires in 60 seconds"},
		{"expired 2 days ago", at(-2*day - time.Hour), true, "expired 2 days ago"},
		{"expired 1 second ago", at(-time.Second), true, "expired 1 second ago"},
		{"a token without expiry", nil, true, "never"},
		{"no token yet", nil, false, "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExpiryPhrase(t0, tc.expiresAt, tc.hasToken); got != tc.want {
				t.Errorf("ExpiryPhrase = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRelative(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{20 * 24 * time.Hour, "in 20 days"},
		{-3 * time.Hour, "3 hours ago"},
		{500 * time.Millisecond, "now"},
		{-500 * time.Millisecond, "now"},
		{24 * time.Hour, "in 24 hours"},
		{47*time.Hour + 59*time.Minute, "in 47 hours"},
		{48 * time.Hour, "in 2 days"},
	}
	for _, tc := range cases {
		if got := Relative(t0, t0.Add(tc.d)); got != tc.want {
			t.Errorf("Relative(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
