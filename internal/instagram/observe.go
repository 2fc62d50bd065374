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

import "time"

// Endpoint names one Instagram call. The values are stable and low
// cardinality so that they can be used directly as metric labels.
type Endpoint string

// The endpoints the Client calls.
const (
	// EndpointCodeExchange is POST api.instagram.com/oauth/access_token.
	EndpointCodeExchange Endpoint = "code_exchange"
	// EndpointTokenExchange is GET graph.instagram.com/access_token.
	EndpointTokenExchange Endpoint = "token_exchange"
	// EndpointRefresh is GET graph.instagram.com/refresh_access_token.
	EndpointRefresh Endpoint = "refresh"
	// EndpointProfile is GET graph.instagram.com/<version>/me.
	EndpointProfile Endpoint = "profile"
)

// Outcome is the result of one HTTP request as reported to an Observer:
// OutcomeSuccess or the Class of the error, converted with Outcome(class).
type Outcome string

// OutcomeSuccess is the Outcome of a request whose response was decoded.
const OutcomeSuccess Outcome = "success"

// CallInfo describes one HTTP request to Instagram, for metrics and pacing.
type CallInfo struct {
	// Endpoint is the call that was made.
	Endpoint Endpoint
	// Outcome is OutcomeSuccess or the Class of the returned error.
	Outcome Outcome
	// HTTPStatus is the response status, or 0 when no response arrived
	// (network error, timeout, cancellation).
	HTTPStatus int
	// Usage is what the rate-limit headers of the response said; zero when
	// there was no response or no such header.
	Usage Usage
	// Duration is the wall time from sending the request to the end of
	// decoding the response.
	Duration time.Duration
}

// observe reports one request. It is a method so that every call site
// reports in the same shape, and so that a nil Observer costs nothing.
func (c *Client) observe(ep Endpoint, status int, usage Usage, err error, d time.Duration) {
	if c.observer == nil {
		return
	}
	out := OutcomeSuccess
	if err != nil {
		out = Outcome(ClassOf(err))
	}
	c.observer(CallInfo{Endpoint: ep, Outcome: out, HTTPStatus: status, Usage: usage, Duration: d})
}
