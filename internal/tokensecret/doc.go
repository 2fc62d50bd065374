// Package tokensecret defines and writes the token Secret of an InstagramConnection.
//
// The names in the Secret (the keys apps mount, CONTRACT §2, and the operator's
// annotations) are defined once, in api/v1alpha1 (wellknown.go). What goes under them is
// defined here, once: contentOf turns a Record into the Secret's content, Read turns a
// Secret back into a Record, and NewRecord and Record.WithToken hold the rules for a newly
// issued token (issue time, expiry from expires_in or the assumed 60-day lifetime).
//
// Writer is the only thing that writes token Secrets: the reconciler and the callback
// server both go through it. It writes with server-side apply as FieldOwner, only when the
// content changes, never to a Secret that is not the connection's, and never over a newer
// login (see Writer).
//
// The Secret, not the connection's status, is the source of truth for the token: the token,
// its expiry and its issue time are written together in one object, so a crash or an API
// conflict between writing the Secret and writing status loses nothing.
package tokensecret
