package controller

import (
	"errors"
	"net/http"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
)

// rateLimitCodes are Instagram's throttling error codes.
var rateLimitCodes = map[int]bool{4: true, 17: true, 32: true, 341: true, 613: true, 80002: true}

// rejectionReason maps an Instagram error that needs a person to the Ready reason it
// causes. The second result is false for errors worth retrying.
func rejectionReason(err error) (string, bool) {
	switch instagram.ClassOf(err) {
	case instagram.ClassReauthorize:
		return igv1.ReasonReauthorizationRequired, true
	case instagram.ClassAccount:
		return igv1.ReasonAccountActionRequired, true
	default:
		return "", false
	}
}

// rejectionMessage explains a rejection reason to a person.
func rejectionMessage(reason string) string {
	switch reason {
	case igv1.ReasonAccountActionRequired:
		return "Instagram reports a problem with the account that its owner must resolve on Instagram, then log in " +
			"again through status.authorizationURL"
	case igv1.ReasonDeauthorized:
		return "the Instagram user removed the app; log in again through status.authorizationURL to reconnect"
	default:
		return "Instagram rejected the token; a person must log in again through status.authorizationURL"
	}
}

// degradedReason names the class of a failure worth retrying for the Degraded condition.
func degradedReason(err error) string {
	var igErr *instagram.Error
	if errors.As(err, &igErr) {
		if rateLimitCodes[igErr.Code] || igErr.HTTPStatus == http.StatusTooManyRequests {
			return igv1.ReasonRateLimited
		}
		if igErr.Class == instagram.ClassConfiguration {
			return igv1.ReasonConfigurationError
		}
	}
	return igv1.ReasonInstagramUnavailable
}
