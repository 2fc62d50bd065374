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
	"fmt"
	"time"
)

// ShortLivedToken is the result of the code exchange. The token lives about
// an hour and should be exchanged for a long-lived one at once; Instagram
// sends no expires_in for it.
type ShortLivedToken struct {
	// AccessToken is the short-lived Instagram User token.
	AccessToken string
	// UserID is the user id Instagram returned with the token, as exact
	// decimal digits. Meta calls it app-scoped and it is not reliably the
	// professional account id: key connections on Profile.UserID instead.
	UserID string
	// Permissions are the scopes the user granted; nil when Instagram did
	// not say, empty when it said none.
	Permissions []string
}

// LongLivedToken is the result of the long-lived exchange or of a refresh.
type LongLivedToken struct {
	// AccessToken is the long-lived token. After a refresh, store this value:
	// whether the old string stays valid is undocumented.
	AccessToken string
	// TokenType is what Instagram sent, normally "bearer"; empty if absent.
	TokenType string
	// ExpiresIn is the lifetime from the moment of the response, about 60
	// days; 0 when Instagram did not send expires_in, meaning unknown.
	ExpiresIn time.Duration
	// Permissions as in ShortLivedToken. Meta's SDK lists the field for
	// refresh responses only; it is usually nil.
	Permissions []string
}

// Profile is the /me of a token.
type Profile struct {
	// ID is the app-scoped user id.
	ID string
	// UserID is the Instagram professional account id (IG_ID): the id that
	// webhooks carry and the one igconnect keys connections on. Exact decimal
	// digits; it exceeds 2^53.
	UserID string
	// Username is the Instagram username.
	Username string
	// Name is the display name, possibly empty.
	Name string
	// AccountType is as sent ("BUSINESS", "MEDIA_CREATOR", or the docs'
	// "Business"/"Media_Creator"); the casing is undocumented, so compare
	// case-insensitively.
	AccountType string
}

// String hides the token, so that logging a ShortLivedToken (fmt's %v and
// %+v, or zap, which prefers a Stringer) cannot leak it.
func (t ShortLivedToken) String() string {
	return fmt.Sprintf("ShortLivedToken{AccessToken:%s UserID:%s Permissions:%v}", maskToken(t.AccessToken), t.UserID, t.Permissions)
}

// GoString hides the token from %#v as well.
func (t ShortLivedToken) GoString() string { return t.String() }

// String hides the token, as for ShortLivedToken.
func (t LongLivedToken) String() string {
	return fmt.Sprintf("LongLivedToken{AccessToken:%s TokenType:%s ExpiresIn:%s Permissions:%v}",
		maskToken(t.AccessToken), t.TokenType, t.ExpiresIn, t.Permissions)
}

// GoString hides the token from %#v as well.
func (t LongLivedToken) GoString() string { return t.String() }

// maskToken says whether a token is present without showing any of it; even
// a prefix would narrow a guess.
func maskToken(s string) string {
	if s == "" {
		return `""`
	}
	return redactedText
}
