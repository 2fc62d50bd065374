package callback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// persist stores a login's token. With a ticket (target set) it goes to that connection;
// without, to the account's connection in ConnectionNamespace, created if there is none.
// The account check and the Secret's ownership check come before any write, so a refused
// login writes nothing. It writes spec only when it creates a connection, and never status.
func (s *server) persist(ctx context.Context, target *igv1.InstagramConnection, rec tokensecret.Record) (*igv1.InstagramConnection, *failure) {
	conn := target
	if conn == nil {
		var f *failure
		if conn, f = s.accountConnection(ctx, rec); f != nil {
			return nil, f
		}
	}
	if pin := conn.Spec.InstagramUserID; pin != "" && pin != rec.UserID {
		return nil, errAccountMismatch(conn, rec)
	}
	// A Secret nothing owns is adopted only if it holds a token: it may be anyone's Secret
	// that merely has the name, the rule the reconciler applies too.
	if _, err := s.secrets.Replace(ctx, conn, rec); err != nil {
		if errors.Is(err, tokensecret.ErrForeign) {
			return nil, errSecretConflict(conn)
		}
		return nil, kubeFailure(err)
	}
	return conn, nil
}

// accountConnectionName is the name of the connection a login without a ticket creates.
func accountConnectionName(userID string) string { return "ig-" + userID }

// accountSecretName is the token Secret name of such a connection.
func accountSecretName(userID string) string { return "ig-" + userID + "-token" }

// accountConnection finds the connection for the login's account in ConnectionNamespace:
// one already pinned to it (preferring the name igconnect would give it), else a new one
// named ig-<userID>. The name is fixed by the account, so concurrent first logins of one
// account race to create the same object and all end up with it.
//
// Only connections that use the operator's app are candidates: a login without a ticket
// goes through the operator's app, and a token belongs to one app and one account. A
// connection pinned to the account through its own app (spec.appSecretRef) is logged in
// through its own link; storing the operator app's token in it would also hide it from the
// deauthorize requests of the app that issued the token.
func (s *server) accountConnection(ctx context.Context, rec tokensecret.Record) (*igv1.InstagramConnection, *failure) {
	ns, name := s.cfg.ConnectionNamespace, accountConnectionName(rec.UserID)
	candidates, err := s.pinnedConnections(ctx, ns, rec.UserID)
	if err != nil {
		return nil, kubeFailure(err)
	}
	var pinned []*igv1.InstagramConnection
	for i := range candidates {
		c := &candidates[i]
		if c.Spec.InstagramUserID == rec.UserID && c.Spec.AppSecretRef == nil && c.DeletionTimestamp.IsZero() {
			pinned = append(pinned, c)
		}
	}
	sort.Slice(pinned, func(i, j int) bool {
		if (pinned[i].Name == name) != (pinned[j].Name == name) {
			return pinned[i].Name == name
		}
		return pinned[i].Name < pinned[j].Name
	})
	if len(pinned) > 0 {
		return pinned[0], nil
	}

	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns,
			Name:      name,
			Labels:    map[string]string{igv1.LabelManagedBy: igv1.ManagedByValue},
		},
		Spec: igv1.InstagramConnectionSpec{
			InstagramUserID: rec.UserID,
			SecretName:      accountSecretName(rec.UserID),
		},
	}
	err = s.cfg.Client.Create(ctx, conn)
	if err == nil {
		s.cfg.Log.Info("Created connection for a new account", "connection", ns+"/"+name, "userID", rec.UserID)
		return conn, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, kubeFailure(err)
	}
	// Another login of the same account created it first, or a person made one by that name.
	existing := &igv1.InstagramConnection{}
	if err := s.cfg.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, existing); err != nil {
		return nil, kubeFailure(err)
	}
	if !existing.DeletionTimestamp.IsZero() {
		f := fail(http.StatusServiceUnavailable, codeKubernetes, "The account's connection is being deleted",
			fmt.Sprintf("InstagramConnection %s/%s is being deleted, so the token was not stored.", ns, name),
			"Wait until it is gone, then start the login again.")
		f.retryAfter = defaultRetryAfter
		return nil, f
	}
	return existing, nil
}

// pinnedConnections returns the connections of ns that may be pinned to userID, as the API
// server has them now; the caller checks the pin. With Config.Cache they are found through
// UserIDIndex and each read again from the API server, so a login acts on current specs and
// the cost does not grow with the namespace. The cache lags the API server by a watch
// event: a connection pinned to the account in the last milliseconds may be missed, and the
// login then creates ig-<userID> (or finds it, if that is its name), as a login racing
// with that creation would have without the cache.
func (s *server) pinnedConnections(ctx context.Context, ns, userID string) ([]igv1.InstagramConnection, error) {
	if s.cfg.Cache == nil {
		list := &igv1.InstagramConnectionList{}
		if err := s.cfg.APIReader.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		return list.Items, nil
	}
	cached := &igv1.InstagramConnectionList{}
	if err := s.cfg.Cache.List(ctx, cached, client.InNamespace(ns), client.MatchingFields{UserIDIndex: userID}); err != nil {
		return nil, err
	}
	return s.readAgain(ctx, cached.Items)
}

// readAgain returns the connections as the API server has them now, leaving out those that
// are gone: cached copies found a candidate, the current one is what is acted on.
func (s *server) readAgain(ctx context.Context, cached []igv1.InstagramConnection) ([]igv1.InstagramConnection, error) {
	out := make([]igv1.InstagramConnection, 0, len(cached))
	for i := range cached {
		fresh := &igv1.InstagramConnection{}
		if err := s.cfg.APIReader.Get(ctx, client.ObjectKeyFromObject(&cached[i]), fresh); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, *fresh)
	}
	return out, nil
}

func errAccountMismatch(conn *igv1.InstagramConnection, rec tokensecret.Record) *failure {
	return fail(http.StatusConflict, codeAccountMismatch, "Wrong Instagram account",
		fmt.Sprintf("InstagramConnection %s/%s is pinned to the Instagram account with user id %s, but this login "+
			"authorized @%s (user id %s). Reason: %s. Nothing was written.",
			conn.Namespace, conn.Name, conn.Spec.InstagramUserID, rec.Username, rec.UserID, igv1.ReasonAccountMismatch),
		"Log out of Instagram (or use a private window), start the login again and log in with the pinned account.")
}

func errSecretConflict(conn *igv1.InstagramConnection) *failure {
	return fail(http.StatusConflict, codeSecretConflict, "The token Secret belongs to something else",
		fmt.Sprintf("InstagramConnection %s/%s stores its token in Secret %s, but that Secret is owned by another "+
			"object or is not an igconnect token Secret, so igconnect leaves it untouched. Reason: %s. Nothing was written.",
			conn.Namespace, conn.Name, conn.Spec.SecretName, igv1.ReasonSecretConflict),
		"Change the connection's spec.secretName to a free name (or remove the other Secret), then start the login again.")
}
