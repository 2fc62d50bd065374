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

// Condition types of an InstagramConnection.
const (
	// ConditionReady is True when a usable token is in the Secret. It is the condition every
	// user reads: `kubectl wait --for=condition=Ready igconn/NAME`.
	ConditionReady = "Ready"

	// ConditionDegraded is True while the last refresh or validation failed for a reason
	// worth retrying and the token is still usable. Ready stays True meanwhile.
	ConditionDegraded = "Degraded"

	// ConditionStalled is True, with Ready's reason, while the connection cannot become Ready
	// without a person (every Ready=False reason except AwaitingAuthorization, the normal first
	// state of a connection applied from Git). It follows the kstatus convention, so Flux,
	// kstatus and cli-utils report the connection as failed instead of waiting for a timeout.
	ConditionStalled = "Stalled"
)

// Reasons of the Ready condition. Events carry the same reasons.
const (
	// ReasonConnected (Ready=True): the token is valid and its refresh is scheduled.
	ReasonConnected = "Connected"

	// ReasonAwaitingAuthorization (Ready=False): there is no token yet;
	// status.authorizationURL starts the login that provides one.
	ReasonAwaitingAuthorization = "AwaitingAuthorization"

	// ReasonReauthorizationRequired (Ready=False): Instagram rejected the token (code 190 and
	// kin, or a permission was removed); a person must log in again. The operator makes no
	// further Instagram calls for this connection until then.
	ReasonReauthorizationRequired = "ReauthorizationRequired"

	// ReasonAccountActionRequired (Ready=False): Instagram reports a problem with the account
	// itself (a checkpoint or an unconfirmed user, 190/459 and 190/464) that its owner must
	// resolve on Instagram before the token works again.
	ReasonAccountActionRequired = "AccountActionRequired"

	// ReasonTokenExpired (Ready=False): the token passed expiresAt without a refresh; only a
	// new login can replace it.
	ReasonTokenExpired = "TokenExpired"

	// ReasonDeauthorized (Ready=False): the person removed the app (deauthorize callback);
	// the token was removed from the Secret.
	ReasonDeauthorized = "Deauthorized"

	// ReasonAccountMismatch (Ready=False): an authorization bound a different account than
	// spec.instagramUserID.
	ReasonAccountMismatch = "AccountMismatch"

	// ReasonSecretConflict (Ready=False): spec.secretName belongs to something else (another
	// connection or a foreign owner); the operator leaves it untouched.
	ReasonSecretConflict = "SecretConflict"

	// ReasonAppCredentialsMissing (Ready=False): neither spec.appSecretRef nor the operator
	// provides Instagram app credentials for this connection.
	ReasonAppCredentialsMissing = "AppCredentialsMissing"
)

// Reasons of the Degraded condition.
const (
	// ReasonRateLimited (Degraded=True): Instagram throttled the app or the account.
	ReasonRateLimited = "RateLimited"

	// ReasonInstagramUnavailable (Degraded=True): Instagram answered with a server error, a
	// malformed body or not at all.
	ReasonInstagramUnavailable = "InstagramUnavailable"

	// ReasonConfigurationError (Degraded=True): Instagram refused the app's configuration
	// (for example "Invalid platform app"); the token still works until it expires.
	ReasonConfigurationError = "ConfigurationError"

	// ReasonNoFailures (Degraded=False): the last call to Instagram succeeded.
	ReasonNoFailures = "NoFailures"
)

// Reasons used only on events.
const (
	// ReasonRefreshed: the token was refreshed.
	ReasonRefreshed = "Refreshed"

	// ReasonRolloutRestarted: spec.rolloutRestartTargets were restarted for a new token.
	ReasonRolloutRestarted = "RolloutRestarted"

	// ReasonRolloutTargetMissing (Warning): a workload spec.rolloutRestartTargets names does
	// not exist, so it was not restarted.
	ReasonRolloutTargetMissing = "RolloutTargetMissing"
)
