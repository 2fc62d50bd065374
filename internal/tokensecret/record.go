package tokensecret

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// Annotations the operator keeps on a token Secret beside the contract's keys. They never
// hold the token itself.
const (
	// AnnotationFingerprint is a truncated SHA-256 of the token the operator last wrote. A
	// token that does not match it was put in the Secret by a person and is imported.
	AnnotationFingerprint = "instagram.igconnect.dev/token-fingerprint"
	// AnnotationExpiryEstimated is "true" while expires_at is the earliest the token could
	// expire rather than its known expiry (an imported token before its first refresh).
	AnnotationExpiryEstimated = "instagram.igconnect.dev/expiry-estimated"
	// AnnotationRejected holds the Ready reason with which Instagram, or the person through
	// the deauthorize callback, rejected the token. While it is set the operator makes no
	// Instagram call for the token; writing a new token clears it.
	AnnotationRejected = "instagram.igconnect.dev/token-rejected"
	// AnnotationAccountType holds the account type /me reported.
	AnnotationAccountType = "instagram.igconnect.dev/account-type"
	// AnnotationAppScopedUserID holds the app-scoped user id /me reported.
	AnnotationAppScopedUserID = "instagram.igconnect.dev/app-scoped-user-id"
)

// TokenTypeBearer is the token_type of every Instagram token.
const TokenTypeBearer = "bearer"

// Record is what a token Secret says about its token.
type Record struct {
	// AccessToken is the token; empty when there is none (never authorized, or deauthorized).
	AccessToken string
	// IssuedAt is when the token was issued or last refreshed; zero when unknown.
	IssuedAt time.Time
	// ExpiresAt is when the token expires; zero when unknown.
	ExpiresAt time.Time
	// ExpiryEstimated is true when ExpiresAt is the earliest possible expiry, not a known one.
	ExpiryEstimated bool
	// UserID is the Instagram professional account id (/me user_id).
	UserID string
	// Username is the Instagram username.
	Username string
	// AccountType is the account type /me reported.
	AccountType string
	// AppScopedUserID is the app-scoped user id (/me id).
	AppScopedUserID string
	// GrantedScopes are the permissions granted with the token.
	GrantedScopes []string
	// Rejected is the Ready reason with which the token was rejected, or empty.
	Rejected string
	// Fingerprint is the fingerprint recorded for the token the operator last wrote.
	Fingerprint string
}

// Fingerprint returns a short, one-way fingerprint of a token: enough to notice that a
// person replaced the token, useless for recovering it.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:12])
}

// HasToken reports whether the record holds a token.
func (r Record) HasToken() bool { return r.AccessToken != "" }

// Imported reports whether the token in the Secret was put there by a person rather than
// written by igconnect: it has no fingerprint, or one that does not match.
func (r Record) Imported() bool {
	return r.HasToken() && r.Fingerprint != Fingerprint(r.AccessToken)
}

// Read returns what the Secret says about its token. Values that do not parse are treated
// as unknown, never as an error: a hand-edited Secret is repaired, not refused.
func Read(s *corev1.Secret) Record {
	ann := s.GetAnnotations()
	rec := Record{
		AccessToken:     strings.TrimSpace(string(s.Data[igv1.SecretKeyAccessToken])),
		UserID:          string(s.Data[igv1.SecretKeyUserID]),
		Username:        string(s.Data[igv1.SecretKeyUsername]),
		AccountType:     ann[AnnotationAccountType],
		AppScopedUserID: ann[AnnotationAppScopedUserID],
		Rejected:        ann[AnnotationRejected],
		Fingerprint:     ann[AnnotationFingerprint],
		ExpiryEstimated: ann[AnnotationExpiryEstimated] == "true",
		ExpiresAt:       parseTime(string(s.Data[igv1.SecretKeyExpiresAt])),
		IssuedAt:        parseTime(ann[igv1.AnnotationTokenIssuedAt]),
	}
	if scopes := ann[igv1.AnnotationGrantedScopes]; scopes != "" {
		rec.GrantedScopes = strings.Split(scopes, ",")
	}
	return rec
}

func parseTime(v string) time.Time {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
