package observability

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	quoted     = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	matchers   = regexp.MustCompile(`\{[^}]*\}`)
	ranges     = regexp.MustCompile(`\[[^\]]*\]`)
	groupings  = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	words      = regexp.MustCompile(`[A-Za-z0-9_:.]+(\s*\()?`)
	notMetrics = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
		"group_left", "group_right", "inf", "nan", "atan2", "start", "end"}
)

// metricNames returns the metric names a PromQL expression selects. promtool has parsed the
// expression already (the tests run it first), so this only has to find the selectors:
// strings, label matchers, ranges and grouping labels are removed, and of the words left,
// those that are not functions (followed by a parenthesis), keywords or numbers are metric
// names. It over-reports rather than misses, which is the safe side for a test that checks
// every name is exported.
func metricNames(expr string) []string {
	s := quoted.ReplaceAllString(expr, `""`)
	s = matchers.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = groupings.ReplaceAllString(s, " ")
	var names []string
	for _, m := range words.FindAllStringSubmatch(s, -1) {
		w := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[0]), "("))
		switch {
		case m[1] != "": // a function or an aggregation
		case w == "" || (w[0] >= '0' && w[0] <= '9') || w[0] == '.':
		case slices.Contains(notMetrics, strings.ToLower(w)):
		default:
			if !slices.Contains(names, w) {
				names = append(names, w)
			}
		}
	}
	return names
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`igconnect_build_info`, []string{"igconnect_build_info"}},
		{`absent(igconnect_build_info)`, []string{"igconnect_build_info"}},
		{`max by (namespace, name) (igconnect_token_expiry_timestamp_seconds{namespace=~"a|b"}) - time() < 7 * 24 * 3600`,
			[]string{"igconnect_token_expiry_timestamp_seconds"}},
		{`histogram_quantile(0.95, sum by (endpoint, le) (rate(igconnect_instagram_call_duration_seconds_bucket[5m])))`,
			[]string{"igconnect_instagram_call_duration_seconds_bucket"}},
		{`sum(rate(a_total[5m] offset 1h)) by (result) / on(result) group_left sum(b_total) or vector(0)`,
			[]string{"a_total", "b_total"}},
		{`count(x{reason="by (y) z_total"}) > bool 1e3`, []string{"x"}},
		// A misspelt metric is still found, which is the point.
		{`sum(increase(igconect_refresh_total[1h]))`, []string{"igconect_refresh_total"}},
		{`{__name__="igconnect_build_info"}`, nil},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// checkExported fails for every metric expr names that the manager does not register.
func checkExported(t *testing.T, where, expr string, exported []string) {
	t.Helper()
	names := metricNames(expr)
	if len(names) == 0 {
		t.Errorf("%s: no metric found in %q", where, expr)
	}
	for _, n := range names {
		if !slices.Contains(exported, n) {
			t.Errorf("%s: %q names %s, which the manager does not export (it exports %v)", where, expr, n, exported)
		}
	}
}
