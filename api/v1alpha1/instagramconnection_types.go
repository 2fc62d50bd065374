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

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Scope is an Instagram Business Login permission. Only the instagram_business_* names are
// accepted: the business_* names were deprecated by Meta on 27 January 2025 and Instagram
// rejects them, so the API server refuses them up front and names the replacement.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=64
// +kubebuilder:validation:XValidation:rule="!self.startsWith('business_')",messageExpression="'scope ' + self + ' was deprecated by Meta on 27 January 2025; use instagram_' + self + ' instead'"
// +kubebuilder:validation:XValidation:rule="self.startsWith('business_') || self in ['instagram_business_basic', 'instagram_business_content_publish', 'instagram_business_manage_messages', 'instagram_business_manage_comments', 'instagram_business_manage_insights']",messageExpression="'unknown scope ' + self + ': use one of instagram_business_basic, instagram_business_content_publish, instagram_business_manage_messages, instagram_business_manage_comments, instagram_business_manage_insights'"
type Scope string

// The Instagram Business Login scopes.
const (
	// ScopeBasic reads the profile and media; Instagram requires it in every authorization.
	ScopeBasic Scope = "instagram_business_basic"
	// ScopeContentPublish publishes media.
	ScopeContentPublish Scope = "instagram_business_content_publish"
	// ScopeManageMessages reads and sends direct messages.
	ScopeManageMessages Scope = "instagram_business_manage_messages"
	// ScopeManageComments reads, replies to and moderates comments.
	ScopeManageComments Scope = "instagram_business_manage_comments"
	// ScopeManageInsights reads insights.
	ScopeManageInsights Scope = "instagram_business_manage_insights"
)

// SecretReference names a Secret in the same namespace as the object that refers to it.
type SecretReference struct {
	// name is the name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="name must be a valid Secret name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name"`
}

// SecretTemplate holds metadata copied onto the token Secret, for example the label that
// tells Reloader to restart the pods that mount it.
// +kubebuilder:validation:XValidation:rule="!has(self.labels) || !('app.kubernetes.io/managed-by' in self.labels || 'instagram.igconnect.dev/connection' in self.labels)",message="secretTemplate.labels must not set app.kubernetes.io/managed-by or instagram.igconnect.dev/connection: igconnect sets them"
// +kubebuilder:validation:XValidation:rule="!has(self.labels) || self.labels.all(k, !format.qualifiedName().validate(k).hasValue())",message="secretTemplate.labels keys must be valid label keys, such as example.com/team"
// +kubebuilder:validation:XValidation:rule="!has(self.labels) || self.labels.all(k, !format.labelValue().validate(self.labels[k]).hasValue())",message="secretTemplate.labels values must be valid label values: at most 63 characters, letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
// +kubebuilder:validation:XValidation:rule="!has(self.annotations) || self.annotations.all(k, !format.qualifiedName().validate(k).hasValue())",message="secretTemplate.annotations keys must be valid annotation keys, such as example.com/team"
type SecretTemplate struct {
	// labels are added to the Secret's labels.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	Labels map[string]LabelValue `json:"labels,omitempty"`

	// annotations are added to the Secret's annotations.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Its bound on length is what lets the API server afford the CEL rule on SecretTemplate that
// checks its characters: over a map of unbounded strings the rule's estimated cost exceeded
// the budget sixteen times.

// LabelValue is the value of a label on the token Secret: at most 63 characters.
// +kubebuilder:validation:MaxLength=63
type LabelValue string

// InstagramConnectionSpec is what a person or a GitOps repository declares about one
// Instagram professional account's connection. Optional fields have no schema defaults: the
// operator applies its defaults, so that a GitOps tool comparing the applied object with the
// live one sees no drift.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.instagramUserID) || (has(self.instagramUserID) && self.instagramUserID == oldSelf.instagramUserID)",message="instagramUserID is immutable once set: create a new InstagramConnection to connect another account"
type InstagramConnectionSpec struct {
	// secretName is the name of the Secret, in the connection's namespace, that holds the
	// token. The operator creates it and owns it; to import an existing token, create it first
	// with just the access_token key.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="secretName must be a valid Secret name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
	SecretName string `json:"secretName"`

	// appSecretRef names a Secret, in the connection's namespace, with the keys client-id and
	// client-secret: the Instagram App ID and secret to use for this connection. When absent
	// the operator's own app (INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET) is used.
	// +optional
	AppSecretRef *SecretReference `json:"appSecretRef,omitempty"`

	// instagramUserID pins the connection to one Instagram professional account (the /me
	// user_id). An authorization that binds a different account is refused with
	// AccountMismatch. It holds digits only and cannot change once set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]+$')",message="instagramUserID must contain digits only, e.g. 17841400000000001"
	InstagramUserID string `json:"instagramUserID,omitempty"`

	// scopes are the permissions to request when a person authorizes this connection. When
	// empty the operator requests instagram_business_basic.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=5
	// +kubebuilder:validation:XValidation:rule="self.size() == 0 || 'instagram_business_basic' in self",message="scopes must include instagram_business_basic: Instagram requires it in every authorization"
	Scopes []Scope `json:"scopes,omitempty"`

	// refreshBefore is how long before the token expires the operator refreshes it, between
	// 1h and 1416h (59 days). When absent the operator uses 480h: day 40 of a 60-day token.
	// Where it is not shorter than the token's lifetime the token is refreshed at two thirds
	// of its lifetime instead.
	// +optional
	// The length and digit bounds keep duration() from overflowing on huge values, so
	// every malformed value gets this message rather than a conversion error.
	// +kubebuilder:validation:XValidation:rule="size(self) <= 16 && self.matches('^([0-9]{1,6}(\\\\.[0-9]{1,6})?(ns|us|ms|s|m|h))+$') && duration(self) >= duration('1h') && duration(self) <= duration('1416h')",message="refreshBefore must be a duration between 1h and 1416h (59 days), for example 480h"
	RefreshBefore *metav1.Duration `json:"refreshBefore,omitempty"`

	// secretTemplate holds labels and annotations copied onto the token Secret.
	// +optional
	SecretTemplate *SecretTemplate `json:"secretTemplate,omitempty"`

	// rolloutRestartTargets are workloads in the connection's namespace that read the token
	// from the Secret and are restarted, as by kubectl rollout restart, once per new token
	// written (a refresh, a login or an import): never for a resync, an operator restart, a
	// hand edit put back or a rewrite with the same token. Rotations close together are
	// coalesced into one restart (the manager's --rollout-restart-min-interval).
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	RolloutRestartTargets []RolloutRestartTarget `json:"rolloutRestartTargets,omitempty"`
}

// RolloutRestartTarget names one workload in the connection's namespace whose pods are
// restarted when the token changes.
type RolloutRestartTarget struct {
	// kind is the workload's kind: Deployment, StatefulSet or DaemonSet (group apps).
	// +required
	// +kubebuilder:validation:Enum=Deployment;StatefulSet;DaemonSet
	Kind RolloutRestartKind `json:"kind"`

	// name is the workload's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="name must be a valid workload name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name"`
}

// RolloutRestartKind is the kind of a rollout restart target.
type RolloutRestartKind string

// The kinds of workload a connection can restart, all in group apps/v1.
const (
	RolloutRestartDeployment  RolloutRestartKind = "Deployment"
	RolloutRestartStatefulSet RolloutRestartKind = "StatefulSet"
	RolloutRestartDaemonSet   RolloutRestartKind = "DaemonSet"
)

// InstagramConnectionStatus is the operator's view of the connection: the account's
// identity and the token's lifecycle. The token itself is only ever in the Secret.
type InstagramConnectionStatus struct {
	// conditions describe the connection. Ready is True while a usable token is in the
	// Secret; Degraded is True while the last refresh or validation failed for a reason worth
	// retrying and the token is still usable.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the metadata.generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// userID is the Instagram professional account id (the /me user_id), exact: it exceeds
	// 2^53, so it is kept as a string.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	UserID string `json:"userID,omitempty"`

	// appScopedUserID is the app-scoped user id (the /me id). Deauthorize and data-deletion
	// requests may carry it instead of userID.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	AppScopedUserID string `json:"appScopedUserID,omitempty"`

	// username is the Instagram username.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Username string `json:"username,omitempty"`

	// accountType is the account type Instagram reports, e.g. BUSINESS or MEDIA_CREATOR.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	AccountType string `json:"accountType,omitempty"`

	// grantedScopes are the permissions the person granted.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	GrantedScopes []string `json:"grantedScopes,omitempty"`

	// tokenIssuedAt is when the current token was issued or last refreshed. Instagram refuses
	// a refresh until the token is 24 hours old.
	// +optional
	TokenIssuedAt *metav1.Time `json:"tokenIssuedAt,omitempty"`

	// expiresAt is when the current token expires. For an imported token whose expiry is not
	// yet known it is the earliest the token could expire, and the Ready message says so.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// nextRefreshTime is when the operator will next refresh the token.
	// +optional
	NextRefreshTime *metav1.Time `json:"nextRefreshTime,omitempty"`

	// lastRefreshTime is when the token was last refreshed successfully.
	// +optional
	LastRefreshTime *metav1.Time `json:"lastRefreshTime,omitempty"`

	// failedRefreshAttempts counts refresh or validation attempts that failed in a row for a
	// reason worth retrying; it sets the back-off and returns to 0 on success.
	// +optional
	// +kubebuilder:validation:Minimum=0
	FailedRefreshAttempts int32 `json:"failedRefreshAttempts,omitempty"`

	// lastHandledRefreshRequest is the value of the instagram.igconnect.dev/refresh-requested-at
	// annotation the operator last acted on.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	LastHandledRefreshRequest string `json:"lastHandledRefreshRequest,omitempty"`

	// lastValidatedTime is when the token was last proven to work: a validation call, the
	// /me of its import, or a refresh. The next validation is due --validate-interval later.
	// +optional
	LastValidatedTime *metav1.Time `json:"lastValidatedTime,omitempty"`

	// lastHandledRejectionReport is the value of the instagram.igconnect.dev/token-rejected-at
	// annotation the operator last acted on with a validation.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	LastHandledRejectionReport string `json:"lastHandledRejectionReport,omitempty"`

	// lastRolloutRestartTime is when the operator last restarted spec.rolloutRestartTargets
	// for a new token.
	// +optional
	LastRolloutRestartTime *metav1.Time `json:"lastRolloutRestartTime,omitempty"`

	// rolloutRestartedFor is the fingerprint (the Secret's token-fingerprint annotation, a
	// truncated SHA-256, not the token) of the token spec.rolloutRestartTargets were last
	// restarted for, or adopted without a restart. A restart is owed while the Secret holds
	// another token.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	RolloutRestartedFor string `json:"rolloutRestartedFor,omitempty"`

	// authorizationURL is where a person starts the login that authorizes this connection. It
	// carries a ticket bound to this object; it is set while the connection needs a person.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	AuthorizationURL string `json:"authorizationURL,omitempty"`
}

// InstagramConnection is one Instagram professional account connected through Instagram
// Business Login. (Expires and Next Refresh print as timestamps: kubectl renders a date column
// as an age, which it cannot do for a time in the future.) Its long-lived access token lives in the Secret named by spec.secretName;
// the operator refreshes it before it expires.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=igconn,categories=instagram
// +kubebuilder:printcolumn:name="Account",type=string,JSONPath=`.status.username`
// +kubebuilder:printcolumn:name="User ID",type=string,JSONPath=`.status.userID`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Next Refresh",type=string,JSONPath=`.status.nextRefreshTime`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type InstagramConnection struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the desired connection.
	// +required
	Spec InstagramConnectionSpec `json:"spec"`

	// status is the observed state of the connection, written only by the operator.
	// +optional
	Status InstagramConnectionStatus `json:"status,omitzero"`
}

// InstagramConnectionList is a list of InstagramConnection.
// +kubebuilder:object:root=true
type InstagramConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitzero"`
	// items are the connections.
	Items []InstagramConnection `json:"items"`
}
