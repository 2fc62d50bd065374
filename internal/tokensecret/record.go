package tokensecret

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
)

// Names the controller's tests still use; the names are defined once, in api/v1alpha1.
// Remove them when those tests use igv1's.
const (
	// AnnotationExpiryEstimated is igv1.AnnotationExpiryEstimated.
	//
	// Deprecated: use igv1.AnnotationExpiryEstimated.
	AnnotationExpiryEstimated = igv1.AnnotationExpiryEstimated
	// AnnotationRejected is igv1.AnnotationTokenRejected.
	//
	// Deprecated: use igv1.AnnotationTokenRejected.
	AnnotationRejected = igv1.AnnotationTokenRejected
)

// TokenTypeBearer is the token_type of every Instagram token.
const TokenTypeBearer = "bearer"

// DefaultTokenLifetime is a long-lived token's documented lifetime: 60 days from issue or
// refresh. A token Instagram sends without expires_in is assumed to live this long, and
// its expiry is marked estimated.
const DefaultTokenLifetime = 60 * 24 * time.Hour

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
	// RejectedMessage is the Ready message of the rejection, the provider's words; kept
	// only while Rejected is set.
	RejectedMessage string
	// Fingerprint is the fingerprint recorded for the token the operator last wrote.
	Fingerprint string
}

// NewRecord is the record of a login: the long-lived token ll, issued now to the account p.
// lifetime is what a token without expires_in is assumed to live (DefaultTokenLifetime
// unless configured otherwise).
func NewRecord(now time.Time, ll instagram.LongLivedToken, p instagram.Profile, lifetime time.Duration) Record {
	return Record{
		UserID:          p.UserID,
		Username:        p.Username,
		AccountType:     p.AccountType,
		AppScopedUserID: p.ID,
	}.WithToken(ll, now, lifetime)
}

// WithToken returns r holding ll, a token from the long-lived exchange or a refresh made at
// now. The expiry is now plus expires_in; without expires_in it is now plus lifetime, marked
// estimated. The permissions ll reports replace the granted scopes; when it reports none the
// old ones stay, since a refresh does not repeat them. The account and any rejection are
// kept: they are the caller's to decide.
func (r Record) WithToken(ll instagram.LongLivedToken, now time.Time, lifetime time.Duration) Record {
	now = now.UTC().Truncate(time.Second) // the precision the Secret keeps
	r.AccessToken = ll.AccessToken
	r.IssuedAt = now
	if ll.ExpiresIn > 0 {
		r.ExpiresAt, r.ExpiryEstimated = now.Add(ll.ExpiresIn), false
	} else {
		r.ExpiresAt, r.ExpiryEstimated = now.Add(lifetime), true
	}
	if len(ll.Permissions) > 0 {
		r.GrantedScopes = ll.Permissions
	}
	return r
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
		AccountType:     ann[igv1.AnnotationAccountType],
		AppScopedUserID: ann[igv1.AnnotationAppScopedUserID],
		Rejected:        ann[igv1.AnnotationTokenRejected],
		RejectedMessage: ann[igv1.AnnotationTokenRejectedMessage],
		Fingerprint:     ann[igv1.AnnotationTokenFingerprint],
		ExpiryEstimated: ann[igv1.AnnotationExpiryEstimated] == "true",
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
