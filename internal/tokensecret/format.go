package tokensecret

import (
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/utils/ptr"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// recordDataKeys are the Secret keys a Record fills; one the record leaves empty must not
// be in the Secret.
var recordDataKeys = []string{
	igv1.SecretKeyAccessToken, igv1.SecretKeyTokenType, igv1.SecretKeyExpiresAt,
	igv1.SecretKeyUserID, igv1.SecretKeyUsername,
}

// recordAnnotations are the annotations a Record fills, with the same rule.
var recordAnnotations = []string{
	igv1.AnnotationTokenFingerprint, igv1.AnnotationTokenIssuedAt, igv1.AnnotationGrantedScopes,
	igv1.AnnotationExpiryEstimated, igv1.AnnotationTokenRejected, igv1.AnnotationTokenRejectedMessage, igv1.AnnotationAccountType,
	igv1.AnnotationAppScopedUserID,
}

// content is what igconnect puts in the token Secret of one connection for one record: the
// entries it sets. It is the one definition of the Secret's format; Apply, the apply
// request and the no-change check are all derived from it.
type content struct {
	data        map[string]string
	labels      map[string]string
	annotations map[string]string
}

// contentOf is the content of the Secret of the connection named connName holding rec:
// the contract's keys, the managed-by and connection labels, spec.secretTemplate's labels
// and annotations, and the operator's annotations. The operator's own labels and
// annotations win over a template's of the same name.
func contentOf(connName string, template *igv1.SecretTemplate, rec Record) content {
	c := content{data: map[string]string{}, labels: map[string]string{}, annotations: map[string]string{}}
	if template != nil {
		for k, v := range template.Labels {
			c.labels[k] = string(v)
		}
		maps.Copy(c.annotations, template.Annotations)
	}
	c.labels[igv1.LabelManagedBy] = igv1.ManagedByValue
	c.labels[igv1.LabelConnection] = connName

	fingerprint, tokenType, estimated := "", "", ""
	if rec.HasToken() {
		fingerprint, tokenType = Fingerprint(rec.AccessToken), TokenTypeBearer
	}
	if rec.ExpiryEstimated && !rec.ExpiresAt.IsZero() {
		estimated = "true"
	}
	for k, v := range map[string]string{
		igv1.SecretKeyAccessToken: rec.AccessToken,
		igv1.SecretKeyTokenType:   tokenType,
		igv1.SecretKeyExpiresAt:   formatTime(rec.ExpiresAt),
		igv1.SecretKeyUserID:      rec.UserID,
		igv1.SecretKeyUsername:    rec.Username,
	} {
		setOrDelete(c.data, k, v)
	}
	for k, v := range map[string]string{
		igv1.AnnotationTokenFingerprint:     fingerprint,
		igv1.AnnotationTokenIssuedAt:        formatTime(rec.IssuedAt),
		igv1.AnnotationGrantedScopes:        strings.Join(rec.GrantedScopes, ","),
		igv1.AnnotationExpiryEstimated:      estimated,
		igv1.AnnotationTokenRejected:        rec.Rejected,
		igv1.AnnotationTokenRejectedMessage: rejectedMessage(rec),
		igv1.AnnotationAccountType:          rec.AccountType,
		igv1.AnnotationAppScopedUserID:      rec.AppScopedUserID,
	} {
		setOrDelete(c.annotations, k, v)
	}
	return c
}

// Apply writes rec into s, in memory, as the token Secret of the connection named connName:
// the contract's keys, the managed-by and connection labels, spec.secretTemplate and the
// operator's annotations; the record's keys it leaves empty are removed. Keys, labels and
// annotations that belong to none of these are left as they are. It reports whether s
// changed. The Writer writes the same content to the API server; Apply is for building
// Secrets in tests and tools.
func Apply(s *corev1.Secret, connName string, template *igv1.SecretTemplate, rec Record) bool {
	before := s.DeepCopy()
	c := contentOf(connName, template, rec)
	s.Type = corev1.SecretTypeOpaque
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for _, k := range recordDataKeys {
		delete(s.Data, k)
	}
	for k, v := range c.data {
		s.Data[k] = []byte(v)
	}
	labels, annotations := s.GetLabels(), s.GetAnnotations()
	if labels == nil {
		labels = map[string]string{}
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	for _, k := range recordAnnotations {
		delete(annotations, k)
	}
	maps.Copy(labels, c.labels)
	maps.Copy(annotations, c.annotations)
	s.SetLabels(labels)
	s.SetAnnotations(annotations)
	return !equalSecrets(before, s)
}

// applyConfiguration is the server-side apply request for c: every field igconnect owns
// on the Secret, including the connection's controller reference. A field igconnect
// applied before and leaves out now is removed by the API server, unless another field
// manager also set it.
func applyConfiguration(conn *igv1.InstagramConnection, c content) *corev1ac.SecretApplyConfiguration {
	ac := corev1ac.Secret(conn.Spec.SecretName, conn.Namespace).
		WithType(corev1.SecretTypeOpaque).
		WithLabels(c.labels).
		WithAnnotations(c.annotations).
		WithOwnerReferences(metav1ac.OwnerReference().
			WithAPIVersion(igv1.GroupVersion.String()).
			WithKind(connectionKind).
			WithName(conn.Name).
			WithUID(conn.UID).
			WithController(true).
			WithBlockOwnerDeletion(true))
	if len(c.data) > 0 {
		data := make(map[string][]byte, len(c.data))
		for k, v := range c.data {
			data[k] = []byte(v)
		}
		ac.WithData(data)
	}
	return ac
}

// connectionKind is the kind of the token Secret's controller.
const connectionKind = "InstagramConnection"

// controllerReference makes conn the Secret's controller, as
// controllerutil.SetControllerReference would, without needing a scheme.
func controllerReference(conn *igv1.InstagramConnection) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: igv1.GroupVersion.String(), Kind: connectionKind, Name: conn.Name,
		UID: conn.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
}

// holds reports whether s already has c and the connection's controller reference, and
// nothing stale, so that writing c would change nothing a reader sees. It compares values,
// because the reconciler's cache strips managedFields; when s carries them (read from the
// API server) it also finds the keys igconnect set and no longer wants (see stale).
func holds(s *corev1.Secret, conn *igv1.InstagramConnection, c content, fieldOwner string) bool {
	if s.Type != corev1.SecretTypeOpaque {
		return false
	}
	if ref := metav1.GetControllerOf(s); ref == nil || ref.UID != conn.UID {
		return false
	}
	for k, v := range c.data {
		if got, ok := s.Data[k]; !ok || string(got) != v {
			return false
		}
	}
	return contains(s.Labels, c.labels) && contains(s.Annotations, c.annotations) && stale(s, c, fieldOwner).empty()
}

// stale returns the keys s has that c does not want there: the record's keys c leaves out,
// whoever set them, and, as far as s's managedFields tell, any data key, label or
// annotation fieldOwner set and c leaves out, such as a label dropped from
// spec.secretTemplate. An apply that leaves a key out removes it only if no other field
// manager set it too (a person's kubectl set the token of an imported Secret), and not at
// all if igconnect set it when it created the Secret, so the Writer removes these itself.
func stale(s *corev1.Secret, c content, fieldOwner string) keys {
	out := keys{}
	for _, k := range recordDataKeys {
		if _, want := c.data[k]; !want && hasData(s, k) {
			out.add(fieldData, k)
		}
	}
	for _, k := range recordAnnotations {
		if _, want := c.annotations[k]; !want && hasKey(s.Annotations, k) {
			out.add(fieldAnnotations, k)
		}
	}
	owned := ownedKeys(s, fieldOwner)
	for k := range s.Data {
		if _, want := c.data[k]; !want && owned.has(fieldData, k) {
			out.add(fieldData, k)
		}
	}
	for field, have := range map[string]map[string]string{fieldLabels: s.Labels, fieldAnnotations: s.Annotations} {
		want := c.labels
		if field == fieldAnnotations {
			want = c.annotations
		}
		for k := range have {
			if _, ok := want[k]; !ok && owned.has(field, k) {
				out.add(field, k)
			}
		}
	}
	return out
}

func hasData(s *corev1.Secret, k string) bool {
	_, ok := s.Data[k]
	return ok
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// contains reports whether have holds every entry of want.
func contains(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func setOrDelete(m map[string]string, key, value string) {
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

// rejectedMessage is the rejection message to keep: only beside a rejection.
func rejectedMessage(rec Record) string {
	if rec.Rejected == "" {
		return ""
	}
	return rec.RejectedMessage
}
