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

// Package instagram is igconnect's HTTP client for the Instagram Platform
// ("Instagram API with Instagram Login"): the authorize URL, the code
// exchange, the long-lived exchange, the refresh and the /me profile.
//
// The package exists to absorb Instagram's quirks in one place so that the
// reconciler and the callback server can treat Instagram as a well-behaved
// API:
//
//   - responses are decoded tolerantly: flat or data[0]-wrapped bodies,
//     permissions as an array or a comma-separated string, ids as JSON
//     numbers (kept exact beyond 2^53) or strings, expires_in as a number or
//     a numeric string;
//   - both error envelopes (the legacy flat one of api.instagram.com and the
//     Graph one of graph.instagram.com) are parsed, and every failure becomes
//     an *Error with one of four Classes that tell the caller what to do
//     next: ask a person to log in again, ask a person to fix their account,
//     fix the configuration, or retry later;
//   - rate-limit headers are parsed into Usage, attached to errors and
//     reported to an optional Observer, so callers can pace themselves;
//   - no error string ever carries an access token, an authorization code
//     or the app secret, because errors end up in logs, events and status.
//
// A Client is safe for concurrent use.
package instagram
