package tokensecret

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// Ownership says whose a Secret is, seen from one connection.
type Ownership int

const (
	// OwnedByConnection means the connection is the Secret's controller.
	OwnedByConnection Ownership = iota
	// Unowned means nothing controls the Secret and no other connection claims it; the
	// connection may adopt it (importing a token a person put there).
	Unowned
	// Foreign means another object controls the Secret, or another connection claims it by
	// label; the connection must leave it untouched.
	Foreign
)

// OwnershipOf tells whether s belongs to conn, is free to adopt, or belongs to something else.
func OwnershipOf(s *corev1.Secret, conn *igv1.InstagramConnection) Ownership {
	if ref := metav1.GetControllerOf(s); ref != nil {
		if ref.UID == conn.UID {
			return OwnedByConnection
		}
		return Foreign
	}
	if name, ok := s.GetLabels()[igv1.LabelConnection]; ok && name != conn.Name {
		return Foreign
	}
	return Unowned
}
