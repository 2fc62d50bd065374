package login

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
)

func TestErrorMapping(t *testing.T) {
	igErr := func(class instagram.Class, code, status int) error {
		return &instagram.Error{Class: class, Code: code, HTTPStatus: status, Endpoint: instagram.EndpointRefresh}
	}
	cases := []struct {
		name         string
		err          error
		wantRejected string // "" when the failure is worth retrying
		wantDegraded string
	}{
		{"expired token (190)", igErr(instagram.ClassReauthorize, 190, 400), igv1.ReasonReauthorizationRequired, ""},
		{"permission removed (10)", igErr(instagram.ClassReauthorize, 10, 400), igv1.ReasonReauthorizationRequired, ""},
		{"checkpointed account (190/459)", igErr(instagram.ClassAccount, 190, 400), igv1.ReasonAccountActionRequired, ""},
		{"app throttled (4)", igErr(instagram.ClassRetryLater, 4, 400), "", igv1.ReasonRateLimited},
		{"user throttled (17)", igErr(instagram.ClassRetryLater, 17, 400), "", igv1.ReasonRateLimited},
		{"custom rate limit (613)", igErr(instagram.ClassRetryLater, 613, 400), "", igv1.ReasonRateLimited},
		{"business use case throttle (80002)", igErr(instagram.ClassRetryLater, 80002, 400), "", igv1.ReasonRateLimited},
		{"HTTP 429 without a code", igErr(instagram.ClassRetryLater, 0, http.StatusTooManyRequests), "", igv1.ReasonRateLimited},
		{"service error (2)", igErr(instagram.ClassRetryLater, 2, 500), "", igv1.ReasonInstagramUnavailable},
		{"5xx without a body", igErr(instagram.ClassRetryLater, 0, 503), "", igv1.ReasonInstagramUnavailable},
		{"invalid platform app", igErr(instagram.ClassConfiguration, 0, 400), "", igv1.ReasonConfigurationError},
		{"wrapped throttle", fmt.Errorf("refresh: %w", igErr(instagram.ClassRetryLater, 4, 400)), "", igv1.ReasonRateLimited},
		{"not an Instagram error", errors.New("connection reset"), "", igv1.ReasonInstagramUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := (&Instagram{}).Classify(tc.err)
			if f.Rejected != tc.wantRejected {
				t.Errorf("Classify(...).Rejected = %q, want %q", f.Rejected, tc.wantRejected)
			}
			if f.Degraded != tc.wantDegraded {
				t.Errorf("Classify(...).Degraded = %q, want %q", f.Degraded, tc.wantDegraded)
			}
		})
	}
}
