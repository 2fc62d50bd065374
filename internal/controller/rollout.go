package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// Rollout restarts: spec.rolloutRestartTargets are restarted once per new token, the way
// `kubectl rollout restart` does it (the restartedAt annotation on the pod template).
//
// What survives a crash is on the cluster. status.rolloutRestartedFor holds the fingerprint
// of the token the targets were last restarted for; a restart is owed while the Secret holds
// a token with another fingerprint. So the reconciler learns of a new token from the Secret,
// whoever wrote it (a login writes it from the callback server), and a resync, an operator
// restart, a hand edit put back or a rewrite with the same token owe nothing.
//
// The annotation's value is the token's issue time (the Secret's token-issued-at), not the
// clock: a restart retried after a crash between the workload patches and the status write
// sends the same patches, which change nothing and so roll out nothing a second time.

// DefaultRolloutRestartMinInterval is the least time between two restarts of one
// connection's targets: rotations within it are coalesced into one restart at its end.
const DefaultRolloutRestartMinInterval = time.Minute

// AnnotationRestartedAt is the pod template annotation `kubectl rollout restart` sets.
const AnnotationRestartedAt = "kubectl.kubernetes.io/restartedAt"

// The reconciler restarts workloads only by patching their pod template.
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=patch

// rolloutOutcome is what rolloutRestart did, for status (setRolloutStatus) and events.
type rolloutOutcome struct {
	// record is status.rolloutRestartedFor as it is to be; set is false to leave it alone.
	record string
	set    bool
	// restartedAt is when the targets were restarted; zero when they were not.
	restartedAt time.Time
	// restarted and missing name the targets patched and those that do not exist.
	restarted, missing []string
}

// rolloutRestart restarts the connection's targets when the Secret holds a token they were
// not restarted for, at most once per minimum interval. It runs after the token's steps,
// on what they stored: a token not yet adopted (an import being validated) owes nothing yet.
func (r *InstagramConnectionReconciler) rolloutRestart(ctx context.Context, s *scope) error {
	conn := s.conn
	targets := conn.Spec.RolloutRestartTargets
	current := ""
	if s.stored && s.rec.HasToken() {
		current = tokensecret.Fingerprint(s.rec.AccessToken)
	}
	switch d := decideRollout(rolloutInput{
		Targets:      len(targets),
		Current:      current,
		RestartedFor: conn.Status.RolloutRestartedFor,
		HadToken:     s.before.Status.TokenIssuedAt != nil,
		Last:         conn.Status.LastRolloutRestartTime,
		Now:          s.now,
		MinInterval:  r.rolloutMinInterval(),
	}); d.action {
	case rolloutNone:
		return nil
	case rolloutForget, rolloutAdopt:
		s.rollout = rolloutOutcome{record: d.record, set: true}
		return nil
	case rolloutLater:
		s.result.RequeueAfter = earliestRequeue(s.result.RequeueAfter, d.after)
		return nil
	}
	stamp := s.rec.IssuedAt
	if stamp.IsZero() {
		stamp = s.now
	}
	out := rolloutOutcome{record: current, set: true, restartedAt: s.now}
	for _, t := range targets {
		err := r.restartTarget(ctx, conn.Namespace, t, stamp)
		switch {
		case apierrors.IsNotFound(err):
			out.missing = append(out.missing, describeTarget(t))
		case err != nil:
			// Nothing is recorded: the next attempt sends the same patches again.
			return fmt.Errorf("restart %s: %w", describeTarget(t), err)
		default:
			out.restarted = append(out.restarted, describeTarget(t))
		}
	}
	s.rollout = out
	logFrom(ctx).Info("Restarted workloads for a new token", "restarted", out.restarted, "missing", out.missing)
	return nil
}

// rolloutMinInterval is the configured interval, or the default.
func (r *InstagramConnectionReconciler) rolloutMinInterval() time.Duration {
	if r.RolloutRestartMinInterval > 0 {
		return r.RolloutRestartMinInterval
	}
	return DefaultRolloutRestartMinInterval
}

// restartTarget sets the restartedAt annotation of t's pod template with a merge patch: the
// only verb the operator has on workloads, and one that touches no other field.
func (r *InstagramConnectionReconciler) restartTarget(ctx context.Context, namespace string, t igv1.RolloutRestartTarget, at time.Time) error {
	var obj client.Object
	switch t.Kind {
	case igv1.RolloutRestartDeployment:
		obj = &appsv1.Deployment{}
	case igv1.RolloutRestartStatefulSet:
		obj = &appsv1.StatefulSet{}
	case igv1.RolloutRestartDaemonSet:
		obj = &appsv1.DaemonSet{}
	default:
		return fmt.Errorf("unknown kind %q", t.Kind) // the schema's enum rules it out
	}
	obj.SetNamespace(namespace)
	obj.SetName(t.Name)
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{AnnotationRestartedAt: at.UTC().Format(time.RFC3339)}}}}})
	if err != nil {
		return err
	}
	return r.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))
}

// setRolloutStatus records in status what rolloutRestart did.
func setRolloutStatus(conn *igv1.InstagramConnection, out rolloutOutcome) {
	if !out.set {
		return
	}
	conn.Status.RolloutRestartedFor = out.record
	if !out.restartedAt.IsZero() {
		conn.Status.LastRolloutRestartTime = timePtr(out.restartedAt)
	}
}

// emitRolloutEvents tells of a restart, and warns of targets that do not exist. A missing
// target is not retried: the restart is recorded as done, and a workload created later
// reads the current token when it starts.
func (r *InstagramConnectionReconciler) emitRolloutEvents(s *scope) {
	out := s.rollout
	if out.restartedAt.IsZero() {
		return
	}
	if len(out.restarted) > 0 {
		r.Recorder.Eventf(s.conn, nil, corev1.EventTypeNormal, igv1.ReasonRolloutRestarted, "RolloutRestart",
			"restarted %s for the new token", strings.Join(out.restarted, ", "))
	}
	if len(out.missing) > 0 {
		r.Recorder.Eventf(s.conn, nil, corev1.EventTypeWarning, igv1.ReasonRolloutTargetMissing, "RolloutRestart",
			"spec.rolloutRestartTargets names %s, which does not exist in namespace %s; not restarted",
			strings.Join(out.missing, ", "), s.conn.Namespace)
	}
}

// describeTarget names a target in events and logs: "Deployment/web".
func describeTarget(t igv1.RolloutRestartTarget) string { return string(t.Kind) + "/" + t.Name }

// earliestRequeue returns the sooner of two requeue delays, zero meaning none.
func earliestRequeue(a, b time.Duration) time.Duration {
	if a == 0 || (b > 0 && b < a) {
		return b
	}
	return a
}
