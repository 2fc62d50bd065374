package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/login"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// readyImport creates a connection whose imported long-lived token has a known expiry 50
// days out, so nothing but validations is due for weeks, and waits until it is Ready.
func readyImport() *fixture {
	f := newFixture()
	expires := fakeClock.Now().Add(50 * day).UTC().Truncate(time.Second)
	f.putToken(f.issue(sandbox.LongLived, 10*day), map[string]string{"expires_at": expires.Format(time.RFC3339)})
	f.create()
	f.waitReady("True/Connected")
	Eventually(f.connection()).Should(HaveField("Status.LastValidatedTime", Not(BeNil())),
		"the import's /me is its first validation")
	return f
}

// nextValidation is when the suite's policy (the default: every 24 hours plus the
// connection's offset) next validates the connection's token.
func (f *fixture) nextValidation() time.Time {
	c := f.get()
	return DefaultPolicy().DecideValidation(login.ValidationInput{Now: fakeClock.Now(),
		LastValidated: c.Status.LastValidatedTime.Time, IssuedAt: c.Status.TokenIssuedAt.Time, UID: c.UID}).At
}

// report sets the rejection report annotation to value, as an app would.
func (f *fixture) report(value string) string {
	c := f.get()
	patch := client.MergeFrom(c.DeepCopy())
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[igv1.AnnotationTokenRejectedAt] = value
	Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
	return c.ResourceVersion
}

var _ = Describe("Validating a Ready token (issue 16)", Ordered, func() {
	var f *fixture
	BeforeAll(func() { f = readyImport() })

	It("validates it exactly once per interval over several days, never before", func() {
		profile := calls(sandbox.EndpointProfile)
		for i := 1; i <= 5; i++ {
			at := f.nextValidation()
			Expect(at.Sub(f.get().Status.LastValidatedTime.Time)).To(BeNumerically(">=", day))
			fakeClock.SetTime(at.Add(-time.Second))
			f.expectIdle()
			fakeClock.SetTime(at)
			f.poke()
			Eventually(f.connection()).Should(HaveField("Status.LastValidatedTime.Time", BeTemporally("==", at)))
			Expect(calls(sandbox.EndpointProfile)-profile).To(Equal(i), "one /me per day")
			f.expectIdle()
		}
		c := f.get()
		Expect(meta.IsStatusConditionTrue(c.Status.Conditions, igv1.ConditionReady)).To(BeTrue())
		Expect(c.Status.LastRefreshTime).To(BeNil(), "validating is not refreshing")
	})

	It("reports a token revoked by a password change at the next validation, not before", func() {
		Expect(ig.ChangePassword(f.account.UserID)).To(Succeed())
		at := f.nextValidation()
		fakeClock.SetTime(at.Add(-time.Second))
		f.expectIdle()
		Expect(meta.IsStatusConditionTrue(f.get().Status.Conditions, igv1.ConditionReady)).To(BeTrue(),
			"nothing tells the operator before the validation is due")

		fakeClock.SetTime(at)
		f.poke()
		f.waitReady("False/ReauthorizationRequired")
		ready := meta.FindStatusCondition(f.get().Status.Conditions, igv1.ConditionReady)
		Expect(ready.Message).To(ContainSubstring(sandbox.MsgPasswordChanged), "Instagram's words")
		Expect(f.get().Status.AuthorizationURL).NotTo(BeEmpty())
		Expect(f.secret().Annotations).To(HaveKeyWithValue(igv1.AnnotationTokenRejected, igv1.ReasonReauthorizationRequired))

		By("making no more calls for the dead token")
		fakeClock.Step(3 * day)
		f.expectIdle()
	})
})

var _ = Describe("An app's rejection report", func() {
	It("validates at once, and a second report within 5 minutes waits", func() {
		f := readyImport()
		profile := calls(sandbox.EndpointProfile)
		fakeClock.Step(10 * time.Minute)

		f.reconciledAt(f.report("2026-11-01T12:10:00Z"))
		Eventually(f.connection()).Should(HaveField("Status.LastHandledRejectionReport", "2026-11-01T12:10:00Z"))
		Expect(calls(sandbox.EndpointProfile) - profile).To(Equal(1))

		By("a second report within the rate limit waits")
		fakeClock.Step(time.Minute)
		f.reconciledAt(f.report("again"))
		f.expectIdle()
		Expect(f.get().Status.LastHandledRejectionReport).To(Equal("2026-11-01T12:10:00Z"))
		Expect(calls(sandbox.EndpointProfile) - profile).To(Equal(1))

		By("and is acted on once 5 minutes passed since the last validation")
		fakeClock.Step(4 * time.Minute)
		f.poke()
		Eventually(f.connection()).Should(HaveField("Status.LastHandledRejectionReport", "again"))
		Expect(calls(sandbox.EndpointProfile) - profile).To(Equal(2))
		f.expectIdle()

		By("a report of a revoked token makes it ReauthorizationRequired at once")
		fakeClock.Step(5 * time.Minute)
		Expect(ig.ChangePassword(f.account.UserID)).To(Succeed())
		f.report("dead")
		f.waitReady("False/ReauthorizationRequired")
		Expect(f.get().Status.LastHandledRejectionReport).To(Equal("dead"))
	})
})

var _ = Describe("A validation that fails for a reason worth retrying", func() {
	It("backs off with the shared back-off and keeps Ready True", func() {
		f := readyImport()
		Expect(ig.InjectFault(sandbox.Fault{Kind: sandbox.FaultThrottle, Endpoint: sandbox.EndpointProfile, Count: 1})).To(Succeed())
		DeferCleanup(ig.ClearFaults)
		profile := calls(sandbox.EndpointProfile)
		validated := f.get().Status.LastValidatedTime.Time
		fakeClock.SetTime(f.nextValidation())
		f.poke()
		Eventually(f.connection()).Should(haveCondition(igv1.ConditionDegraded, metav1.ConditionTrue, igv1.ReasonRateLimited))
		c := f.get()
		Expect(meta.IsStatusConditionTrue(c.Status.Conditions, igv1.ConditionReady)).To(BeTrue(), "the token may well be fine")
		Expect(c.Status.FailedRefreshAttempts).To(Equal(int32(1)))
		Expect(c.Status.NextRefreshTime.Time).To(BeTemporally("==", fakeClock.Now().Add(time.Minute).Truncate(time.Second)))
		Expect(c.Status.LastValidatedTime.Time).To(BeTemporally("==", validated))

		By("not calling again during the back-off")
		fakeClock.Step(59 * time.Second)
		f.expectIdle()

		By("validating again once it ends, and recovering")
		fakeClock.Step(time.Second)
		f.poke()
		Eventually(f.connection()).Should(HaveField("Status.FailedRefreshAttempts", BeZero()))
		c = f.get()
		Expect(meta.IsStatusConditionFalse(c.Status.Conditions, igv1.ConditionDegraded)).To(BeTrue())
		Expect(c.Status.LastValidatedTime.Time).To(BeTemporally("==", fakeClock.Now().Truncate(time.Second)))
		Expect(c.Status.NextRefreshTime.Time).To(BeTemporally(">", fakeClock.Now().Add(20*day)), "the refresh schedule is back")
		Expect(calls(sandbox.EndpointProfile) - profile).To(Equal(2))
	})
})
