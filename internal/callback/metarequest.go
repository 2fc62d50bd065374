package callback

import (
	"context"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/signedrequest"
)

// signedRequestField is the form field Meta posts to the deauthorize and data-deletion
// callbacks.
const signedRequestField = "signed_request"

// metaRequest reads and verifies the signed_request of a deauthorize or data-deletion
// callback and returns the connections it concerns.
//
// The request is verified with every app secret igconnect knows: the operator's own and
// those of the app Secrets connections name in spec.appSecretRef. A connection matches only
// if the payload's user_id is its account (spec.instagramUserID, status.userID or
// status.appScopedUserID) and the payload was signed with the secret of the connection's
// own app. The second condition matters: whoever controls one namespace's app Secret can
// sign anything with it, and must not reach the connections of other apps.
func (s *server) metaRequest(w http.ResponseWriter, r *http.Request) (signedrequest.Payload, []igv1.InstagramConnection, *failure) {
	form, f := readForm(w, r)
	if f != nil {
		return signedrequest.Payload{}, nil, f
	}
	if f := checkSingle(form, []string{signedRequestField}); f != nil {
		return signedrequest.Payload{}, nil, f
	}
	value := strings.TrimSpace(form.Get(signedRequestField))
	if value == "" {
		return signedrequest.Payload{}, nil, errMissingParameter(signedRequestField)
	}

	ctx := r.Context()
	if s.cfg.Cache == nil {
		return s.matchSigned(ctx, value, s.cfg.APIReader, false)
	}
	// The request is not verified yet, so what it costs must not grow with the cluster: the
	// connections come from the manager's cache, and only those that match are read from
	// the API server.
	payload, matched, f := s.matchSigned(ctx, value, s.cfg.Cache, true)
	if f != nil || len(matched) > 0 {
		return payload, matched, f
	}
	// Verified, and nothing in the cache matched: it may not have seen a connection created
	// or authorized moments ago, and Meta does not ask twice. The request is Meta's, so a
	// LIST from the API server is affordable now.
	return s.matchSigned(ctx, value, s.cfg.APIReader, false)
}

// matchSigned verifies the signed_request value with every app secret the connections of
// lister name (and the operator's own) and returns the connections it concerns. From the
// cache (cached), the matches are read again from the API server and only current copies
// that still match are returned.
func (s *server) matchSigned(ctx context.Context, value string, lister client.Reader, cached bool) (
	signedrequest.Payload, []igv1.InstagramConnection, *failure) {
	var opts []client.ListOption
	if cached {
		// Read only, and the cache may hold every connection of the cluster: no copies.
		opts = append(opts, client.UnsafeDisableDeepCopy)
	}
	list, err := s.listConnections(ctx, lister, opts...)
	if err != nil {
		return signedrequest.Payload{}, nil, kubeFailure(err)
	}
	secretOf, err := s.appSecrets(ctx, list.Items)
	if err != nil {
		return signedrequest.Payload{}, nil, kubeFailure(err)
	}
	all := []string{s.cfg.Credentials.Default.ClientSecret}
	for _, sec := range secretOf {
		all = append(all, sec)
	}
	payload, err := signedrequest.Parse(value, all...)
	if err != nil {
		return signedrequest.Payload{}, nil, signedRequestFailure(err)
	}

	// Which of the secrets signed it: usually one, but two apps may share a secret.
	signedBy := map[string]bool{}
	for _, sec := range all {
		if _, done := signedBy[sec]; done || sec == "" {
			continue
		}
		_, err := signedrequest.Parse(value, sec)
		signedBy[sec] = err == nil
	}
	matches := func(c *igv1.InstagramConnection) bool {
		if !c.DeletionTimestamp.IsZero() || !concerns(c, payload.UserID) {
			return false
		}
		sec := s.cfg.Credentials.Default.ClientSecret
		if c.Spec.AppSecretRef != nil {
			sec = secretOf[appSecretKey(c)]
		}
		return sec != "" && signedBy[sec]
	}
	var candidates []igv1.InstagramConnection
	for i := range list.Items {
		if matches(&list.Items[i]) {
			candidates = append(candidates, list.Items[i])
		}
	}
	if !cached {
		return payload, candidates, nil
	}
	// The cached copies may be a watch event behind; act on current ones that still match.
	current, err := s.readAgain(ctx, candidates)
	if err != nil {
		return signedrequest.Payload{}, nil, kubeFailure(err)
	}
	var matched []igv1.InstagramConnection
	for i := range current {
		if matches(&current[i]) {
			matched = append(matched, current[i])
		}
	}
	return payload, matched, nil
}

// concerns reports whether the connection is the account userID names, by either id.
func concerns(c *igv1.InstagramConnection, userID string) bool {
	return c.Spec.InstagramUserID == userID || c.Status.UserID == userID || c.Status.AppScopedUserID == userID
}

// appSecretKey identifies the app Secret a connection names.
func appSecretKey(c *igv1.InstagramConnection) client.ObjectKey {
	return client.ObjectKey{Namespace: c.Namespace, Name: c.Spec.AppSecretRef.Name}
}

// appSecrets reads the client secret of every app Secret the connections name, once each.
// A Secret that is missing or has no client-secret contributes nothing: its connections
// cannot be matched, which is right, since no app of theirs could have signed.
func (s *server) appSecrets(ctx context.Context, conns []igv1.InstagramConnection) (map[client.ObjectKey]string, error) {
	out := map[client.ObjectKey]string{}
	for i := range conns {
		c := &conns[i]
		if c.Spec.AppSecretRef == nil {
			continue
		}
		key := appSecretKey(c)
		if _, done := out[key]; done {
			continue
		}
		sec := &corev1.Secret{}
		if err := s.cfg.APIReader.Get(ctx, key, sec); err != nil {
			if client.IgnoreNotFound(err) != nil {
				return nil, err
			}
			out[key] = ""
			continue
		}
		out[key] = strings.TrimSpace(string(sec.Data[igv1.AppSecretKeyClientSecret]))
	}
	return out, nil
}
