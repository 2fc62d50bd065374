package sandbox

import (
	"encoding/json"
	"net/http"
)

// Messages of the errors clients classify. They are exported so that client
// tests can assert on them without copying strings; the first four are
// Instagram's real texts, the others the sandbox's documented choices where
// the real text is unconfirmed.
const (
	// MsgCodeNotFound: code exchange with an unknown or already used code.
	MsgCodeNotFound = "Matching code was not found or was already used."
	// MsgInvalidPlatformApp: code exchange with an unknown client_id or a
	// wrong client_secret (Instagram's answer to Meta App credentials).
	MsgInvalidPlatformApp = "Invalid platform app"
	// MsgVerificationCode: code exchange with a redirect_uri other than the
	// authorize one, or with an expired code.
	MsgVerificationCode = "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"
	// MsgRateLimited: the throttling fault (code 4).
	MsgRateLimited = "(#4) Application request limit reached"
	// MsgClientSecret: long-lived exchange with a wrong client_secret (code
	// 101, Facebook's text for the same mistake).
	MsgClientSecret = "Error validating client secret."
	// MsgNeedShortLived: long-lived exchange of a token that is already
	// long-lived (code 100).
	MsgNeedShortLived = "(#100) Invalid token type: a short-lived token is required"
	// MsgNeedLongLived: refresh of a short-lived token (code 100).
	MsgNeedLongLived = "(#100) Invalid token type: a long-lived token is required"
	// MsgTooYoung: refresh before MinRefreshAge (code 100). The text names 24
	// hours whatever MinRefreshAge is, because clients match on it.
	MsgTooYoung = "(#100) The access token is less than 24 hours old and cannot be refreshed yet"
	// MsgLoggedOut: a token revoked with RevokeToken (code 190, no subcode).
	MsgLoggedOut = "Error validating access token: The session is invalid because the user logged out."
	// MsgPasswordChanged: a token issued before ChangePassword (190/460).
	MsgPasswordChanged = "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."
	// MsgUnknownToken: a token the sandbox never issued (190/467).
	MsgUnknownToken = "Invalid OAuth access token - Cannot parse access token"
	// MsgNoPermission: /me with a token lacking instagram_business_basic.
	MsgNoPermission = "(#10) Application does not have permission for this action"
	// MsgServerError: the JSON body of the 5xx fault (code 2, transient).
	MsgServerError = "An unexpected error has occurred. Please retry your request later."
)

// Graph error subcodes of code 190 the sandbox emits.
const (
	subcodeAppRemoved      = 458
	subcodePasswordChanged = 460
	subcodeExpired         = 463
	subcodeUnknownToken    = 467
)

// graphError is the body of graph.instagram.com errors, inside {"error":…},
// with its fields in the order Graph sends them.
type graphError struct {
	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Subcode     int    `json:"error_subcode,omitempty"`
	IsTransient bool   `json:"is_transient,omitempty"`
	FBTraceID   string `json:"fbtrace_id"`
}

// writeGraphError writes e in the Graph envelope with a fresh fbtrace_id and
// the WWW-Authenticate header Facebook adds to OAuth errors.
func writeGraphError(w http.ResponseWriter, status int, e graphError) {
	if e.Type == "" {
		e.Type = "OAuthException"
	}
	e.FBTraceID = newTraceID()
	kind := "invalid_request"
	if e.Code == 190 {
		kind = "invalid_token"
	}
	w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "`+kind+`" "`+e.Message+`"`)
	writeJSON(w, status, struct {
		Error graphError `json:"error"`
	}{e})
}

// legacyError is the flat envelope of api.instagram.com (the code exchange).
type legacyError struct {
	ErrorType    string `json:"error_type"`
	Code         int    `json:"code"`
	ErrorMessage string `json:"error_message"`
}

// writeLegacyError writes the code exchange's flat error with code 400 and
// HTTP 400, the only combination observed.
func writeLegacyError(w http.ResponseWriter, message string) {
	writeLegacyErrorCode(w, http.StatusBadRequest, 400, message)
}

// writeLegacyErrorCode writes the flat envelope with a chosen code, for
// faults such as throttling that Instagram would report with their own code.
func writeLegacyErrorCode(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, legacyError{ErrorType: "OAuthException", Code: code, ErrorMessage: message})
}

// writeJSON writes v compactly with no trailing newline, as Instagram does, so
// tests can compare bodies byte for byte.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value passed here is a plain struct; failing is a bug.
		panic("sandbox: encoding a response: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
