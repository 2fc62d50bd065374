package callback

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/signedrequest"
)

// namespacedRBAC is a reader that answers as the API server does for a manager bound only by
// Roles in its namespaces: a read or LIST anywhere else, or cluster-wide, is Forbidden. It
// records every refused request.
type namespacedRBAC struct {
	client.Reader
	allowed []string

	mu      sync.Mutex
	refused []string
}

func (r *namespacedRBAC) check(verb, ns string) error {
	if slices.Contains(r.allowed, ns) {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused = append(r.refused, verb+" in "+ns)
	return apierrors.NewForbidden(schema.GroupResource{Group: "instagram.igconnect.dev", Resource: "instagramconnections"},
		"", nil)
}

func (r *namespacedRBAC) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := r.check("get", key.Namespace); err != nil {
		return err
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

func (r *namespacedRBAC) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	lo := &client.ListOptions{}
	lo.ApplyOptions(opts)
	if err := r.check("list", lo.Namespace); err != nil {
		return err
	}
	return r.Reader.List(ctx, list, opts...)
}

func (r *namespacedRBAC) refusals() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.refused)
}

// With WatchNamespaces, Meta's callbacks list the connections of each watched namespace, from
// the cache and, when it has no match, from the API server: never cluster-wide, which a
// namespace-scoped manager may not. A connection in another namespace is not reached even
// when the request names its account and is signed by its app.
func TestMetaRequestsStayInTheWatchedNamespaces(t *testing.T) {
	for name, cache := range map[string]func(e *env) client.Reader{
		"the cache matches":   func(e *env) client.Reader { return e.kube },
		"the cache misses":    func(*env) client.Reader { return fake.NewClientBuilder().WithScheme(testScheme()).Build() },
		"no cache configured": func(*env) client.Reader { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			e := metaEnv(t) // connections in connNS and in team-b
			rbac := &namespacedRBAC{Reader: e.kube, allowed: []string{connNS, "team-c"}}
			cacheRBAC := &namespacedRBAC{Reader: cache(e), allowed: rbac.allowed}
			e.withConfig(func(c *Config) {
				c.WatchNamespaces = rbac.allowed
				c.APIReader = rbac
				c.Credentials.Reader = rbac
				c.Cache = nil
				if cacheRBAC.Reader != nil {
					c.Cache = cacheRBAC
				}
			})

			// App B's connection lives in team-b, which is not watched: nothing matches.
			before := e.snapshot()
			r := postSigned(e, DeauthorizePath, signedrequest.Sign(appBSecret, signedrequest.Payload{UserID: defaultUserID}))
			if r.status < 400 || r.status >= 500 {
				// Signed with a secret the watched namespaces do not know: refused as forged.
				t.Fatalf("app B's request: status %d body %s, want a client error", r.status, r.body)
			}
			if e.snapshot() != before || !e.hasToken("team-b", "acme-token") {
				t.Error("a request reached a connection outside the watched namespaces")
			}

			r = postSigned(e, DeauthorizePath, signedrequest.Sign(sandbox.DefaultClientSecret,
				signedrequest.Payload{UserID: defaultUserID}))
			if r.status != http.StatusOK || !strings.Contains(r.body, `"connections":1`) {
				t.Fatalf("operator's app: status %d body %s", r.status, r.body)
			}
			if e.hasToken(connNS, "ig-"+defaultUserID+"-token") {
				t.Error("the watched connection kept its token")
			}
			// A verified request that matches nothing anywhere lists the API server, per namespace.
			r = postSigned(e, DeauthorizePath, signedrequest.Sign(sandbox.DefaultClientSecret,
				signedrequest.Payload{UserID: "17841400000055555"}))
			if r.status != http.StatusOK || !strings.Contains(r.body, `"connections":0`) {
				t.Fatalf("unknown account: status %d body %s", r.status, r.body)
			}
			if got := append(rbac.refusals(), cacheRBAC.refusals()...); len(got) > 0 {
				t.Errorf("requests outside the watched namespaces: %v", got)
			}
		})
	}
}

// A ticket names its connection's namespace; one outside the watched namespaces (minted
// before the operator was restricted) is refused with a page that says why, and read nowhere.
func TestTicketOutsideTheWatchedNamespacesIsRefused(t *testing.T) {
	e := metaEnv(t)
	rbac := &namespacedRBAC{Reader: e.kube, allowed: []string{connNS}}
	e.withConfig(func(c *Config) {
		c.WatchNamespaces = rbac.allowed
		c.APIReader = rbac
	})
	acme := e.connection("team-b", "acme")
	before := e.snapshot()
	r := e.newBrowser().get(StartPath + "?ticket=" + e.ticketFor(acme))
	if r.status != http.StatusNotFound || !strings.Contains(pageText(r.body), "does not manage") {
		t.Fatalf("status %d, page %s", r.status, pageText(r.body))
	}
	if got := rbac.refusals(); len(got) > 0 {
		t.Errorf("the ticket's namespace was read: %v", got)
	}
	if e.snapshot() != before {
		t.Error("a refused ticket changed something")
	}
}
