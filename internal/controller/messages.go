package controller

import igv1 "github.com/igconnect/igconnect/api/v1alpha1"

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
