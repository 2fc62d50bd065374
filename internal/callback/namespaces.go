package callback

import (
	"context"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// listConnections lists the connections of every watched namespace (Config.WatchNamespaces)
// in turn, or of the whole cluster when none are set. A namespace-scoped manager has Roles
// in its namespaces and no ClusterRole, so the API server refuses it a cluster-wide LIST.
func (s *server) listConnections(ctx context.Context, lister client.Reader, opts ...client.ListOption) (
	*igv1.InstagramConnectionList, error) {
	list := &igv1.InstagramConnectionList{}
	if len(s.cfg.WatchNamespaces) == 0 {
		return list, lister.List(ctx, list, opts...)
	}
	for _, ns := range s.cfg.WatchNamespaces {
		part := &igv1.InstagramConnectionList{}
		if err := lister.List(ctx, part, append(slices.Clone(opts), client.InNamespace(ns))...); err != nil {
			return nil, err
		}
		list.Items = append(list.Items, part.Items...)
	}
	return list, nil
}

// watches reports whether the server may read connections in namespace ns.
func (s *server) watches(ns string) bool {
	return len(s.cfg.WatchNamespaces) == 0 || slices.Contains(s.cfg.WatchNamespaces, ns)
}
