package controller

import (
	"errors"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// rejectedTokenMessage is the Ready message of a connection whose token the Secret records
// as rejected with reason. The reconcile that saw the rejection wrote Instagram's own words
// into it ("…: the user changed their password…"); later reconciles know only the reason,
// so they keep that message rather than fall back to the generic one.
func rejectedTokenMessage(conn *igv1.InstagramConnection, reason string) string {
	ready := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != reason || ready.Message == "" {
		return rejectionMessage(reason)
	}
	return strings.TrimSuffix(ready.Message, noLoginLinkNote)
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
