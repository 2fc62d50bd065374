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

package v1alpha1

import "time"

// The token Secret's format: its keys, which apps mount and read as files (CONTRACT §2),
// and the annotations beside them that let the operator recover everything it needs about
// the token from the Secret alone. They never hold the token itself. This block is the one
// definition of these names; internal/tokensecret writes and reads them.
const (
	// SecretKeyAccessToken holds the long-lived access token.
	SecretKeyAccessToken = "access_token"
	// SecretKeyTokenType holds "bearer".
	SecretKeyTokenType = "token_type"
	// SecretKeyExpiresAt holds the token's expiry, RFC 3339 in UTC.
	SecretKeyExpiresAt = "expires_at"
	// SecretKeyUserID holds the Instagram professional account id.
	SecretKeyUserID = "user_id"
	// SecretKeyUsername holds the Instagram username.
	SecretKeyUsername = "username"

	// AnnotationTokenIssuedAt records when the token was issued or last refreshed (RFC 3339,
	// UTC). It is written together with the token, so the Secret alone tells the operator
	// everything it needs after a crash.
	AnnotationTokenIssuedAt = "instagram.igconnect.dev/token-issued-at"
	// AnnotationGrantedScopes records the scopes granted with the token, comma-separated.
	AnnotationGrantedScopes = "instagram.igconnect.dev/granted-scopes"
	// AnnotationTokenFingerprint is a truncated SHA-256 of the token the operator last
	// wrote. A token that does not match it was put in the Secret by a person and is
	// imported.
	AnnotationTokenFingerprint = "instagram.igconnect.dev/token-fingerprint"
	// AnnotationExpiryEstimated is "true" while expires_at is the earliest the token could
	// expire rather than its known expiry (an imported token before its first refresh).
	AnnotationExpiryEstimated = "instagram.igconnect.dev/expiry-estimated"
	// AnnotationTokenRejected holds the Ready reason with which Instagram, or the person
	// through the deauthorize callback, rejected the token. While it is set the operator
	// makes no Instagram call for the token; writing a new token clears it.
	AnnotationTokenRejected = "instagram.igconnect.dev/token-rejected"
	// AnnotationTokenRejectedMessage holds, beside AnnotationTokenRejected, the Ready message
	// of the rejection: the provider's own words ("...: the user changed their password"),
	// which later reconciles keep in Ready. Never a token or secret.
	AnnotationTokenRejectedMessage = "instagram.igconnect.dev/token-rejected-message"
	// AnnotationAccountType holds the account type /me reported.
	AnnotationAccountType = "instagram.igconnect.dev/account-type"
	// AnnotationAppScopedUserID holds the app-scoped user id /me reported.
	AnnotationAppScopedUserID = "instagram.igconnect.dev/app-scoped-user-id"
)

// Keys of the app credentials Secret named by spec.appSecretRef.
const (
	// AppSecretKeyClientID holds the Instagram App ID.
	AppSecretKeyClientID = "client-id"
	// AppSecretKeyClientSecret holds the Instagram App secret.
	AppSecretKeyClientSecret = "client-secret"
)

// Labels and annotations.
const (
	// LabelManagedBy marks the Secrets the operator manages; its value is ManagedByValue.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy on the operator's Secrets.
	ManagedByValue = "igconnect"
	// LabelConnection names, on a token Secret, the connection it belongs to.
	LabelConnection = "instagram.igconnect.dev/connection"

	// AnnotationRefreshRequestedAt, set on a connection to any new value, asks for a refresh
	// now (still never before the token's minimum refresh age).
	AnnotationRefreshRequestedAt = "instagram.igconnect.dev/refresh-requested-at"
	// AnnotationTokenRejectedAt, set on a connection to any new value by an app whose calls
	// Instagram rejects (or by a person), reports that the token may be dead: the operator
	// validates it at once, but at most once every 5 minutes per connection, so a
	// broken app cannot make it hammer Instagram.
	AnnotationTokenRejectedAt = "instagram.igconnect.dev/token-rejected-at"
)

// Defaults the operator applies to optional fields. They are not schema defaults, so that a
// GitOps tool sees no drift between what it applied and what the API server holds.
const (
	// DefaultRefreshBefore is the default spec.refreshBefore: refresh on day 40 of 60.
	DefaultRefreshBefore = 480 * time.Hour
	// MinRefreshBefore and MaxRefreshBefore bound spec.refreshBefore.
	MinRefreshBefore = time.Hour
	// MaxRefreshBefore is the largest spec.refreshBefore: 59 days.
	MaxRefreshBefore = 1416 * time.Hour
)

// RefreshBeforeOrDefault returns spec.refreshBefore, or DefaultRefreshBefore when unset.
func (s *InstagramConnectionSpec) RefreshBeforeOrDefault() time.Duration {
	if s.RefreshBefore == nil {
		return DefaultRefreshBefore
	}
	return s.RefreshBefore.Duration
}

// ScopesOrDefault returns spec.scopes as strings, or instagram_business_basic when unset.
func (s *InstagramConnectionSpec) ScopesOrDefault() []string {
	if len(s.Scopes) == 0 {
		return []string{string(ScopeBasic)}
	}
	out := make([]string, len(s.Scopes))
	for i, sc := range s.Scopes {
		out[i] = string(sc)
	}
	return out
}
