package instagram

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestParseUsage(t *testing.T) {
	now := time.Date(2026, 8, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		headers map[string]string
		want    Usage
		wantMax int
	}{
		{name: "none", want: Usage{}},
		{
			name:    "app usage",
			headers: map[string]string{"X-App-Usage": `{"call_count":28,"total_cputime":25,"total_time":25}`},
			want:    Usage{App: &AppUsage{CallCount: 28, TotalCPUTime: 25, TotalTime: 25}},
			wantMax: 28,
		},
		{
			name:    "business use case usage, rate-limiting page shape",
			headers: map[string]string{"X-Business-Use-Case-Usage": `{"17841400000000001":[{"type":"instagram","call_count":28,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":0}]}`},
			want: Usage{BusinessUseCase: map[string][]BusinessUseCaseUsage{
				"17841400000000001": {{Type: "instagram", CallCount: 28, TotalCPUTime: 25, TotalTime: 25}},
			}},
			wantMax: 28,
		},
		{
			name: "throttled: the largest regain time wins",
			headers: map[string]string{"X-Business-Use-Case-Usage": `{"1":[{"type":"instagram","call_count":100,
				"total_cputime":12,"total_time":40,"estimated_time_to_regain_access":7}],
				"2":[{"type":"instagram","call_count":"99.2","estimated_time_to_regain_access":"12"},{"type":"pages","call_count":3}]}`},
			want: Usage{
				BusinessUseCase: map[string][]BusinessUseCaseUsage{
					"1": {{Type: "instagram", CallCount: 100, TotalCPUTime: 12, TotalTime: 40, EstimatedTimeToRegainAccess: 7}},
					"2": {{Type: "instagram", CallCount: 100, EstimatedTimeToRegainAccess: 12}, {Type: "pages", CallCount: 3}},
				},
				RetryAfter: 12 * time.Minute,
			},
			wantMax: 100,
		},
		{
			name:    "BUC entry as an object instead of a list",
			headers: map[string]string{"X-Business-Use-Case-Usage": `{"1":{"type":"instagram","call_count":5}}`},
			want:    Usage{BusinessUseCase: map[string][]BusinessUseCaseUsage{"1": {{Type: "instagram", CallCount: 5}}}},
			wantMax: 5,
		},
		{
			name:    "Retry-After seconds",
			headers: map[string]string{"Retry-After": "120"},
			want:    Usage{RetryAfter: 2 * time.Minute},
		},
		{
			name:    "Retry-After HTTP date",
			headers: map[string]string{"Retry-After": "Thu, 20 Aug 2026 12:05:00 GMT"},
			want:    Usage{RetryAfter: 5 * time.Minute},
		},
		{
			name:    "Retry-After date in the past",
			headers: map[string]string{"Retry-After": "Thu, 20 Aug 2026 11:00:00 GMT"},
			want:    Usage{},
		},
		{
			name:    "Retry-After longer than BUC wins",
			headers: map[string]string{"Retry-After": "900", "X-Business-Use-Case-Usage": `{"1":[{"estimated_time_to_regain_access":2}]}`},
			want:    Usage{BusinessUseCase: map[string][]BusinessUseCaseUsage{"1": {{EstimatedTimeToRegainAccess: 2}}}, RetryAfter: 15 * time.Minute},
		},
		{
			name:    "huge Retry-After is capped",
			headers: map[string]string{"Retry-After": "999999999999999999999999"},
			want:    Usage{RetryAfter: maxRetryAfter},
		},
		{
			name:    "huge regain time is capped",
			headers: map[string]string{"X-Business-Use-Case-Usage": `{"1":[{"estimated_time_to_regain_access":1e300}]}`},
			want:    Usage{BusinessUseCase: map[string][]BusinessUseCaseUsage{"1": {{EstimatedTimeToRegainAccess: maxUsageValue}}}, RetryAfter: maxRetryAfter},
		},
		{
			name:    "garbage headers are ignored",
			headers: map[string]string{"X-App-Usage": `{"call_count":`, "X-Business-Use-Case-Usage": `[1,2]`, "Retry-After": "soon"},
			want:    Usage{},
		},
		{
			name:    "negative and odd numbers count as zero",
			headers: map[string]string{"X-App-Usage": `{"call_count":-5,"total_cputime":"x","total_time":null}`},
			want:    Usage{App: &AppUsage{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			got := parseUsage(h, now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			if m := got.MaxPercent(); m != tt.wantMax {
				t.Fatalf("MaxPercent = %d, want %d", m, tt.wantMax)
			}
			if got.IsZero() != reflect.DeepEqual(tt.want, Usage{}) {
				t.Fatalf("IsZero = %v", got.IsZero())
			}
		})
	}
}
