package tokensecret

import (
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// Apply writes rec into s as the token Secret of the connection named connName: the
// contract's keys, the managed-by and connection labels, spec.secretTemplate and the
// operator's annotations. Keys, labels and annotations that belong to neither are left as
// they are. It reports whether s changed, so callers write the Secret only when its content
// changes (tools such as Reloader restart pods on every write).
func Apply(s *corev1.Secret, connName string, template *igv1.SecretTemplate, rec Record) bool {
	before := s.DeepCopy()

	s.Type = corev1.SecretTypeOpaque
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	setOrDelete(s.Data, igv1.SecretKeyAccessToken, rec.AccessToken)
	tokenType := ""
	if rec.HasToken() {
		tokenType = TokenTypeBearer
	}
	setOrDelete(s.Data, igv1.SecretKeyTokenType, tokenType)
	setOrDelete(s.Data, igv1.SecretKeyExpiresAt, formatTime(rec.ExpiresAt))
	setOrDelete(s.Data, igv1.SecretKeyUserID, rec.UserID)
	setOrDelete(s.Data, igv1.SecretKeyUsername, rec.Username)

	labels := s.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	annotations := s.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	if template != nil {
		for k, v := range template.Labels {
			labels[k] = string(v)
		}
		maps.Copy(annotations, template.Annotations)
	}
	labels[igv1.LabelManagedBy] = igv1.ManagedByValue
	labels[igv1.LabelConnection] = connName

	fingerprint := ""
	if rec.HasToken() {
		fingerprint = Fingerprint(rec.AccessToken)
	}
	estimated := ""
	if rec.ExpiryEstimated && !rec.ExpiresAt.IsZero() {
		estimated = "true"
	}
	setOrDeleteString(annotations, AnnotationFingerprint, fingerprint)
	setOrDeleteString(annotations, igv1.AnnotationTokenIssuedAt, formatTime(rec.IssuedAt))
	setOrDeleteString(annotations, igv1.AnnotationGrantedScopes, strings.Join(rec.GrantedScopes, ","))
	setOrDeleteString(annotations, AnnotationExpiryEstimated, estimated)
	setOrDeleteString(annotations, AnnotationRejected, rec.Rejected)
	setOrDeleteString(annotations, AnnotationAccountType, rec.AccountType)
	setOrDeleteString(annotations, AnnotationAppScopedUserID, rec.AppScopedUserID)

	s.SetLabels(labels)
	s.SetAnnotations(annotations)
	return !equalSecrets(before, s)
}

func setOrDelete(m map[string][]byte, key, value string) {
	if value == "" {
		delete(m, key)
		return
	}
	m[key] = []byte(value)
}

func setOrDeleteString(m map[string]string, key, value string) {
	if value == "" {
		delete(m, key)
		return
	}
	m[key] = value
}

// equalSecrets compares what Apply may change: type, data, labels and annotations. Empty and
// nil maps are equal, as they are on the wire.
func equalSecrets(a, b *corev1.Secret) bool {
	if a.Type != b.Type || len(a.Data) != len(b.Data) {
		return false
	}
	for k, v := range a.Data {
		if w, ok := b.Data[k]; !ok || string(v) != string(w) {
			return false
		}
	}
	return maps.Equal(a.GetLabels(), b.GetLabels()) && maps.Equal(a.GetAnnotations(), b.GetAnnotations())
}
