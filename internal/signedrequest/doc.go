// Package signedrequest parses, verifies and mints Meta's signed_request, the single form
// field Meta posts to an app's deauthorize and data-deletion callbacks.
//
// The format is <base64url(HMAC-SHA256(app secret, payload))>.<base64url(JSON payload)>,
// where the HMAC is computed over the payload segment exactly as received. Meta's own
// documentation is loose about padding and alphabet, so Parse accepts both, and because it is
// not confirmed which secret signs Instagram-Login callbacks, Parse takes every secret the
// caller knows and accepts a value that any of them signed.
package signedrequest
