package e2e

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// tokenLifetime is the sandbox's long-lived token lifetime in the refresh specs. The
// default refreshBefore (480h) exceeds it, so the operator refreshes at two thirds of it:
// every 16s, which keeps the suite short and leaves 8s of margin before expiry.
const tokenLifetime = 24 * time.Second

var _ = Describe("igconnect with short token lifetimes", Ordered, func() {
	var s *stack

	BeforeAll(func() {
		s = startStack("e2e-refresh",
			[]string{"--account", "rita:17841400000000201", "--long-lived-ttl", tokenLifetime.String(), "--min-refresh-age", "1s"},
			[]string{"--min-refresh-age", "1s"})
	})

	It("refreshes the token at two thirds of its life, once per rotation", func() {
		rita := s.account("rita")
		name := "ig-" + rita.UserID
		s.expectConnectedPage(newBrowser().login(s.mgr.StartURL(), rita.UserID), rita, name)
		token := s.expectMountedReady(name, rita)
		Expect(s.calls(sandbox.EndpointRefresh)).To(BeZero())

		conn := s.connection(name)
		Expect(conn.Status.NextRefreshTime.Time).To(BeTemporally("~",
			conn.Status.TokenIssuedAt.Add(tokenLifetime*2/3), time.Second), "two thirds of the lifetime")

		for rotation := 1; rotation <= 2; rotation++ {
			By(fmt.Sprintf("waiting for rotation %d", rotation))
			previous := token
			Eventually(func() (string, error) { return s.tokenIn(name + "-token") }).
				WithTimeout(tokenLifetime).ShouldNot(Equal(previous))
			Expect(s.calls(sandbox.EndpointRefresh)).To(Equal(rotation), "one refresh call per rotation, no more")
			token = s.expectMountedReady(name, rita)

			conn = s.connection(name)
			Expect(conn.Status.LastRefreshTime).NotTo(BeNil())
			Expect(conn.Status.FailedRefreshAttempts).To(BeZero())
			Expect(conn.Status.ExpiresAt.Time).To(BeTemporally("~", conn.Status.TokenIssuedAt.Add(tokenLifetime), time.Second))
		}

		events := &eventsv1.EventList{}
		Expect(k8s.List(ctx, events, client.InNamespace(s.ns))).To(Succeed())
		refreshed := 0
		for _, e := range events.Items {
			if e.Regarding.Name == name && e.Reason == igv1.ReasonRefreshed {
				refreshed++
			}
		}
		Expect(refreshed).To(BeNumerically(">=", 1), "a Normal Refreshed event")
	})
})
