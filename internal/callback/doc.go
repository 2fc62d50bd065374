// Package callback is igconnect's callback server: the HTTP endpoints that complete an
// Instagram Business Login and write the result into the cluster (CONTRACT §4).
//
//	GET  /auth/instagram/start                 302 to Instagram's authorization window
//	GET  /auth/instagram/callback              code + state → token Secret (and connection) → result page
//	POST /auth/instagram/exchange              the same as JSON, for a single-page front end
//	POST /auth/instagram/deauthorize           Meta's signed_request: remove the account's tokens
//	POST /auth/instagram/data-deletion         Meta's signed_request: delete the account's connections
//	GET  /auth/instagram/data-deletion/status  a deletion's confirmation page
//	GET  /healthz, /readyz                     probes
//
// The server writes only token Secrets (through internal/tokensecret, the one definition of
// their format) and the spec of the connections it creates; the reconciler is the only
// writer of status. Every failure is answered with a page (or, for the exchange, a JSON
// error) that says what happened and what to do next, with a 4xx status for bad input, and
// changes nothing in the cluster.
//
// A single-page front end uses the JSON flow: it sends the browser to
// /auth/instagram/start?flow=json (a navigation, so the binding cookie is set), Instagram
// returns the browser to RedirectURL (the front end's page, registered with Meta), and the
// front end posts {"code","state"} from that page's query to /auth/instagram/exchange from
// the same origin, so the cookie goes along. States are minted for one flow and refused by
// the other endpoint.
//
// Nothing secret reaches a log, a page or an error: not the code, the token, the state, the
// ticket, an app secret or a signed_request. Requests are logged by path, never by query.
package callback
