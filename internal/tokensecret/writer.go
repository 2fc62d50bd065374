package tokensecret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// FieldOwner is the field manager of igconnect's writes of token Secrets.
const FieldOwner = "igconnect"

var (
	// ErrForeign refuses a write to a Secret that is not the connection's to write: another
	// object controls it, another connection claims it by label, or nothing owns it and it
	// holds no token to import (it may be anyone's Secret that merely has the name).
	ErrForeign = errors.New("the token Secret belongs to another object or holds no token to import")
	// ErrSuperseded drops a write whose Secret received another token (a new login) while
	// the caller was working from the old one: the newer token wins, and the caller's next
	// pass starts from it.
	ErrSuperseded = errors.New("the token Secret received a new token meanwhile")
)

// secrets names the resource in the conflicts the Writer makes up.
var secrets = schema.GroupResource{Resource: "secrets"}

// Writer is the one writer of token Secrets: the reconciler's refreshes and imports, the
// callback's logins and Meta's deauthorize all write through it. A write to an existing
// Secret is a server-side apply of the whole format (contentOf) as FieldOwner, forced, so
// that the Secret's keys are igconnect's whoever last edited them, and a field igconnect
// stops applying is removed. A write
//
//   - sends nothing when the Secret already holds what it would write;
//   - never touches a Secret that is not the connection's (ErrForeign), and adopts one a
//     person created to import a token (controller reference and labels);
//   - lands only on the Secret it was decided on: an apply carries that Secret's UID and
//     resourceVersion, and where there was no Secret it is a create, which fails if one was
//     created meanwhile where an apply would merge into it. After such a conflict the
//     Secret is read again and the write decided anew, which is where a newer login wins.
type Writer struct {
	// Client sends the writes.
	Client client.Client
	// Reader reads the Secret from the API server: the manager's APIReader. The manager's
	// cache holds only Secrets that carry igconnect's label, so it misses a Secret a person
	// created, and it strips managedFields.
	Reader client.Reader
	// FieldOwner is the field manager of the writes; the package's FieldOwner when empty.
	FieldOwner string
}

// Write makes the connection's Secret hold rec. existing is the Secret as the caller read it
// (from a cache is fine), nil when there was none. basedOn is the token the caller's change
// started from: when the Secret changed meanwhile, rec is written to the fresh Secret only
// if it still holds that token, and otherwise the write fails with ErrSuperseded. It returns
// the Secret as written: existing itself when nothing needed writing.
func (w *Writer) Write(ctx context.Context, conn *igv1.InstagramConnection, existing *corev1.Secret,
	basedOn string, rec Record) (*corev1.Secret, error) {
	return w.write(ctx, conn, existing, func(current *corev1.Secret, first bool) (Record, error) {
		if !first && tokenOf(current) != basedOn {
			return Record{}, ErrSuperseded
		}
		return rec, nil
	})
}

// Replace makes the connection's Secret hold rec, the token of a login, whatever token the
// Secret holds now: a person logging in means the new token. It reads the Secret from the
// API server itself.
func (w *Writer) Replace(ctx context.Context, conn *igv1.InstagramConnection, rec Record) (*corev1.Secret, error) {
	current, err := w.get(ctx, conn)
	if err != nil {
		return nil, err
	}
	return w.write(ctx, conn, current, func(*corev1.Secret, bool) (Record, error) { return rec, nil })
}

// RemoveToken takes the token out of the connection's Secret and records reason as its
// rejection; the account's identity stays, so the Secret still says whose it was. A Secret
// that does not exist, holds no token or is not the connection's is left alone: there is
// no token of the connection's to remove.
func (w *Writer) RemoveToken(ctx context.Context, conn *igv1.InstagramConnection, reason string) error {
	current, err := w.get(ctx, conn)
	if err != nil {
		return err
	}
	_, err = w.write(ctx, conn, current, func(current *corev1.Secret, _ bool) (Record, error) {
		if current == nil || !Read(current).HasToken() {
			return Record{}, errNothingToRemove
		}
		old := Read(current)
		return Record{UserID: old.UserID, Username: old.Username, AccountType: old.AccountType,
			AppScopedUserID: old.AppScopedUserID, Rejected: reason}, nil
	})
	if errors.Is(err, errNothingToRemove) || errors.Is(err, ErrForeign) {
		return nil
	}
	return err
}

// errNothingToRemove ends a RemoveToken that finds no token.
var errNothingToRemove = errors.New("no token to remove")

// write writes to the connection's Secret the record decide returns for it, starting from
// current (nil: there is none) and, after a conflict, from a fresh read; first tells decide
// whether current is the caller's copy.
func (w *Writer) write(ctx context.Context, conn *igv1.InstagramConnection, current *corev1.Secret,
	decide func(current *corev1.Secret, first bool) (Record, error)) (*corev1.Secret, error) {
	var written *corev1.Secret
	first := true
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			var err error
			if current, err = w.get(ctx, conn); err != nil {
				return err
			}
		}
		if err := mayWrite(current, conn); err != nil {
			return err
		}
		rec, err := decide(current, first)
		first = false
		if err != nil {
			return err
		}
		written, err = w.writeOnce(ctx, conn, current, rec)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("write token Secret %s/%s: %w", conn.Namespace, conn.Spec.SecretName, err)
	}
	return written, nil
}

// writeOnce writes rec to current, the Secret as last read (nil: none), which the
// connection may write. A conflict means the Secret is no longer current.
func (w *Writer) writeOnce(ctx context.Context, conn *igv1.InstagramConnection, current *corev1.Secret,
	rec Record) (*corev1.Secret, error) {
	c := contentOf(conn.Name, conn.Spec.SecretTemplate, rec)
	if current == nil {
		return w.create(ctx, conn, rec)
	}
	if holds(current, conn, c, w.fieldOwner()) {
		return current, nil
	}
	// The resourceVersion makes the apply conflict if the Secret changed since current was
	// read; the UID makes it conflict if the Secret was deleted meanwhile, where an apply
	// would otherwise create it again, resourceVersion or not.
	ac := applyConfiguration(conn, c).WithResourceVersion(current.ResourceVersion)
	if current.UID != "" {
		ac.WithUID(current.UID)
	}
	if err := w.Client.Apply(ctx, ac, client.FieldOwner(w.fieldOwner()), client.ForceOwnership); err != nil {
		if apierrors.IsNotFound(err) {
			// Deleted since it was read: read again and decide anew.
			return nil, apierrors.NewConflict(secrets, conn.Spec.SecretName, err)
		}
		return nil, err
	}
	written, err := toSecret(ac)
	if err != nil {
		return nil, err
	}
	// What was stale before the apply, as far as current's managedFields told, and what the
	// apply left in place.
	remove := stale(current, c, w.fieldOwner())
	for field, ks := range stale(written, c, w.fieldOwner()) {
		for k := range ks {
			remove.add(field, k)
		}
	}
	return w.removeKeys(ctx, written, remove)
}

// create creates the connection's Secret holding rec. It is a create, not an apply: an
// apply would merge into a Secret someone created since the caller found none, where a
// create fails, and the Secret is read again. The fields it sets are igconnect's in
// managedFields all the same, under an Update entry; stale removes them when they go.
func (w *Writer) create(ctx context.Context, conn *igv1.InstagramConnection, rec Record) (*corev1.Secret, error) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: conn.Namespace, Name: conn.Spec.SecretName}}
	Apply(s, conn.Name, conn.Spec.SecretTemplate, rec)
	s.OwnerReferences = []metav1.OwnerReference{controllerReference(conn)}
	err := w.Client.Create(ctx, s, client.FieldOwner(w.fieldOwner()))
	if apierrors.IsAlreadyExists(err) {
		return nil, apierrors.NewConflict(secrets, s.Name, err)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// removeKeys removes from s the keys in remove that it still has. The patch carries s's
// resourceVersion: a conflict means another writer came in between, and the write is
// decided anew.
func (w *Writer) removeKeys(ctx context.Context, s *corev1.Secret, remove keys) (*corev1.Secret, error) {
	patched := s.DeepCopy()
	for k := range remove[fieldData] {
		delete(patched.Data, k)
	}
	for k := range remove[fieldLabels] {
		delete(patched.Labels, k)
	}
	for k := range remove[fieldAnnotations] {
		delete(patched.Annotations, k)
	}
	if equalSecrets(s, patched) {
		return s, nil
	}
	patch := client.MergeFromWithOptions(s, client.MergeFromWithOptimisticLock{})
	if err := w.Client.Patch(ctx, patched, patch, client.FieldOwner(w.fieldOwner())); err != nil {
		return nil, err
	}
	return patched, nil
}

// mayWrite refuses current, the Secret as last read, if it is not the connection's to write;
// no Secret (nil) is free to create.
func mayWrite(current *corev1.Secret, conn *igv1.InstagramConnection) error {
	if current == nil {
		return nil
	}
	switch OwnershipOf(current, conn) {
	case Foreign:
		return ErrForeign
	case Unowned:
		if !Read(current).HasToken() {
			return ErrForeign
		}
	}
	return nil
}

// get reads the connection's Secret from the API server; nil when there is none.
func (w *Writer) get(ctx context.Context, conn *igv1.InstagramConnection) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	err := w.Reader.Get(ctx, client.ObjectKey{Namespace: conn.Namespace, Name: conn.Spec.SecretName}, s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (w *Writer) fieldOwner() string {
	if w.FieldOwner == "" {
		return FieldOwner
	}
	return w.FieldOwner
}

// tokenOf is the token s holds; empty when s is nil.
func tokenOf(s *corev1.Secret) string {
	if s == nil {
		return ""
	}
	return Read(s).AccessToken
}

// toSecret converts the API server's answer to an apply, which client.Apply decodes into
// the apply configuration, to a Secret.
func toSecret(ac *corev1ac.SecretApplyConfiguration) (*corev1.Secret, error) {
	raw, err := json.Marshal(ac)
	if err != nil {
		return nil, err
	}
	s := &corev1.Secret{}
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, err
	}
	return s, nil
}
