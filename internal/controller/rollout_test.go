package controller

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/sandbox"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

// Restarts are counted on the API server: a workload's metadata.generation goes up by one
// for every change of its spec, and a patch that sets the restartedAt annotation to the
// value it already has changes nothing. So generation-1 is exactly the number of rollouts
// the operator caused, whatever the test saw in between.

// workloads creates a Deployment, a StatefulSet and a DaemonSet named after prefix and
// returns them with the targets that name them.
func workloads(prefix string) ([]client.Object, []igv1.RolloutRestartTarget) {
	labels := map[string]string{"app": prefix}
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.test/app:1"}}},
	}
	selector := &metav1.LabelSelector{MatchLabels: labels}
	meta := func(kind string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: prefix + "-" + kind, Namespace: "default"}
	}
	objs := []client.Object{
		&appsv1.Deployment{ObjectMeta: meta("deploy"), Spec: appsv1.DeploymentSpec{Selector: selector, Template: template}},
		&appsv1.StatefulSet{ObjectMeta: meta("sts"), Spec: appsv1.StatefulSetSpec{Selector: selector, Template: template}},
		&appsv1.DaemonSet{ObjectMeta: meta("ds"), Spec: appsv1.DaemonSetSpec{Selector: selector, Template: template}},
	}
	kinds := []igv1.RolloutRestartKind{igv1.RolloutRestartDeployment, igv1.RolloutRestartStatefulSet, igv1.RolloutRestartDaemonSet}
	targets := make([]igv1.RolloutRestartTarget, 0, len(objs))
	for i, o := range objs {
		Expect(k8sClient.Create(ctx, o)).To(Succeed())
		DeferCleanup(func() { _ = k8sClient.Delete(ctx, o) })
		targets = append(targets, igv1.RolloutRestartTarget{Kind: kinds[i], Name: o.GetName()})
	}
	return objs, targets
}

// restarts returns, per workload, how many times its pod template changed.
func restarts(objs []client.Object) func() []int64 {
	return func() []int64 {
		out := make([]int64, 0, len(objs))
		for _, o := range objs {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(o), o)).To(Succeed())
			out = append(out, o.GetGeneration()-1)
		}
		return out
	}
}

// each is the same count for all three workloads.
func each(n int64) []int64 { return []int64{n, n, n} }

// restartedAt returns the restartedAt annotation of a Deployment's pod template.
func restartedAt(o client.Object) string {
	d := &appsv1.Deployment{}
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(o), d)).To(Succeed())
	return d.Spec.Template.Annotations[AnnotationRestartedAt]
}

// login writes a new token into the fixture's Secret the way the callback server does,
// through the Writer's Replace, issued at the fake clock's time.
func (f *fixture) login() {
	token := f.issue(sandbox.LongLived, 0)
	rec := tokensecret.Read(f.secret()).WithToken(instagram.LongLivedToken{AccessToken: token, ExpiresIn: 60 * day},
		fakeClock.Now(), tokensecret.DefaultTokenLifetime)
	w := &tokensecret.Writer{Client: k8sClient, Reader: k8sClient}
	_, err := w.Replace(ctx, f.get(), rec)
	Expect(err).NotTo(HaveOccurred())
}

// events returns the messages of the connection's events with reason.
func (f *fixture) events(reason string) func() []string {
	return func() []string {
		list := &eventsv1.EventList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(f.conn.Namespace))).To(Succeed())
		var notes []string
		for _, e := range list.Items {
			if e.Regarding.Name == f.conn.Name && e.Reason == reason {
				notes = append(notes, e.Note)
			}
		}
		return notes
	}
}

// expectRestarts has the connection reconciled at the fake clock's time and checks, after a
// sync point, that the counts are exactly want and stay so.
func (f *fixture) expectRestarts(objs []client.Object, want []int64) {
	f.settle()
	EventuallyWithOffset(1, restarts(objs)).Should(Equal(want))
	f.settle()
	ConsistentlyWithOffset(1, restarts(objs), "300ms", "50ms").Should(Equal(want))
}

var _ = Describe("Rollout restarts", Ordered, func() {
	var (
		f    *fixture
		objs []client.Object
	)
	BeforeAll(func() {
		f = newFixture()
		objs, f.conn.Spec.RolloutRestartTargets = workloads(f.conn.Name)
		f.putToken(f.issue(sandbox.LongLived, 10*day), nil)
		f.create()
	})

	It("restarts each target once for an imported first token", func() {
		f.waitReady("True/Connected")
		f.expectRestarts(objs, each(1))
		s, c := f.secret(), f.get()
		Expect(c.Status.RolloutRestartedFor).To(Equal(tokensecret.Fingerprint(string(s.Data[igv1.SecretKeyAccessToken]))))
		Expect(c.Status.LastRolloutRestartTime.Time).To(BeTemporally("==", fakeClock.Now().Truncate(time.Second)))
		Expect(restartedAt(objs[0])).To(Equal(s.Annotations[igv1.AnnotationTokenIssuedAt]),
			"the restart is stamped with the token's issue time, so a repeated patch is the same patch")
		Eventually(f.events(igv1.ReasonRolloutRestarted)).Should(HaveLen(1))
	})

	It("restarts nothing on a resync, a hand edit put back, or a rewrite with the same token", func() {
		f.expectRestarts(objs, each(1))

		By("a person editing a key, which the operator puts back")
		s := f.secret()
		s.Data[igv1.SecretKeyUsername] = []byte("someone-else")
		Expect(k8sClient.Update(ctx, s)).To(Succeed())
		Eventually(f.tokenSecret()).Should(HaveField("Data", HaveKeyWithValue(igv1.SecretKeyUsername,
			BeEquivalentTo(f.account.Username))))
		f.expectRestarts(objs, each(1))

		By("the Secret rewritten with the same token")
		s = f.secret()
		s.Labels["example.com/team"] = "web"
		Expect(k8sClient.Update(ctx, s)).To(Succeed())
		f.expectRestarts(objs, each(1))
	})

	It("restarts nothing when a new manager starts on the same cluster", func() {
		fresh := freshReconciler()
		_, err := fresh.Reconcile(ctx, ctrl.Request{NamespacedName: f.key()})
		Expect(err).NotTo(HaveOccurred())
		f.expectRestarts(objs, each(1))
	})

	It("restarts each target once for a refresh", func() {
		fakeClock.Step(day + time.Minute)
		c := f.get()
		patch := client.MergeFrom(c.DeepCopy())
		c.Annotations = map[string]string{igv1.AnnotationRefreshRequestedAt: "rotate"}
		Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
		Eventually(f.connection()).Should(HaveField("Status.LastHandledRefreshRequest", Equal("rotate")))
		f.expectRestarts(objs, each(2))
		Eventually(f.events(igv1.ReasonRolloutRestarted)).Should(HaveLen(2))
	})

	It("restarts each target once for a login, which another writer stores", func() {
		fakeClock.Step(2 * time.Minute)
		f.login()
		f.expectRestarts(objs, each(3))
	})

	It("coalesces rotations inside the window into one restart at its end", func() {
		fakeClock.Step(2 * time.Minute)
		f.login()
		f.expectRestarts(objs, each(4))
		for range 2 {
			fakeClock.Step(10 * time.Second)
			f.login()
			f.expectRestarts(objs, each(4))
		}
		Expect(f.get().Status.RolloutRestartedFor).NotTo(Equal(tokensecret.Fingerprint(string(f.secret().Data[igv1.SecretKeyAccessToken]))),
			"the last token is owed a restart")

		fakeClock.Step(DefaultRolloutRestartMinInterval)
		f.expectRestarts(objs, each(5))
		Expect(f.get().Status.RolloutRestartedFor).To(Equal(tokensecret.Fingerprint(string(f.secret().Data[igv1.SecretKeyAccessToken]))))
	})

	It("does not restart twice when a manager restarted the targets and died before recording it", func() {
		// A rotation inside the window: the running manager owes a restart and waits.
		fakeClock.Step(2 * time.Minute)
		f.login()
		f.expectRestarts(objs, each(6))
		fakeClock.Step(10 * time.Second)
		f.login()
		f.expectRestarts(objs, each(6))

		// What a manager killed between its workload patches and its status write leaves
		// behind: the targets restarted for the Secret's token, status not told.
		dying := freshReconciler()
		issued := tokensecret.Read(f.secret()).IssuedAt
		for _, t := range f.get().Spec.RolloutRestartTargets {
			Expect(dying.restartTarget(ctx, f.conn.Namespace, t, issued)).To(Succeed())
		}
		Expect(restarts(objs)()).To(Equal(each(7)))

		// The next manager finds the restart owed and sends the same patches: no rollout.
		fakeClock.Step(DefaultRolloutRestartMinInterval)
		f.poke()
		Eventually(f.connection()).Should(HaveField("Status.RolloutRestartedFor",
			Equal(tokensecret.Fingerprint(string(f.secret().Data[igv1.SecretKeyAccessToken])))))
		f.expectRestarts(objs, each(7))
	})
})

var _ = Describe("A rollout restart target that does not exist", func() {
	It("is warned about, and the others are still restarted, once", func() {
		f := newFixture()
		objs, targets := workloads(f.conn.Name)
		missing := igv1.RolloutRestartTarget{Kind: igv1.RolloutRestartDeployment, Name: f.conn.Name + "-absent"}
		f.conn.Spec.RolloutRestartTargets = append([]igv1.RolloutRestartTarget{missing}, targets...)
		f.putToken(f.issue(sandbox.LongLived, 10*day), nil)
		f.create()
		f.waitReady("True/Connected")
		f.expectRestarts(objs, each(1))
		Eventually(f.events(igv1.ReasonRolloutTargetMissing)).Should(ConsistOf(
			fmt.Sprintf("spec.rolloutRestartTargets names Deployment/%s, which does not exist in namespace default; "+
				"not restarted", missing.Name)))
		f.settle()
		Consistently(f.events(igv1.ReasonRolloutTargetMissing), "300ms", "50ms").Should(HaveLen(1),
			"a missing target is told once, not retried in a loop")
	})
})

// freshReconciler is another manager's reconciler on the same cluster: the same settings,
// none of the running one's memory.
func freshReconciler() *InstagramConnectionReconciler {
	r := reconciles.r
	fresh := &InstagramConnectionReconciler{Client: k8sClient, APIReader: k8sClient, Recorder: r.Recorder,
		Clock: r.Clock, Login: r.Login, Credentials: r.Credentials, Tickets: r.Tickets, PublicURL: r.PublicURL,
		Policy: r.Policy}
	Expect(fresh.complete()).To(Succeed())
	return fresh
}
