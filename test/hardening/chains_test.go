package hardening

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// chainRecorder watches the stack's Secrets and keeps, for each, every token it held, in
// order. With the sandbox's list of every token it minted, that tells which refreshes were
// stored, which were made again because a kill or an outage lost the first result, and
// which refreshed a token that was not due.
type chainRecorder struct {
	mu     sync.Mutex
	chains map[string][]string
}

// recordChains starts a chainRecorder for the stack's namespace; it stops with t.
func (s *stack) recordChains(t *testing.T) *chainRecorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &chainRecorder{chains: map[string][]string{}}
	ca, err := cache.New(s.c.cp.Config, cache.Options{Scheme: scheme,
		DefaultNamespaces: map[string]cache.Config{s.ns: {}}})
	if err != nil {
		t.Fatal(err)
	}
	inf, err := ca.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    r.observe,
		UpdateFunc: func(_, obj any) { r.observe(obj) },
	}); err != nil {
		t.Fatal(err)
	}
	go func() { _ = ca.Start(ctx) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, 30*time.Second)
	defer syncCancel()
	if !ca.WaitForCacheSync(syncCtx) {
		t.Fatal("the Secret watch did not sync")
	}
	return r
}

// observe appends a Secret's token to its chain when it changed.
func (r *chainRecorder) observe(obj any) {
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return
	}
	tok := string(secret.Data[igv1.SecretKeyAccessToken])
	if tok == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	chain := r.chains[secret.Name]
	if len(chain) == 0 || chain[len(chain)-1] != tok {
		r.chains[secret.Name] = append(chain, tok)
	}
}

// chain returns the tokens a Secret held.
func (r *chainRecorder) chain(secret string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.chains[secret]...)
}

// refreshAccount is the outcome of accountRefreshes.
type refreshAccount struct {
	// stored counts refreshes whose token reached the Secret.
	stored int
	// redone counts tokens a refresh minted that never reached the Secret: the manager
	// was killed, or the API server was away, between Instagram's answer and the write,
	// and the old token was refreshed again.
	redone int
	// redoneAt lists when each redone refresh was minted, per connection, for the log.
	redoneAt []string
	// needless lists refreshes of a token younger than dueAge.
	needless []string
}

// accountRefreshes compares, for each named connection, the tokens its Secret held with
// the tokens the sandbox minted for its account. Each connection must have an account of
// its own. A refresh is needless when the token it replaced was younger than 85% of dueAge
// (the schedule's two thirds of the lifetime): the manager dates a token from the start of
// the reconcile that refreshed it, to the second, so its schedule runs up to a second or
// two (its own rate limiter's wait) ahead of the sandbox's clock, whereas a refresh made
// twice because a crash lost track of the first comes seconds after it. The first refresh
// of an imported token, whose expiry is unknown, is always due.
func (s *stack) accountRefreshes(ctx context.Context, t *testing.T, r *chainRecorder, dueAge time.Duration,
	names ...string) refreshAccount {
	t.Helper()
	issued, err := s.sb.Control.Issued(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info := map[string]sandbox.TokenInfo{}
	byUser := map[string][]string{}
	for _, tok := range issued.Tokens {
		ti, found, err := s.sb.Control.InspectToken(ctx, tok)
		if err != nil || !found {
			t.Fatalf("inspect an issued token: found %v, %v", found, err)
		}
		info[tok] = ti
		if ti.Kind == sandbox.LongLived {
			byUser[ti.UserID] = append(byUser[ti.UserID], tok)
		}
	}
	// The recorder's watch reconnects after an outage in its own time: wait until it has
	// seen every Secret's current token.
	NewWithT(t).Eventually(func(g Gomega) {
		for _, name := range names {
			conn, err := s.connection(ctx, name)
			g.Expect(err).NotTo(HaveOccurred())
			tok, _, err := s.token(ctx, conn)
			g.Expect(err).NotTo(HaveOccurred())
			// Compared here, not by a matcher, so that no token reaches the failure message.
			chain := r.chain(conn.Spec.SecretName)
			caughtUp := len(chain) > 0 && chain[len(chain)-1] == tok
			g.Expect(caughtUp).To(BeTrue(), "%s behind", name)
		}
	}).WithTimeout(60*time.Second).WithPolling(200*time.Millisecond).Should(Succeed(), "the Secret watch caught up")
	var out refreshAccount
	for _, name := range names {
		conn, err := s.connection(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		chain := r.chain(conn.Spec.SecretName)
		inChain := map[string]bool{}
		for i, tok := range chain {
			inChain[tok] = true
			if i == 0 {
				continue
			}
			old := chain[i-1]
			out.stored++
			s.mu.Lock()
			imported := s.imported[old]
			s.mu.Unlock()
			if age := info[tok].IssuedAt.Sub(info[old].IssuedAt); !imported && age < dueAge*85/100 {
				out.needless = append(out.needless, fmt.Sprintf("%s: refresh %d replaced a token %s old (due at %s)",
					name, i, age.Round(100*time.Millisecond), dueAge))
			}
		}
		for _, tok := range byUser[conn.Status.UserID] {
			s.mu.Lock()
			imported := s.imported[tok]
			s.mu.Unlock()
			if !inChain[tok] && !imported && info[tok].IssuedAt.After(info[chain[0]].IssuedAt) {
				out.redone++
				out.redoneAt = append(out.redoneAt, name+"@"+info[tok].IssuedAt.UTC().Format("15:04:05.000"))
			}
		}
	}
	sort.Strings(out.needless)
	return out
}
