/*
Copyright 2026 The igconnect Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// The names the operator's installation uses by default (config/default and the chart).
const (
	// DefaultManagerNamespace is where config/default and the chart's examples install it.
	DefaultManagerNamespace = "igconnect-system"
	// LeaseName is the manager's leader-election Lease (--leader-elect).
	LeaseName = "igconnect.instagram.igconnect.dev"
	// managerSelector selects the manager's Deployment in config/default and the chart.
	managerSelector = "app.kubernetes.io/name=igconnect"
	// appIDEnv is the manager's environment variable for the operator's Instagram App ID.
	appIDEnv = "INSTAGRAM_CLIENT_ID"
	// maxClockSkew is the skew between this machine and the API server worth a warning:
	// login states and tickets live minutes.
	maxClockSkew = 30 * time.Second
)

// Check results.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "FAIL"
	checkSkip = "skip"
)

// CheckResult is one line of `check`.
type CheckResult struct {
	Name, Result, Detail string
}

type checkOptions struct {
	managerNamespace string
	callbackURL      string
	timeout          time.Duration
}

func newCheckCommand(env *Env) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check an installation: CRD, manager, callback server, app credentials, clock",
		Long: "check looks at what igconnect needs: the CRD installed and served, the manager ready (its Deployment " +
			"and the leader Lease in --manager-namespace), the callback server's /healthz (at --callback-url, or " +
			"derived from a connection's authorizationURL), the app credentials (the operator's app Secret and each " +
			"connection's appSecretRef in the namespace, or every namespace with -A) and the clock skew between this " +
			"machine and the API server. It exits non-zero when a check fails.",
		Example: `  kubectl igconnect check
  kubectl igconnect check --manager-namespace igconnect-system --callback-url https://ig.example.com -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return env.check(cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.managerNamespace, "manager-namespace", DefaultManagerNamespace, "the namespace the manager runs in")
	cmd.Flags().StringVar(&o.callbackURL, "callback-url", "", "the callback server's base URL (default: from a connection's authorizationURL)")
	cmd.Flags().BoolP("all-namespaces", "A", false, "check the connections of every namespace")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 10*time.Second, "how long each network check may take")
	return cmd
}

func (e *Env) check(cmd *cobra.Command, o *checkOptions) error {
	ctx := cmd.Context()
	cfg, err := e.restConfig()
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("connect to the cluster: %w", err)
	}
	ns, err := e.namespace()
	if err != nil {
		return err
	}
	all, _ := cmd.Flags().GetBool("all-namespaces")
	if all {
		ns = ""
	}
	now := e.now()
	conns, listErr := listConnections(ctx, c, ns)
	manager, deploy := checkManager(ctx, c, o.managerNamespace, now)
	apps := checkAppCredentials(ctx, c, deploy, conns, listErr)
	results := make([]CheckResult, 0, 3+len(manager)+len(apps))
	results = append(results, checkCRD(cfg))
	results = append(results, manager...)
	results = append(results, checkCallback(ctx, o, conns, listErr))
	results = append(results, apps...)
	results = append(results, checkClock(ctx, cfg, e.Clock.Now, o.timeout))
	if err := printChecks(e.Streams.Out, results); err != nil {
		return err
	}
	var failed []string
	for _, r := range results {
		if r.Result == checkFail {
			failed = append(failed, r.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d check(s) failed: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

func listConnections(ctx context.Context, c client.Client, ns string) ([]igv1.InstagramConnection, error) {
	list := &igv1.InstagramConnectionList{}
	var opts []client.ListOption
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := c.List(ctx, list, opts...); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// checkCRD asks discovery whether the API server serves InstagramConnections: that is the
// CRD installed, established and served in v1alpha1, and needs no right to read CRDs.
func checkCRD(cfg *rest.Config) CheckResult {
	r := CheckResult{Name: "CRD"}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		r.Result, r.Detail = checkFail, err.Error()
		return r
	}
	gv := igv1.GroupVersion.String()
	list, err := dc.ServerResourcesForGroupVersion(gv)
	if err != nil {
		r.Result = checkFail
		r.Detail = fmt.Sprintf("%s is not served: %v (install it: make install, or the Helm chart with crds.enabled)", gv, err)
		return r
	}
	for _, res := range list.APIResources {
		if res.Name == "instagramconnections" {
			r.Result, r.Detail = checkOK, fmt.Sprintf("instagramconnections.%s served in %s", igv1.GroupVersion.Group, igv1.GroupVersion.Version)
			return r
		}
	}
	r.Result, r.Detail = checkFail, fmt.Sprintf("%s is served without instagramconnections: an old or foreign CRD", gv)
	return r
}

// checkManager looks for the manager's Deployment and its leader Lease. Either proves a
// running manager: a Deployment with ready replicas, or a Lease renewed within its duration
// (a manager run outside the cluster with --leader-elect has only the Lease).
func checkManager(ctx context.Context, c client.Client, ns string, now time.Time) ([]CheckResult, *appsv1.Deployment) {
	dep := CheckResult{Name: "manager Deployment"}
	var found *appsv1.Deployment
	deps := &appsv1.DeploymentList{}
	sel, _ := parseSelector(managerSelector)
	switch err := c.List(ctx, deps, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: sel}); {
	case err != nil:
		dep.Result, dep.Detail = checkWarn, fmt.Sprintf("cannot list Deployments in %s: %v", ns, err)
	case len(deps.Items) == 0:
		dep.Result, dep.Detail = checkSkip, fmt.Sprintf("no Deployment labelled %s in %s (a manager outside the cluster, "+
			"or another --manager-namespace)", managerSelector, ns)
	default:
		found = &deps.Items[0]
		d := found
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		dep.Detail = fmt.Sprintf("%s/%s: %d/%d ready", ns, d.Name, d.Status.ReadyReplicas, want)
		dep.Result = checkOK
		if d.Status.ReadyReplicas == 0 {
			dep.Result = checkFail
		}
	}

	lease := CheckResult{Name: "manager leader"}
	l := &coordinationv1.Lease{}
	switch err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: LeaseName}, l); {
	case apierrors.IsNotFound(err):
		lease.Result = checkWarn
		lease.Detail = fmt.Sprintf("no Lease %s/%s: no manager runs with --leader-elect in this namespace", ns, LeaseName)
	case err != nil:
		lease.Result, lease.Detail = checkWarn, fmt.Sprintf("cannot read Lease %s/%s: %v", ns, LeaseName, err)
	default:
		lease.Result, lease.Detail = leaseState(l, now)
	}
	// With neither a ready Deployment nor a held Lease there is no sign of a manager.
	if dep.Result != checkOK && lease.Result != checkOK {
		lease.Result = checkFail
	}
	return []CheckResult{dep, lease}, found
}

// leaseState judges a leader Lease: held and renewed within its duration.
func leaseState(l *coordinationv1.Lease, now time.Time) (string, string) {
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	if holder == "" || l.Spec.RenewTime == nil {
		return checkWarn, "the Lease has no holder: no manager leads"
	}
	duration := 15 * time.Second
	if l.Spec.LeaseDurationSeconds != nil {
		duration = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	age := now.Sub(l.Spec.RenewTime.Time)
	if age > duration {
		return checkWarn, fmt.Sprintf("held by %s but not renewed for %s (lease %s): the leader is gone", holder,
			HumanDuration(age), duration)
	}
	return checkOK, fmt.Sprintf("held by %s, renewed %s", holder, Relative(now, l.Spec.RenewTime.Time))
}

// checkCallback GETs the callback server's /healthz.
func checkCallback(ctx context.Context, o *checkOptions, conns []igv1.InstagramConnection, listErr error) CheckResult {
	r := CheckResult{Name: "callback server"}
	base := o.callbackURL
	from := "--callback-url"
	if base == "" {
		for _, conn := range conns {
			if b := callbackBase(conn.Status.AuthorizationURL); b != "" {
				base, from = b, "the authorizationURL of "+conn.Namespace+"/"+conn.Name
				break
			}
		}
	}
	if base == "" {
		r.Result = checkSkip
		r.Detail = "no connection has an authorizationURL to find it from: pass --callback-url"
		if listErr != nil {
			r.Detail = fmt.Sprintf("cannot list connections (%v): pass --callback-url", listErr)
		}
		return r
	}
	target := strings.TrimSuffix(base, "/") + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		r.Result, r.Detail = checkFail, fmt.Sprintf("%s from %s is not a URL: %v", base, from, err)
		return r
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.Result, r.Detail = checkFail, fmt.Sprintf("GET %s (from %s): %v", target, from, err)
		return r
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.Result, r.Detail = checkFail, fmt.Sprintf("GET %s (from %s): %s", target, from, resp.Status)
		return r
	}
	r.Result, r.Detail = checkOK, fmt.Sprintf("GET %s: %s (from %s)", target, resp.Status, from)
	return r
}

// callbackBase returns the callback server's base URL from an authorizationURL
// (<public-url>/auth/<login>/start?ticket=...): everything before /auth/.
func callbackBase(authorizationURL string) string {
	u, err := url.Parse(authorizationURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	i := strings.Index(u.Path, "/auth/")
	if i < 0 {
		return ""
	}
	return u.Scheme + "://" + u.Host + u.Path[:i]
}

// checkAppCredentials checks the operator's app Secret (from the manager Deployment's
// INSTAGRAM_CLIENT_ID reference) and each connection's appSecretRef. It reads only whether
// the keys are there, never prints their values.
func checkAppCredentials(ctx context.Context, c client.Client, deploy *appsv1.Deployment,
	conns []igv1.InstagramConnection, listErr error) []CheckResult {
	op := CheckResult{Name: "operator's app"}
	switch ref := appSecretOf(deploy); {
	case deploy == nil:
		op.Result, op.Detail = checkSkip, "no manager Deployment to read it from (a manager outside the cluster reads "+
			appIDEnv+" from its environment)"
	case ref == nil:
		op.Result, op.Detail = checkWarn, "the manager Deployment sets no "+appIDEnv+" from a Secret: "+
			"connections without spec.appSecretRef get AppCredentialsMissing"
	default:
		op.Result, op.Detail = secretHasKeys(ctx, c, deploy.Namespace, ref.Name, igv1.AppSecretKeyClientID, igv1.AppSecretKeyClientSecret)
	}
	results := []CheckResult{op}
	if listErr != nil {
		return append(results, CheckResult{Name: "connections' apps", Result: checkWarn,
			Detail: fmt.Sprintf("cannot list connections: %v", listErr)})
	}
	for _, conn := range conns {
		id := conn.Namespace + "/" + conn.Name
		r := CheckResult{Name: "app of " + id}
		if conn.Spec.AppSecretRef != nil {
			r.Result, r.Detail = secretHasKeys(ctx, c, conn.Namespace, conn.Spec.AppSecretRef.Name,
				igv1.AppSecretKeyClientID, igv1.AppSecretKeyClientSecret)
		} else {
			r.Result, r.Detail = checkOK, "the operator's app"
		}
		if ready := readyReason(&conn); ready == igv1.ReasonAppCredentialsMissing {
			r.Result, r.Detail = checkFail, "Ready is False (AppCredentialsMissing): "+readyMessage(&conn)
		}
		results = append(results, r)
	}
	return results
}

// appSecretOf returns the Secret the Deployment's manager container reads INSTAGRAM_CLIENT_ID from.
func appSecretOf(d *appsv1.Deployment) *corev1.SecretKeySelector {
	if d == nil {
		return nil
	}
	for _, ctr := range d.Spec.Template.Spec.Containers {
		for _, env := range ctr.Env {
			if env.Name == appIDEnv && env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil {
				return env.ValueFrom.SecretKeyRef
			}
		}
	}
	return nil
}

func secretHasKeys(ctx context.Context, c client.Client, ns, name string, keys ...string) (string, string) {
	s := &corev1.Secret{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return checkFail, fmt.Sprintf("Secret %s/%s does not exist", ns, name)
		}
		return checkWarn, fmt.Sprintf("cannot read Secret %s/%s: %v", ns, name, err)
	}
	var missing []string
	for _, k := range keys {
		if len(s.Data[k]) == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return checkFail, fmt.Sprintf("Secret %s/%s lacks %s", ns, name, strings.Join(missing, " and "))
	}
	return checkOK, fmt.Sprintf("Secret %s/%s has %s", ns, name, strings.Join(keys, " and "))
}

// checkClock compares the API server's Date header with this machine's clock. The header
// has whole seconds, so skews under a second or two are noise.
func checkClock(ctx context.Context, cfg *rest.Config, now func() time.Time, timeout time.Duration) CheckResult {
	r := CheckResult{Name: "clock"}
	serverTime, local, err := serverDate(ctx, cfg, now, timeout)
	if err != nil {
		r.Result, r.Detail = checkWarn, fmt.Sprintf("cannot read the API server's time: %v", err)
		return r
	}
	skew := ClockSkew(local, serverTime)
	r.Result, r.Detail = JudgeSkew(skew)
	return r
}

// serverDate returns the API server's Date header on GET /version and the local time halfway
// through the request.
func serverDate(ctx context.Context, cfg *rest.Config, now func() time.Time, timeout time.Duration) (time.Time, time.Time, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/version", nil)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	sent := now()
	resp, err := hc.Do(req)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	received := now()
	_ = resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return time.Time{}, time.Time{}, errors.New("its answer has no valid Date header")
	}
	return date, sent.Add(received.Sub(sent) / 2), nil
}

// ClockSkew is how far the local clock is ahead of the server's (negative: behind). The
// server's Date has whole seconds, so the local reading is compared at the same precision.
func ClockSkew(local, server time.Time) time.Duration {
	return local.Truncate(time.Second).Sub(server)
}

// JudgeSkew says whether a clock skew matters.
func JudgeSkew(skew time.Duration) (string, string) {
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	switch {
	case abs <= time.Second:
		return checkOK, "this machine's clock agrees with the API server's (within a second)"
	case abs <= maxClockSkew:
		return checkOK, fmt.Sprintf("this machine's clock is %s %s the API server's", abs, dir)
	default:
		return checkWarn, fmt.Sprintf("this machine's clock is %s %s the API server's: times shown as \"in 3 hours\" "+
			"are off by as much; fix the clock (NTP)", abs.Round(time.Second), dir)
	}
}

func printChecks(w io.Writer, results []CheckResult) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	out := &output{w: tw}
	out.printf("CHECK\tRESULT\tDETAIL\n")
	for _, r := range results {
		out.printf("%s\t%s\t%s\n", r.Name, r.Result, r.Detail)
	}
	if out.err != nil {
		return out.err
	}
	return tw.Flush()
}

func readyReason(conn *igv1.InstagramConnection) string {
	return conditionSummary(conn.Status.Conditions, igv1.ConditionReady).Reason
}

func readyMessage(conn *igv1.InstagramConnection) string {
	return conditionSummary(conn.Status.Conditions, igv1.ConditionReady).Message
}

func parseSelector(s string) (labels.Selector, error) { return labels.Parse(s) }
