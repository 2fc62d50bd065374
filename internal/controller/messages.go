package controller

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

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
