package hardening

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// rolloutTTL is the token lifetime of the rollout scenario: a refresh every 30 seconds,
// long enough that a killed manager is back and done before the next one.
const rolloutTTL = 45 * time.Second

// TestRolloutRestartAcrossKills runs the real bin/manager, with only config/rbac's
// permissions, on a connection whose spec.rolloutRestartTargets names a Deployment, and
// SIGKILLs it as soon as a refresh has written a new token to the Secret: before it
// restarted the Deployment, or after that and before its status write, wherever the kill
// lands. The next manager must restart the Deployment for that token exactly once.
// Rollouts are counted by the Deployment's metadata.generation, which the API server raises
// once per change of the pod template, so a repeated identical patch would not show but a
// second restart would.
func TestRolloutRestartAcrossKills(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "rollout")
	s := startStack(t, c, "rollout", stackOptions{ttl: rolloutTTL, accounts: 1,
		managerArgs: []string{"--rollout-restart-min-interval=1s"}})
	ctx := testContext(t, 5*time.Minute)
	deploy := s.createDeployment(ctx, t, "app")
	s.importConnection(ctx, t, "rolled", s.accounts[0].Username)
	conn, err := s.connection(ctx, "rolled")
	if err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(conn.DeepCopy())
	conn.Spec.RolloutRestartTargets = []igv1.RolloutRestartTarget{{Kind: igv1.RolloutRestartDeployment, Name: deploy.Name}}
	if err := s.c.kube.Patch(ctx, conn, patch); err != nil {
		t.Fatal(err)
	}
	s.settle(t, 60*time.Second, false, "rolled")
	// The targets arrived with or just after the import: either the import is restarted for
	// (a first token) or adopted (targets added to a connection with a token).
	base := s.awaitRestartedForSecret(ctx, t, "rolled", deploy)
	if base > 1 {
		t.Fatalf("the import restarted the Deployment %d times, want at most 1", base)
	}

	for i := range 2 {
		scenario(t, fmt.Sprintf("kill-after-rotation-%d", i+1), func(t *testing.T) {
			m := s.mgrs[0]
			old := s.secretToken(ctx, t, "rolled")
			NewWithT(t).Eventually(func() string { return s.secretToken(ctx, t, "rolled") }).
				WithTimeout(rolloutTTL).WithPolling(2*time.Millisecond).ShouldNot(Equal(old), "a refresh rotating the token")
			if err := m.Kill(); err != nil {
				t.Fatal(err)
			}
			report.fault("process manager SIGKILL after a token rotation")
			recorded := false
			if conn, err := s.connection(ctx, "rolled"); err == nil {
				recorded = conn.Status.RolloutRestartedFor == tokensecret.Fingerprint(s.secretToken(ctx, t, "rolled"))
			}
			t.Logf("killed the manager after the rotation: the Deployment restarted %d times of %d, status recording it: %t",
				s.restarts(ctx, t, deploy), base+int64(i)+1, recorded)
			if err := m.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := s.awaitRestartedForSecret(ctx, t, "rolled", deploy), base+int64(i)+1; got != want {
				t.Fatalf("the Deployment was restarted %d times, want exactly %d: one per rotation", got, want)
			}
		})
	}
}

// createDeployment creates a Deployment in the stack's namespace.
func (s *stack) createDeployment(ctx context.Context, t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.test/app:1"}}},
			},
		},
	}
	if err := s.c.kube.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// secretToken returns the token in the connection's Secret.
func (s *stack) secretToken(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	conn, err := s.connection(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.token(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// restarts returns how many times the Deployment's pod template changed since its creation.
func (s *stack) restarts(ctx context.Context, t *testing.T, d *appsv1.Deployment) int64 {
	t.Helper()
	got := &appsv1.Deployment{}
	if err := s.c.kube.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
		t.Fatal(err)
	}
	return got.Generation - 1
}

// awaitRestartedForSecret waits until the connection's status records the Secret's current
// token as restarted for (the sync point) and returns the Deployment's restarts.
func (s *stack) awaitRestartedForSecret(ctx context.Context, t *testing.T, name string, d *appsv1.Deployment) int64 {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		conn, err := s.connection(ctx, name)
		g.Expect(err).NotTo(HaveOccurred())
		tok, _, err := s.token(ctx, conn)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(conn.Status.RolloutRestartedFor).To(Equal(tokensecret.Fingerprint(tok)))
	}).WithTimeout(30*time.Second).WithPolling(50*time.Millisecond).Should(Succeed(),
		"status recording the restart for the Secret's token")
	return s.restarts(ctx, t, d)
}
