package callback

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// UserIDIndex is the field index, on the manager's cache of connections, by
// spec.instagramUserID; IndexConnections registers it and Config.Cache reads it.
const UserIDIndex = "spec.instagramUserID"

// IndexConnections registers UserIDIndex with the manager's cache. Call it before the
// manager starts, when Config.Cache is the manager's cache.
func IndexConnections(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &igv1.InstagramConnection{}, UserIDIndex, connectionUserIDs)
}

// connectionUserIDs is the index function of UserIDIndex: the pinned account, if any.
func connectionUserIDs(o client.Object) []string {
	c, ok := o.(*igv1.InstagramConnection)
	if !ok || c.Spec.InstagramUserID == "" {
		return nil
	}
	return []string{c.Spec.InstagramUserID}
}
