package sandbox

import (
	"net/http"
	"net/url"
	"strings"
)

// tokenResponse is the body of a successful long-lived exchange or refresh.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// accessTokenFrom finds the token a Graph request carries: the access_token
// parameter, or else an "Authorization: Bearer|OAuth <token>" header, which
// Graph also accepts.
func accessTokenFrom(r *http.Request, params url.Values) string {
	if t := params.Get("access_token"); t != "" {
		return t
	}
	auth := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "OAuth "} {
		if len(auth) > len(scheme) && strings.EqualFold(auth[:len(scheme)], scheme) {
			return strings.TrimSpace(auth[len(scheme):])
		}
	}
	return ""
}

// writeUnsupportedMethod answers a Graph endpoint called with a method it
// does not serve. The text is the one reported for a POST to the refresh
// endpoint; the code (100) is the sandbox's choice.
func writeUnsupportedMethod(w http.ResponseWriter, r *http.Request) {
	writeGraphError(w, http.StatusBadRequest, graphError{
		Code:    100,
		Message: "Unsupported request - method type: " + strings.ToLower(r.Method),
	})
}

// writeMissingParam answers a Graph request that lacks a required parameter
// or has a wrong grant_type (code 100; the text is the sandbox's choice).
func writeMissingParam(w http.ResponseWriter, message string) {
	writeGraphError(w, http.StatusBadRequest, graphError{Code: 100, Message: message})
}
