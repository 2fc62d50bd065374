package sandbox

import (
	"fmt"
	"strings"
)

// ScopeBasic is the scope every authorization must request.
const ScopeBasic = "instagram_business_basic"

// knownScopes are the Instagram Login scopes, in the order the consent page
// lists them, with the description it shows.
var knownScopes = []struct{ name, description string }{
	{ScopeBasic, "read your profile: ID, username, name and account type"},
	{"instagram_business_content_publish", "publish posts, reels and stories"},
	{"instagram_business_manage_messages", "read and send direct messages"},
	{"instagram_business_manage_comments", "read, reply to and moderate comments"},
	{"instagram_business_manage_insights", "read insights about your account and media"},
}

// Scopes returns the scope names the sandbox knows, in a stable order.
func Scopes() []string {
	out := make([]string, len(knownScopes))
	for i, s := range knownScopes {
		out[i] = s.name
	}
	return out
}

// isKnownScope reports whether name is an Instagram Login scope.
func isKnownScope(name string) bool {
	for _, s := range knownScopes {
		if s.name == name {
			return true
		}
	}
	return false
}

// scopeDescription returns the consent page's text for a known scope.
func scopeDescription(name string) string {
	for _, s := range knownScopes {
		if s.name == name {
			return s.description
		}
	}
	return ""
}

// parseScopes splits a scope parameter, which Instagram accepts comma- or
// space-separated, and validates it the way the authorize dialog does:
// unknown names and the business_* names deprecated on 27 January 2025 are
// rejected, and instagram_business_basic is required. Duplicates collapse.
// A rejection comes back as the dialog's message, in Instagram's own words
// (hence the capital), rather than as a Go error.
func parseScopes(raw string) (scopes []string, rejection string) {
	fields := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '+' })
	var out []string
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f] {
			continue
		}
		seen[f] = true
		if strings.HasPrefix(f, "business_") && isKnownScope("instagram_"+f) {
			return nil, fmt.Sprintf("Invalid Scopes: %s. The business_* scopes were deprecated on January 27, 2025; use instagram_%s", f, f)
		}
		if !isKnownScope(f) {
			return nil, "Invalid Scopes: " + f
		}
		out = append(out, f)
	}
	if !seen[ScopeBasic] {
		return nil, "Invalid Scopes: " + ScopeBasic + " is required"
	}
	return out, ""
}

// intersectScopes returns the requested scopes the account may grant, in the
// requested order: an account that lacks a permission simply does not grant it.
func intersectScopes(requested []string, allowed map[string]bool) []string {
	out := make([]string, 0, len(requested))
	for _, s := range requested {
		if allowed[s] {
			out = append(out, s)
		}
	}
	return out
}
