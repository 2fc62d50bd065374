// Package tokensecret defines the token Secret of an InstagramConnection: the keys apps
// mount (CONTRACT §2) and the annotations that let the operator recover everything it needs
// about the token from the Secret alone. The reconciler and the callback server both write
// the Secret through this package, so the format has exactly one definition.
//
// The Secret, not the connection's status, is the source of truth for the token: the token,
// its expiry and its issue time are written together in one object, so a crash or an API
// conflict between writing the Secret and writing status loses nothing.
package tokensecret
