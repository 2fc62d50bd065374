package callback

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/signedrequest"
)

// Failure codes: the "code" of a JSON error, the result label of igconnect_logins_total and
// the code in the log. They are a fixed set, so metrics stay bounded.
const (
	codeAccessDenied          = "access_denied"
	codeAuthorizationFailed   = "authorization_failed"
	codeMissingParameter      = "missing_parameter"
	codeInvalidParameter      = "invalid_parameter"
	codeQueryTooLong          = "query_too_long"
	codeBodyTooLarge          = "body_too_large"
	codeUnsupportedMediaType  = "unsupported_media_type"
	codeInvalidJSON           = "invalid_json"
	codeInvalidState          = "invalid_state"
	codeForgedState           = "forged_state"
	codeExpiredState          = "expired_state"
	codeWrongBrowser          = "wrong_browser"
	codeReplayedState         = "replayed_state"
	codeWrongFlow             = "wrong_flow"
	codeInvalidTicket         = "invalid_ticket"
	codeConnectionNotFound    = "connection_not_found"
	codeConnectionReplaced    = "connection_replaced"
	codeCodeRejected          = "code_rejected"
	codeInstagramConfig       = "instagram_configuration"
	codeInstagramUnavailable  = "instagram_unavailable"
	codeAccountAction         = "account_action_required"
	codeUnusableProfile       = "unusable_profile"
	codeAccountMismatch       = "account_mismatch"
	codeSecretConflict        = "secret_conflict"
	codeAppCredentialsMissing = "app_credentials_missing"
	codeKubernetes            = "kubernetes_unavailable"
	codeStarting              = "starting"
	codeMethodNotAllowed      = "method_not_allowed"
	codeNotFound              = "not_found"
	codeInvalidSignedRequest  = "invalid_signed_request"
	codeBadSignature          = "bad_signature"
	codeNoAppSecret           = "no_app_secret"
	codeUnknownConfirmation   = "unknown_confirmation_code"
)

// defaultRetryAfter is what a 503 asks for when Instagram named no wait.
const defaultRetryAfter = 30 * time.Second

// startAgain is the advice for every failure a fresh login fixes.
const startAgain = "Start the login again from the link you were given (the connection's status.authorizationURL, " +
	"or " + StartPath + " on this server)."

// failure is a request that could not be served. Its texts are fixed or built from values
// that are safe to show (names, ids, Instagram's secret-free messages), never from the
// query, the body, a token or a secret. cause is logged and never shown.
type failure struct {
	status     int
	code       string
	title      string
	message    string
	next       string
	retryAfter time.Duration
	allow      string
	cause      error
}

// Error makes a failure usable as an error in logs.
func (f *failure) Error() string { return f.code + ": " + f.message }

// fail builds a failure.
func fail(status int, code, title, message, next string) *failure {
	return &failure{status: status, code: code, title: title, message: message, next: next}
}

// withCause records the error behind a failure for the log.
func (f *failure) withCause(err error) *failure {
	f.cause = err
	return f
}

func errMissingParameter(name string) *failure {
	return fail(http.StatusBadRequest, codeMissingParameter, "Incomplete request",
		fmt.Sprintf("The request has no %s parameter. This address is meant to be reached from Instagram's login "+
			"dialog, which adds it. Nothing was changed.", name), startAgain)
}

func errInvalidParameter(message string) *failure {
	return fail(http.StatusBadRequest, codeInvalidParameter, "Malformed request",
		message+" Nothing was changed.", startAgain)
}

func errQueryTooLong() *failure {
	return fail(http.StatusRequestURITooLong, codeQueryTooLong, "Request too long",
		fmt.Sprintf("The address's query is longer than the %d bytes this server accepts. Nothing was changed.",
			maxQueryBytes), startAgain)
}

func errBodyTooLarge() *failure {
	return fail(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "Request too large",
		fmt.Sprintf("The request body is larger than the %d bytes this server accepts. Nothing was changed.",
			maxBodyBytes), "Send only the fields the endpoint documents.")
}

func errMethodNotAllowed(allow string) *failure {
	f := fail(http.StatusMethodNotAllowed, codeMethodNotAllowed, "Method not allowed",
		"This address does not accept that HTTP method. Nothing was changed.", "Use "+allow+".")
	f.allow = allow
	return f
}

func errNotFound() *failure {
	return fail(http.StatusNotFound, codeNotFound, "Page not found",
		"igconnect's callback server has no page at this address.",
		"Logins start at "+StartPath+"; the link to use is in the connection's status.authorizationURL.")
}

// errDenied answers Instagram's redirect with error=…: the person chose Deny, or Instagram
// refused the request. The error_description is not shown: it is whatever the query says,
// and a page must not repeat text an attacker chose.
func errDenied(reason string) *failure {
	if reason == "access_denied" {
		return fail(http.StatusBadRequest, codeAccessDenied, "Login cancelled",
			"You declined the request to connect your Instagram account, so nothing was connected and nothing was changed.",
			"To connect the account, start the login again and choose Allow. "+startAgain)
	}
	return fail(http.StatusBadRequest, codeAuthorizationFailed, "Instagram did not complete the login",
		"Instagram sent back an error instead of an authorization code. Nothing was changed.",
		startAgain+" If it keeps failing, the operator's Instagram app settings in the Meta App Dashboard need checking.")
}

// stateFailure explains why a state was refused.
func stateFailure(err error) *failure {
	var f *failure
	switch {
	case errors.Is(err, oauthstate.ErrReplayed):
		f = fail(http.StatusConflict, codeReplayedState, "This login was already used",
			"This login link has already been used once; a login can be completed only once. Nothing was changed.",
			"If the first attempt succeeded, the account is connected: check with kubectl get igconn. Otherwise: "+startAgain)
	case errors.Is(err, oauthstate.ErrExpired):
		f = fail(http.StatusBadRequest, codeExpiredState, "This login has expired",
			"The login took longer than this server allows between starting it and coming back from Instagram "+
				"(or the clocks of the server's replicas disagree). Nothing was changed.", startAgain)
	case errors.Is(err, oauthstate.ErrWrongBrowser):
		f = fail(http.StatusForbidden, codeWrongBrowser, "Login started in another browser",
			"This login was started in a different browser (or its cookies were cleared), so it cannot be finished "+
				"here. This protects against someone else's login being completed in your browser. Nothing was changed.",
			"Finish the login in the browser where you started it, or start again here. "+startAgain)
	case errors.Is(err, oauthstate.ErrForged):
		f = fail(http.StatusForbidden, codeForgedState, "This login was not issued by this server",
			"The login's state parameter does not carry this server's signature: it was altered, or issued by "+
				"another igconnect installation. Nothing was changed.", startAgain)
	default:
		f = fail(http.StatusBadRequest, codeInvalidState, "This login link is not valid",
			"The login's state parameter is malformed. Nothing was changed.", startAgain)
	}
	return f.withCause(err)
}

// errWrongFlow refuses a state minted for the other flow: a page login's state at the JSON
// exchange or the reverse.
func errWrongFlow(want string) *failure {
	return fail(http.StatusBadRequest, codeWrongFlow, "This login was started for another flow",
		fmt.Sprintf("This state was issued for a login that finishes elsewhere; this endpoint completes %q logins. "+
			"Nothing was changed.", want),
		"Start the login with "+StartPath+"?flow=json for a front end that posts to "+ExchangePath+
			", or without flow for the server's own callback page.")
}

// ticketFailure explains why a ticket was refused.
func ticketFailure(err error) *failure {
	return fail(http.StatusBadRequest, codeInvalidTicket, "This authorization link is not valid",
		"The link's ticket is malformed or was not issued by this server. Nothing was changed.",
		"Copy the link again from the connection: kubectl get igconn NAME -n NAMESPACE -o jsonpath='{.status.authorizationURL}'").
		withCause(err)
}

func errConnectionNotFound(ns, name string) *failure {
	return fail(http.StatusNotFound, codeConnectionNotFound, "Connection not found",
		fmt.Sprintf("The InstagramConnection %s/%s this link was made for no longer exists. Nothing was changed.", ns, name),
		"Create the connection again and use the link in its status.authorizationURL.")
}

func errNamespaceNotWatched(ns, name string) *failure {
	return fail(http.StatusNotFound, codeConnectionNotFound, "Connection not managed here",
		fmt.Sprintf("The InstagramConnection %s/%s this link was made for is in a namespace this operator does not "+
			"manage (it watches only the namespaces of --watch-namespaces). Nothing was changed.", ns, name),
		"Ask the administrator which operator manages that namespace, and use the link in the connection's "+
			"status.authorizationURL.")
}

func errConnectionReplaced(ns, name string) *failure {
	return fail(http.StatusGone, codeConnectionReplaced, "This link belongs to a deleted connection",
		fmt.Sprintf("The InstagramConnection %s/%s this link was made for was deleted (it may have been created again "+
			"under the same name; a link is bound to one object). Nothing was changed.", ns, name),
		fmt.Sprintf("Use the current link: kubectl get igconn %s -n %s -o jsonpath='{.status.authorizationURL}'", name, ns))
}

// loginFailure explains a failed call of the login by what the login says it means.
func (s *server) loginFailure(err error) *failure {
	return loginFailure(s.cfg.Login.Classify(err), err)
}

// loginFailure explains a failed login call, whose meaning is lf.
func loginFailure(lf login.Failure, err error) *failure {
	var f *failure
	switch {
	case lf.Rejected == igv1.ReasonReauthorizationRequired:
		f = fail(http.StatusBadRequest, codeCodeRejected, "Instagram did not accept the login",
			"Instagram rejected the authorization code: it was already used, it expired (codes last an hour), or it "+
				"was issued for another redirect URI. Nothing was changed.", startAgain)
	case lf.Degraded == igv1.ReasonConfigurationError:
		msg := "Instagram refused the request because of the operator's app configuration"
		if lf.Message != "" {
			msg += fmt.Sprintf(" (Instagram said: %q)", lf.Message)
		}
		f = fail(http.StatusBadGateway, codeInstagramConfig, "The Instagram app is misconfigured",
			msg+". Nothing was changed.",
			"The operator's administrator should check the Instagram App ID and secret (INSTAGRAM_CLIENT_ID and "+
				"INSTAGRAM_CLIENT_SECRET, or the Secret in the connection's spec.appSecretRef: the Instagram app's "+
				"values, not the Meta app's) and that --redirect-url is registered as a valid OAuth redirect URI "+
				"in the Meta App Dashboard.")
	case lf.Rejected == igv1.ReasonAccountActionRequired:
		f = fail(http.StatusForbidden, codeAccountAction, "Your Instagram account needs attention",
			"Instagram reports a problem with the account itself (for example a security checkpoint). Nothing was changed.",
			"Log in on instagram.com or in the Instagram app and follow its instructions, then start the login again.")
	default:
		f = fail(http.StatusServiceUnavailable, codeInstagramUnavailable, "Instagram is not available right now",
			"Instagram did not answer, answered with an error worth retrying, or is limiting requests. Nothing was changed.",
			"Wait a little and start the login again. "+startAgain)
		f.retryAfter = max(lf.RetryAfter, defaultRetryAfter)
	}
	return f.withCause(err)
}

// kubeFailure explains a failed call to the Kubernetes API.
func kubeFailure(err error) *failure {
	f := fail(http.StatusServiceUnavailable, codeKubernetes, "The cluster could not be updated",
		"igconnect could not read or write the Kubernetes API"+kubeReason(err)+
			". If Instagram already issued a token, it was not stored.",
		"Try again in a minute. If it persists, the operator's administrator should check the operator's logs "+
			"and its permissions.").withCause(err)
	f.retryAfter = defaultRetryAfter
	return f
}

// errStarting answers a request that came before the manager's caches synced. It is
// checked before anything else, so the code in a callback is still unspent and the state
// unused: the same page, reloaded, completes the login.
func errStarting() *failure {
	f := fail(http.StatusServiceUnavailable, codeStarting, "igconnect is starting",
		"igconnect is still loading the cluster's connections, so it could not take this request yet. "+
			"Nothing was changed.",
		"Reload this page in a few seconds.")
	f.retryAfter = 5 * time.Second
	return f
}

// kubeReason names the class of an API error without echoing its text.
func kubeReason(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return " (permission denied)"
	case apierrors.IsTimeout(err), apierrors.IsServerTimeout(err):
		return " (timeout)"
	case apierrors.IsTooManyRequests(err):
		return " (rate limited)"
	}
	return ""
}

// signedRequestFailure explains why a signed_request was refused.
func signedRequestFailure(err error) *failure {
	var f *failure
	switch {
	case errors.Is(err, signedrequest.ErrNoSecret):
		f = fail(http.StatusServiceUnavailable, codeNoAppSecret, "No Instagram app secret is configured",
			"igconnect has no Instagram app secret to verify the request with.",
			"Set INSTAGRAM_CLIENT_SECRET, or give the connections an spec.appSecretRef.")
		f.retryAfter = defaultRetryAfter
	case errors.Is(err, signedrequest.ErrBadSignature):
		f = fail(http.StatusForbidden, codeBadSignature, "Signature does not match",
			"The signed_request is not signed with the secret of any Instagram app igconnect knows. Nothing was changed.",
			"Check that the app's secret in igconnect matches the Meta App Dashboard.")
	case errors.Is(err, signedrequest.ErrTooLong):
		f = fail(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "signed_request too long",
			"The signed_request is longer than any Meta sends. Nothing was changed.", "Send Meta's signed_request as is.")
	default:
		f = fail(http.StatusBadRequest, codeInvalidSignedRequest, "Malformed signed_request",
			"The signed_request is not a valid Meta signed request. Nothing was changed.", "Send Meta's signed_request as is.")
	}
	return f.withCause(err)
}
