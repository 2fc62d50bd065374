/*
Copyright 2026 The igconnect Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package instagram

import (
	"net/url"
	"strings"
)

// AuthorizeURL returns the URL of Instagram's authorization window for
// clientID (the Instagram App ID), redirectURI (which must match a
// registered redirect URI exactly), scopes (joined with commas, as in Meta's
// examples) and state (echoed back on the redirect). Empty scopes or state
// are left out rather than sent empty.
//
// Query parameters already present in Config.AuthorizeURL are kept, so an
// operator can add undocumented ones such as force_reauth=true without a
// code change; the parameters set here replace any of the same name.
func (c *Client) AuthorizeURL(clientID, redirectURI string, scopes []string, state string) string {
	u, err := url.Parse(c.authorizeURL)
	if err != nil {
		// Keep the documented parameters even with an unparsable base, so the
		// failure shows up at Instagram (a visible error page) rather than as
		// a silently missing parameter.
		u = &url.URL{Path: c.authorizeURL}
	}
	q := u.Query()
	q.Set("client_id", clientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("response_type", "code")
	if s := joinScopes(scopes); s != "" {
		q.Set("scope", s)
	} else {
		q.Del("scope")
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// joinScopes trims and drops empty entries so that a stray "" in a
// connection's spec does not produce "a,,b", which Instagram may reject.
func joinScopes(scopes []string) string {
	kept := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s = strings.TrimSpace(s); s != "" {
			kept = append(kept, s)
		}
	}
	return strings.Join(kept, ",")
}
