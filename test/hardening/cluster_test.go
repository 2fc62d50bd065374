package hardening

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// operatorNamespace is where every manager of the suite keeps its lease and state key.
const operatorNamespace = "igconnect-system"

// scheme knows the core types and InstagramConnection.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := igv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// cluster is a local control plane of the suite's own, with the CRD installed. Managers
// watch every namespace, so scenarios whose managers must not meet get their own cluster.
type cluster struct {
	name string
	dir  string
	cp   *devenv.ControlPlane
	// kube is an uncached admin client.
	kube client.Client
	// managerKubeconfig is the managers' kubeconfig: a user with only config/rbac's roles.
	managerKubeconfig string

	mu sync.Mutex
	// leaks accumulates the secrets of every sandbox this cluster's managers talked to
	// and the state key; logs lists every manager log file.
	leaks *devenv.LeakScanner
	logs  []string
}

// startCluster starts a control plane for t and scans it for leaks, then stops it, when t
// ends.
func startCluster(t *testing.T, name string) *cluster {
	t.Helper()
	requireBinaries(t)
	c := &cluster{name: name, dir: filepath.Join(workRoot, name), leaks: &devenv.LeakScanner{}}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cpLog, err := os.Create(filepath.Join(c.dir, "controlplane.log"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.cp, err = devenv.StartControlPlane(devenv.ControlPlaneOptions{
		AssetsDir:      assetsDir,
		CRDDirs:        []string{filepath.Join(repoRoot, "config", "crd", "bases")},
		KubeconfigPath: filepath.Join(c.dir, "kubeconfig"),
		Log:            cpLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.scanForLeaks(t)
		if err := c.cp.Stop(); err != nil {
			t.Errorf("stop the control plane: %v", err)
		}
		_ = cpLog.Close()
	})
	t.Logf("cluster %s up in %s; logs in %s", name, time.Since(start).Round(time.Millisecond), c.dir)
	c.kube, err = client.New(c.cp.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	c.ensureNamespace(t, operatorNamespace)
	c.managerKubeconfig = c.bindManagerRBAC(t)
	return c
}

// ensureNamespace creates a namespace unless it exists.
func (c *cluster) ensureNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.kube.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// scanForLeaks scans every manager log, connection and event of the cluster for the
// secrets of every sandbox it used and the state key. Zero findings are required.
func (c *cluster) scanForLeaks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := &corev1.Secret{}
	if err := c.kube.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "igconnect-state-key"}, key); err == nil {
		c.leaks.Add("state key", string(key.Data[oauthstate.SecretKey]))
	}
	texts, err := devenv.ClusterTexts(ctx, c.kube)
	if err != nil {
		t.Errorf("leak scan of cluster %s: %v", c.name, err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, path := range c.logs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("leak scan: %v", err)
			continue
		}
		texts["log "+filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path)] = string(b)
	}
	scanned, bytes := c.leaks.Scanned, c.leaks.Bytes
	found := c.leaks.ScanAll(texts)
	for _, l := range found {
		t.Errorf("LEAK in cluster %s: %s", c.name, l)
	}
	report.mu.Lock()
	report.leakTexts += c.leaks.Scanned - scanned
	report.leakBytes += c.leaks.Bytes - bytes
	report.leakValues += c.leaks.Values
	report.leakFindings += len(found)
	report.mu.Unlock()
	t.Logf("leak scan of cluster %s: %d texts, %d values, %d findings", c.name, len(texts), c.leaks.Values, len(found))
}

// stackOptions configure a stack.
type stackOptions struct {
	// ttl is the sandbox's long-lived token lifetime; refreshes come at two thirds of it.
	ttl time.Duration
	// replicas is the number of managers; more than one implies leader election.
	replicas int
	// leaderElect turns on --leader-elect.
	leaderElect bool
	// accounts is how many sandbox accounts to create besides the default one.
	accounts int
	// managerArgs are further flags for every manager.
	managerArgs []string
}

// stack is a sandbox and the managers pointed at it, in one cluster, with one namespace for
// the connections.
type stack struct {
	c        *cluster
	name     string
	sb       *devenv.Sandbox
	mgrs     []*devenv.Manager
	ns       string
	opts     stackOptions
	accounts []sandbox.Account
	// imported holds the tokens put into Secrets by importConnection: their first refresh
	// is due at once, whatever their age.
	mu       sync.Mutex
	imported map[string]bool
	// started counts the managers started, for their log names.
	started int
}

// minRefreshAge is the manager's and the sandbox's --min-refresh-age in the suite.
const minRefreshAge = time.Second

// startStack starts a sandbox and the managers in c, for t.
func startStack(t *testing.T, c *cluster, name string, o stackOptions) *stack {
	t.Helper()
	ctx := testContext(t, 2*time.Minute)
	if o.replicas == 0 {
		o.replicas = 1
	}
	s := &stack{c: c, name: name, ns: name, opts: o, imported: map[string]bool{}}
	c.ensureNamespace(t, s.ns)
	dir := filepath.Join(c.dir, name)
	var err error
	s.sb, err = devenv.StartSandbox(ctx, devenv.SandboxOptions{
		Binary:  filepath.Join(binDir, "instagram-sandbox"),
		LogFile: filepath.Join(dir, "sandbox.log"),
		Args:    []string{"--long-lived-ttl", o.ttl.String(), "--min-refresh-age", minRefreshAge.String()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The sandbox's secrets are wanted for the cluster's leak scan, which runs later.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if issued, err := s.sb.Control.Issued(ctx); err != nil {
			t.Errorf("list the sandbox's secrets: %v", err)
		} else {
			c.mu.Lock()
			c.leaks.AddIssued(issued)
			c.mu.Unlock()
		}
		for _, m := range s.mgrs {
			if err := m.Stop(); err != nil {
				t.Errorf("stop %s: %v", m.LogFile(), err)
			}
		}
		if err := s.sb.Stop(); err != nil {
			t.Errorf("stop the sandbox: %v", err)
		}
	})
	for i := 0; i < o.accounts; i++ {
		a, err := s.sb.Control.AddAccount(ctx, sandbox.Account{})
		if err != nil {
			t.Fatal(err)
		}
		s.accounts = append(s.accounts, a)
	}
	for i := 0; i < o.replicas; i++ {
		s.addManager(ctx, t, o.leaderElect)
	}
	return s
}

// addManager starts one more manager against the stack's sandbox.
func (s *stack) addManager(ctx context.Context, t *testing.T, leaderElect bool) *devenv.Manager {
	t.Helper()
	args := append([]string{"--min-refresh-age", minRefreshAge.String()}, s.opts.managerArgs...)
	if leaderElect {
		args = append(args, "--leader-elect")
	}
	log := filepath.Join(s.c.dir, s.name, fmt.Sprintf("manager-%d.log", s.started))
	s.started++
	s.c.mu.Lock()
	s.c.logs = append(s.c.logs, log)
	s.c.mu.Unlock()
	m, err := devenv.StartManager(ctx, devenv.ManagerOptions{
		Binary:              filepath.Join(binDir, "manager"),
		Kubeconfig:          s.c.managerKubeconfig,
		LogFile:             log,
		Namespace:           operatorNamespace,
		ConnectionNamespace: s.ns,
		PublicURL:           "http://" + publicHost,
		SandboxURL:          s.sb.URL,
		Args:                args,
		StopGrace:           10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.mgrs = append(s.mgrs, m)
	return m
}

// importConnection creates a connection the way a person imports a token: a Secret with
// just access_token (a long-lived token of account, as the App Dashboard gives) and a
// connection naming it. The token is remembered in s.imported.
func (s *stack) importConnection(ctx context.Context, t *testing.T, name, account string) {
	t.Helper()
	// Older than the sandbox's minimum refresh age, so the refresh the import makes (the
	// only call that reports an expiry) succeeds.
	tok, err := s.sb.Control.IssueToken(ctx, devenv.TokenRequest{Account: account, Age: "5s"})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.imported[tok.AccessToken] = true
	s.mu.Unlock()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-token", Namespace: s.ns},
		Data:       map[string][]byte{igv1.SecretKeyAccessToken: []byte(tok.AccessToken)},
	}
	if err := s.c.kube.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec:       igv1.InstagramConnectionSpec{SecretName: name + "-token"},
	}
	if err := s.c.kube.Create(ctx, conn); err != nil {
		t.Fatal(err)
	}
}

// connection reads a connection.
func (s *stack) connection(ctx context.Context, name string) (*igv1.InstagramConnection, error) {
	conn := &igv1.InstagramConnection{}
	return conn, s.c.kube.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, conn)
}

// token returns the access token in a connection's Secret ("" when there is none).
func (s *stack) token(ctx context.Context, conn *igv1.InstagramConnection) (string, *corev1.Secret, error) {
	secret := &corev1.Secret{}
	if err := s.c.kube.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: conn.Spec.SecretName}, secret); err != nil {
		return "", nil, err
	}
	return string(secret.Data[igv1.SecretKeyAccessToken]), secret, nil
}

// lostToken marks a consistency failure where the connection has no usable token.
type lostToken struct{ msg string }

func (e lostToken) Error() string { return e.msg }

// consistent checks one connection: Ready=True/Connected for its current generation, not
// Degraded (unless allowDegraded), its Secret holding a token the sandbox says is valid
// and belongs to the account status names, and status, Secret and sandbox agreeing on the
// account and the expiry.
func (s *stack) consistent(ctx context.Context, name string, allowDegraded bool) error {
	conn, err := s.connection(ctx, name)
	if err != nil {
		return err
	}
	tok, secret, err := s.token(ctx, conn)
	if apierrors.IsNotFound(err) {
		return lostToken{fmt.Sprintf("%s: the token Secret is gone", name)}
	}
	if err != nil {
		return err
	}
	if tok == "" {
		return lostToken{fmt.Sprintf("%s: the Secret holds no token", name)}
	}
	info, found, err := s.sb.Control.InspectToken(ctx, tok)
	switch {
	case err != nil:
		return err
	case !found:
		return lostToken{fmt.Sprintf("%s: the Secret holds a token the sandbox never issued", name)}
	case !info.Valid:
		return lostToken{fmt.Sprintf("%s: the Secret's token is not valid (%s)", name, info.Reason)}
	}
	ready := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != igv1.ReasonConnected {
		return fmt.Errorf("%s: Ready is %s", name, describeCondition(ready))
	}
	if ready.ObservedGeneration != conn.Generation || conn.Status.ObservedGeneration != conn.Generation {
		return fmt.Errorf("%s: status is for generation %d, the connection is at %d", name,
			conn.Status.ObservedGeneration, conn.Generation)
	}
	if d := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionDegraded); !allowDegraded &&
		(d == nil || d.Status != metav1.ConditionFalse) {
		return fmt.Errorf("%s: Degraded is %s", name, describeCondition(d))
	}
	data := func(k string) string { return string(secret.Data[k]) }
	st := conn.Status
	switch {
	case st.UserID != info.UserID || data(igv1.SecretKeyUserID) != info.UserID:
		return fmt.Errorf("%s: user id status %q, Secret %q, token's %q", name, st.UserID, data(igv1.SecretKeyUserID), info.UserID)
	case st.Username != info.Username || data(igv1.SecretKeyUsername) != info.Username:
		return fmt.Errorf("%s: username status %q, Secret %q, token's %q", name, st.Username, data(igv1.SecretKeyUsername), info.Username)
	case data(igv1.SecretKeyTokenType) != "bearer":
		return fmt.Errorf("%s: token_type %q", name, data(igv1.SecretKeyTokenType))
	case st.ExpiresAt == nil || st.NextRefreshTime == nil || st.TokenIssuedAt == nil:
		return fmt.Errorf("%s: status lacks expiresAt, tokenIssuedAt or nextRefreshTime", name)
	case data(igv1.SecretKeyExpiresAt) != st.ExpiresAt.UTC().Format(time.RFC3339):
		return fmt.Errorf("%s: expires_at in the Secret %q, in status %s", name, data(igv1.SecretKeyExpiresAt), st.ExpiresAt.UTC().Format(time.RFC3339))
	case secret.Annotations[igv1.AnnotationTokenIssuedAt] != st.TokenIssuedAt.UTC().Format(time.RFC3339):
		return fmt.Errorf("%s: status describes another token than the Secret's (issued %s vs %s)", name,
			st.TokenIssuedAt.UTC().Format(time.RFC3339), secret.Annotations[igv1.AnnotationTokenIssuedAt])
	// The manager dates a refreshed token from the start of the reconcile that refreshed it,
	// to the second, so its expiry may come early by the call's duration (at most the
	// client's 10s timeout), never late.
	case st.ExpiresAt.After(info.ExpiresAt.Add(time.Second)) || st.ExpiresAt.Time.Before(info.ExpiresAt.Add(-11*time.Second)):
		return fmt.Errorf("%s: status says the token expires at %s, the sandbox at %s", name, st.ExpiresAt.UTC(), info.ExpiresAt.UTC())
	case !metav1.IsControlledBy(secret, conn):
		return fmt.Errorf("%s: the Secret is not owned by the connection", name)
	case st.NextRefreshTime.After(info.ExpiresAt):
		return fmt.Errorf("%s: next refresh %s after the expiry %s", name, st.NextRefreshTime.UTC(), info.ExpiresAt.UTC())
	}
	return nil
}

// settle waits until every named connection is consistent, then records the checks; on a
// timeout it counts the connections left without a usable token as lost and fails t.
func (s *stack) settle(t *testing.T, timeout time.Duration, allowDegraded bool, names ...string) {
	t.Helper()
	ctx := testContext(t, timeout+30*time.Second)
	var last map[string]error
	ok := quiet.Eventually(func() bool {
		last = map[string]error{}
		for _, n := range names {
			if err := s.consistent(ctx, n, allowDegraded); err != nil {
				last[n] = err
			}
		}
		return len(last) == 0
	}).WithTimeout(timeout).WithPolling(200 * time.Millisecond).Should(BeTrue())
	if ok {
		report.checked(len(names))
		return
	}
	lost := 0
	var msgs []string
	for _, err := range last {
		if _, isLost := err.(lostToken); isLost {
			lost++
		}
		msgs = append(msgs, err.Error())
	}
	sort.Strings(msgs)
	report.lost(lost)
	t.Fatalf("%d of %d connections not consistent after %s (%d tokens lost):\n  %s", len(last), len(names),
		timeout, lost, strings.Join(msgs, "\n  "))
}

// quiet is Gomega for the waits whose callers report a timeout themselves, from what they
// saw last (settle counts the tokens lost, say): its Eventually and Consistently return
// false instead of failing the test. Every other wait uses NewWithT(t).
var quiet = NewGomega(func(string, ...int) {})

// describeCondition renders a condition for a failure message.
func describeCondition(c *metav1.Condition) string {
	if c == nil {
		return "missing"
	}
	return fmt.Sprintf("%s/%s (%s)", c.Status, c.Reason, c.Message)
}

// calls returns the sandbox's call counts per endpoint.
func (s *stack) calls(ctx context.Context, t *testing.T) map[string]int {
	t.Helper()
	c, err := s.sb.Control.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requestRefresh sets the refresh annotation of a connection to a new value.
func (s *stack) requestRefresh(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	conn, err := s.connection(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(conn.DeepCopy())
	if conn.Annotations == nil {
		conn.Annotations = map[string]string{}
	}
	conn.Annotations[igv1.AnnotationRefreshRequestedAt] = time.Now().UTC().Format(time.RFC3339Nano)
	if err := s.c.kube.Patch(ctx, conn, patch); err != nil {
		t.Fatal(err)
	}
}

// events returns the events about a connection, oldest first.
func (s *stack) events(ctx context.Context, name string) ([]eventsv1.Event, error) {
	list := &eventsv1.EventList{}
	if err := s.c.kube.List(ctx, list, client.InNamespace(s.ns)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "InstagramConnection" && e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreationTimestamp.Before(&out[j].CreationTimestamp) })
	return out, nil
}

// hasEvent reports whether a connection has an event of type and reason.
func (s *stack) hasEvent(ctx context.Context, name, typ, reason string) bool {
	evs, err := s.events(ctx, name)
	if err != nil {
		return false
	}
	for _, e := range evs {
		if e.Type == typ && e.Reason == reason {
			return true
		}
	}
	return false
}
