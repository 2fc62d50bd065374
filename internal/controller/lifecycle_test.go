package controller

import (
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest/komega"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/sandbox"
)

var seq atomic.Int64

// fixture is one connection under test, with its own sandbox account.
type fixture struct {
	conn    *igv1.InstagramConnection
	account sandbox.Account
}

func newFixture() *fixture {
	n := seq.Add(1)
	acct := ig.AddAccount(sandbox.Account{Username: fmt.Sprintf("acct%d", n)})
	return &fixture{
		account: acct,
		conn: &igv1.InstagramConnection{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("conn-%d", n), Namespace: "default"},
			Spec:       igv1.InstagramConnectionSpec{SecretName: fmt.Sprintf("conn-%d-token", n)},
		},
	}
}

func (f *fixture) key() client.ObjectKey { return client.ObjectKeyFromObject(f.conn) }

func (f *fixture) secretKey() client.ObjectKey {
	return client.ObjectKey{Namespace: f.conn.Namespace, Name: f.conn.Spec.SecretName}
}

// issue mints a token for the fixture's account in the sandbox, issued age ago.
func (f *fixture) issue(kind sandbox.TokenKind, age time.Duration) string {
	tok, err := ig.IssueToken(sandbox.TokenRequest{Account: f.account.UserID, Kind: kind, IssuedAt: fakeClock.Now().Add(-age)})
	Expect(err).NotTo(HaveOccurred())
	return tok.AccessToken
}

// putToken creates or overwrites the Secret's access_token the way a person would.
func (f *fixture) putToken(token string, extra map[string]string) {
	s := &corev1.Secret{}
	err := k8sClient.Get(ctx, f.secretKey(), s)
	if err != nil {
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: f.secretKey().Name, Namespace: f.secretKey().Namespace}}
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	s.Data["access_token"] = []byte(token)
	for k, v := range extra {
		s.Data[k] = []byte(v)
	}
	if err != nil {
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
	} else {
		Expect(k8sClient.Update(ctx, s)).To(Succeed())
	}
}

func (f *fixture) create() {
	Expect(k8sClient.Create(ctx, f.conn)).To(Succeed())
	DeferCleanup(func() { _ = k8sClient.Delete(ctx, f.conn) })
}

// poke changes an annotation so the reconciler runs at the fake clock's current time; it
// returns the connection's resourceVersion after the change.
func (f *fixture) poke() string {
	c := &igv1.InstagramConnection{}
	Expect(k8sClient.Get(ctx, f.key(), c)).To(Succeed())
	patch := client.MergeFrom(c.DeepCopy())
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations["test.igconnect.dev/poke"] = fmt.Sprint(seq.Add(1))
	Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
	return c.ResourceVersion
}

// reconciledAt waits until a reconcile that read the connection at resourceVersion rv (or
// later) has finished: what was queued for the connection before then has run.
func (f *fixture) reconciledAt(rv string) {
	EventuallyWithOffset(1, func() bool { return reconciles.finishedWith(f.key(), rv) }).Should(BeTrue(),
		"the reconcile of the connection's change must finish")
}

// settle pokes the connection and waits until that poke was reconciled: the sync point
// before a negative assertion.
func (f *fixture) settle() { f.reconciledAt(f.poke()) }

func (f *fixture) get() *igv1.InstagramConnection {
	c := &igv1.InstagramConnection{}
	Expect(k8sClient.Get(ctx, f.key(), c)).To(Succeed())
	return c
}

func (f *fixture) secret() *corev1.Secret {
	s := &corev1.Secret{}
	Expect(k8sClient.Get(ctx, f.secretKey(), s)).To(Succeed())
	return s
}

// connection returns a komega function that reads the connection, for Eventually.
func (f *fixture) connection() func() (client.Object, error) {
	return komega.Object(&igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Namespace: f.key().Namespace,
		Name: f.key().Name}})
}

// tokenSecret returns a komega function that reads the token Secret, for Eventually.
func (f *fixture) tokenSecret() func() (client.Object, error) {
	return komega.Object(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.secretKey().Namespace,
		Name: f.secretKey().Name}})
}

// haveCondition matches a connection whose condition typ has the status and reason.
func haveCondition(typ string, status metav1.ConditionStatus, reason string) OmegaMatcher {
	return HaveField("Status.Conditions", ContainElement(And(HaveField("Type", typ),
		HaveField("Status", status), HaveField("Reason", reason))))
}

// haveToken matches a Secret whose access_token matches m.
func haveToken(m OmegaMatcher) OmegaMatcher {
	return HaveField("Data", HaveKeyWithValue(igv1.SecretKeyAccessToken, WithTransform(func(b []byte) string {
		return string(b)
	}, m)))
}

// waitReady waits until Ready reaches want, "Status/Reason".
func (f *fixture) waitReady(want string) {
	status, reason, _ := strings.Cut(want, "/")
	EventuallyWithOffset(1, f.connection()).Should(haveCondition(igv1.ConditionReady, metav1.ConditionStatus(status), reason))
}

func (f *fixture) eventReasons() []string {
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(f.conn.Namespace))).To(Succeed())
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.Name == f.conn.Name && e.Regarding.Kind == "InstagramConnection" {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

// connectedMessages returns the messages of the connection's Connected events.
func (f *fixture) connectedMessages() func() []string {
	return func() []string {
		list := &eventsv1.EventList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(f.conn.Namespace))).To(Succeed())
		var messages []string
		for _, e := range list.Items {
			if e.Regarding.Name == f.conn.Name && e.Regarding.Kind == "InstagramConnection" && e.Reason == igv1.ReasonConnected {
				messages = append(messages, e.Note)
			}
		}
		return messages
	}
}

func calls(endpoint string) int { return ig.CallCount(endpoint) }

// expectIdle pokes the connection and checks that no Instagram call follows: none while its
// reconcile runs, none for a while after.
func (f *fixture) expectIdle() {
	before := ig.Calls()
	f.settle()
	Expect(ig.Calls()).To(Equal(before), "an idle connection must not call Instagram")
	Consistently(ig.Calls, "300ms", "50ms").Should(Equal(before), "an idle connection must not call Instagram")
}

var _ = Describe("A connection's whole life", Ordered, func() {
	var (
		f                          *fixture
		token                      string
		profile, exchange, refresh int
	)
	BeforeAll(func() {
		f = newFixture()
		token = f.issue(sandbox.LongLived, 10*day)
		f.putToken(token, nil)
		profile, exchange, refresh = calls(sandbox.EndpointProfile), calls(sandbox.EndpointTokenExchange), calls(sandbox.EndpointRefresh)
		f.create() // its cleanup runs after the whole container
	})

	It("imports a long-lived token a person put in the Secret, learning its expiry with a refresh", func() {
		f.waitReady("True/Connected")

		Expect(calls(sandbox.EndpointProfile)-profile).To(Equal(1), "validated once with /me")
		Expect(calls(sandbox.EndpointTokenExchange)-exchange).To(Equal(1), "tried once as a short-lived token")
		Expect(calls(sandbox.EndpointRefresh)-refresh).To(Equal(1), "refreshed once to learn the expiry")

		s := f.secret()
		Expect(string(s.Data["access_token"])).NotTo(Equal(token), "the refreshed token replaces the imported one")
		token = string(s.Data["access_token"])
		info, ok := ig.TokenInfo(token)
		Expect(ok).To(BeTrue())
		Expect(info.Valid).To(BeTrue())
		Expect(string(s.Data["token_type"])).To(Equal("bearer"))
		Expect(string(s.Data["user_id"])).To(Equal(f.account.UserID))
		Expect(string(s.Data["username"])).To(Equal(f.account.Username))
		Expect(string(s.Data["expires_at"])).To(Equal(info.ExpiresAt.UTC().Format(time.RFC3339)))
		Expect(s.Labels).To(HaveKeyWithValue(igv1.LabelManagedBy, igv1.ManagedByValue))
		Expect(s.Labels).To(HaveKeyWithValue(igv1.LabelConnection, f.conn.Name))
		Expect(metav1.GetControllerOf(s)).NotTo(BeNil())
		Expect(metav1.GetControllerOf(s).Name).To(Equal(f.conn.Name))

		c := f.get()
		Expect(c.Status.UserID).To(Equal(f.account.UserID), "the professional account id, exact beyond 2^53")
		Expect(c.Status.AppScopedUserID).To(Equal(f.account.AppScopedID))
		Expect(c.Status.Username).To(Equal(f.account.Username))
		Expect(c.Status.AccountType).To(Equal("BUSINESS"))
		Expect(c.Status.ExpiresAt.Time).To(BeTemporally("==", info.ExpiresAt.Truncate(time.Second)))
		Expect(c.Status.TokenIssuedAt.Time).To(BeTemporally("==", fakeClock.Now().Truncate(time.Second)))
		Expect(c.Status.NextRefreshTime.Time).To(BeTemporally("~", fakeClock.Now().Add(40*day), 5*time.Minute))
		Expect(c.Status.AuthorizationURL).To(BeEmpty())
		Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		for _, cond := range c.Status.Conditions {
			Expect(cond.ObservedGeneration).To(Equal(c.Generation))
		}
		Expect(meta.IsStatusConditionFalse(c.Status.Conditions, igv1.ConditionDegraded)).To(BeTrue())
		// One event tells both the import and the connection: Connected, naming the Secret.
		imported := And(HavePrefix("Imported the token of @%s (%s) from Secret %s; ", f.account.Username,
			f.account.UserID, f.secretKey().Name), ContainSubstring("token valid until"))
		Eventually(f.connectedMessages()).Should(ConsistOf(imported))
		f.settle()
		Consistently(f.connectedMessages(), "1s").Should(ConsistOf(imported))
	})

	It("makes no Instagram call while nothing is due but one validation after a long pause", func() {
		fakeClock.Step(39 * day)
		profile := calls(sandbox.EndpointProfile)
		f.settle()
		Eventually(f.connection()).Should(HaveField("Status.LastValidatedTime.Time", BeTemporally("==", fakeClock.Now())))
		Expect(calls(sandbox.EndpointProfile)-profile).To(Equal(1), "one validation, not one per day missed")
		f.expectIdle()
		f.expectIdle()
	})

	It("refreshes on day 40, exactly once", func() {
		next := f.get().Status.NextRefreshTime.Time
		fakeClock.SetTime(next)
		refresh := calls(sandbox.EndpointRefresh)
		f.poke()
		Eventually(f.tokenSecret()).ShouldNot(haveToken(Equal(token)))
		Expect(calls(sandbox.EndpointRefresh) - refresh).To(Equal(1))
		token = string(f.secret().Data["access_token"])
		Eventually(f.connection()).Should(HaveField("Status.LastRefreshTime.Time", BeTemporally("==", next.Truncate(time.Second))))
		Eventually(f.eventReasons).Should(ContainElement(igv1.ReasonRefreshed))
		f.expectIdle()
	})

	It("backs off when throttled, honouring Instagram's retry-after, and recovers", func() {
		fakeClock.SetTime(f.get().Status.NextRefreshTime.Time)
		Expect(ig.InjectFault(sandbox.Fault{Kind: sandbox.FaultThrottle, Endpoint: sandbox.EndpointRefresh, Count: 1,
			RegainAccessMinutes: 30})).To(Succeed())
		refresh := calls(sandbox.EndpointRefresh)
		f.poke()
		Eventually(f.connection()).Should(haveCondition(igv1.ConditionDegraded, metav1.ConditionTrue, igv1.ReasonRateLimited))
		c := f.get()
		Expect(meta.IsStatusConditionTrue(c.Status.Conditions, igv1.ConditionReady)).To(BeTrue(), "the token is still valid")
		Expect(c.Status.FailedRefreshAttempts).To(Equal(int32(1)))
		Expect(c.Status.NextRefreshTime.Time).To(BeTemporally("==", fakeClock.Now().Add(30*time.Minute).Truncate(time.Second)))
		Expect(calls(sandbox.EndpointRefresh) - refresh).To(Equal(1))
		Expect(string(f.secret().Data["access_token"])).To(Equal(token), "a failed refresh leaves the token alone")
		Eventually(f.eventReasons).Should(ContainElement(igv1.ReasonRateLimited))

		By("not calling again before the retry-after passes")
		fakeClock.Step(29 * time.Minute)
		f.expectIdle()

		By("recovering once it passes")
		fakeClock.Step(time.Minute)
		f.poke()
		Eventually(f.connection()).Should(HaveField("Status.FailedRefreshAttempts", BeZero()))
		Expect(meta.IsStatusConditionFalse(f.get().Status.Conditions, igv1.ConditionDegraded)).To(BeTrue())
		Expect(calls(sandbox.EndpointRefresh) - refresh).To(Equal(2))
		token = string(f.secret().Data["access_token"])
	})

	It("refreshes when asked by annotation, but not before the token is 24 hours old", func() {
		c := f.get()
		patch := client.MergeFrom(c.DeepCopy())
		c.Annotations[igv1.AnnotationRefreshRequestedAt] = "first"
		Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
		f.reconciledAt(c.ResourceVersion)
		Consistently(f.tokenSecret(), "300ms").Should(haveToken(Equal(token)),
			"the token is minutes old: a refresh must wait until it is 24 hours old")
		Expect(f.get().Status.NextRefreshTime.Time).To(BeTemporally("~", f.get().Status.TokenIssuedAt.Add(day), time.Second))

		fakeClock.Step(day)
		f.poke()
		Eventually(f.connection()).Should(HaveField("Status.LastHandledRefreshRequest", Equal("first")))
		Expect(string(f.secret().Data["access_token"])).NotTo(Equal(token))
		token = string(f.secret().Data["access_token"])
		f.expectIdle()
	})

	It("repairs the Secret's keys when a person edits them, without calling Instagram", func() {
		s := f.secret()
		s.Data["username"] = []byte("someone-else")
		s.Data["expires_at"] = []byte("garbage")
		before := ig.Calls()
		Expect(k8sClient.Update(ctx, s)).To(Succeed())
		Eventually(f.tokenSecret()).Should(HaveField("Data", HaveKeyWithValue("username", BeEquivalentTo(f.account.Username))))
		Expect(string(f.secret().Data["expires_at"])).To(Equal(f.get().Status.ExpiresAt.UTC().Format(time.RFC3339)))
		Expect(ig.Calls()).To(Equal(before))
	})

	It("asks for a person, and stops calling Instagram, when the token is revoked", func() {
		Expect(ig.RevokeToken(token)).To(BeTrue())
		fakeClock.SetTime(f.get().Status.NextRefreshTime.Time)
		f.poke()
		f.waitReady("False/ReauthorizationRequired")
		c := f.get()
		Expect(c.Status.AuthorizationURL).To(HavePrefix(publicURL + "/auth/instagram/start?ticket="))
		stalled := meta.FindStatusCondition(c.Status.Conditions, igv1.ConditionStalled)
		Expect(stalled).NotTo(BeNil(), "a connection that needs a person is Stalled, so kstatus reports it as failed")
		Expect(stalled.Reason).To(Equal(igv1.ReasonReauthorizationRequired))
		Eventually(f.eventReasons).Should(ContainElement(igv1.ReasonReauthorizationRequired))
		// Instagram's own words tell the person what happened, and later reconciles keep them.
		readyMessage := func() string {
			return meta.FindStatusCondition(f.get().Status.Conditions, igv1.ConditionReady).Message
		}
		Expect(readyMessage()).To(ContainSubstring(sandbox.MsgLoggedOut))
		Expect(f.secret().Annotations).To(HaveKeyWithValue(igv1.AnnotationTokenRejectedMessage,
			ContainSubstring(sandbox.MsgLoggedOut)), "the words are kept on the Secret, beside the rejection")
		c = f.get()
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Scopes = []igv1.Scope{igv1.ScopeBasic} // the default, spelled out: a new generation
		Expect(k8sClient.Patch(ctx, c, patch)).To(Succeed())
		Eventually(f.connection()).Should(HaveField("Status.ObservedGeneration", Equal(c.Generation)))
		Expect(readyMessage()).To(ContainSubstring(sandbox.MsgLoggedOut))

		fakeClock.Step(10 * day)
		f.expectIdle()
	})

	It("is connected again once a person puts a new token in the Secret", func() {
		token = f.issue(sandbox.ShortLived, 0)
		f.putToken(token, nil)
		f.waitReady("True/Connected")
		Expect(meta.FindStatusCondition(f.get().Status.Conditions, igv1.ConditionStalled)).To(BeNil())
		s := f.secret()
		Expect(string(s.Data["access_token"])).NotTo(Equal(token), "a short-lived token is exchanged for a long-lived one")
		info, _ := ig.TokenInfo(string(s.Data["access_token"]))
		Expect(info.Kind).To(Equal(sandbox.LongLived))
		Expect(s.Annotations).NotTo(HaveKey(igv1.AnnotationTokenRejected))
		token = string(s.Data["access_token"])
		// Ready turned True again and a token was imported: one event says both.
		Eventually(f.connectedMessages()).Should(HaveLen(2))
		f.settle()
		Consistently(f.connectedMessages(), "1s").Should(And(HaveLen(2),
			HaveEach(HavePrefix("Imported the token of @%s", f.account.Username))))
	})

	It("reports TokenExpired when the token runs out while Instagram keeps failing", func() {
		Expect(ig.InjectFault(sandbox.Fault{Kind: sandbox.FaultServerError, Endpoint: sandbox.EndpointRefresh})).To(Succeed())
		DeferCleanup(ig.ClearFaults)
		expires := f.get().Status.ExpiresAt.Time
		fakeClock.SetTime(f.get().Status.NextRefreshTime.Time)
		f.poke()
		Eventually(f.connection()).Should(haveCondition(igv1.ConditionDegraded, metav1.ConditionTrue,
			igv1.ReasonInstagramUnavailable))
		Expect(meta.IsStatusConditionTrue(f.get().Status.Conditions, igv1.ConditionReady)).To(BeTrue())

		fakeClock.SetTime(expires.Add(time.Second))
		f.poke()
		f.waitReady("False/TokenExpired")
		f.expectIdle()
	})

	It("awaits a login when the Secret is deleted", func() {
		Expect(k8sClient.Delete(ctx, f.secret())).To(Succeed())
		f.waitReady("False/AwaitingAuthorization")
		cond := meta.FindStatusCondition(f.get().Status.Conditions, igv1.ConditionReady)
		Expect(cond.Message).To(ContainSubstring("was deleted"))
		Expect(f.get().Status.ExpiresAt).To(BeNil())
	})
})

var _ = Describe("A connection applied from Git with no token", func() {
	It("offers a login through an authorization URL whose ticket names it", func() {
		f := newFixture()
		f.create()
		f.waitReady("False/AwaitingAuthorization")
		c := f.get()
		Expect(meta.FindStatusCondition(c.Status.Conditions, igv1.ConditionStalled)).To(BeNil(),
			"awaiting the first login is progress, not a failure")
		u, err := url.Parse(c.Status.AuthorizationURL)
		Expect(err).NotTo(HaveOccurred())
		Expect(u.Scheme + "://" + u.Host + u.Path).To(Equal(publicURL + "/auth/instagram/start"))
		ref, err := signer.VerifyTicket(u.Query().Get("ticket"))
		Expect(err).NotTo(HaveOccurred())
		Expect(ref).To(Equal(oauthstate.TicketRef{Namespace: c.Namespace, Name: c.Name, UID: c.UID}))
		Expect(strings.Contains(c.Status.AuthorizationURL, sandbox.DefaultClientSecret)).To(BeFalse())

		f.expectIdle()
	})

	It("reports AppCredentialsMissing when its app Secret does not exist", func() {
		f := newFixture()
		f.conn.Spec.AppSecretRef = &igv1.SecretReference{Name: "no-such-app"}
		f.create()
		f.waitReady("False/AppCredentialsMissing")
		cond := meta.FindStatusCondition(f.get().Status.Conditions, igv1.ConditionReady)
		Expect(cond.Message).To(ContainSubstring("no-such-app"))
		Expect(f.get().Status.AuthorizationURL).To(BeEmpty())
	})
})

var _ = Describe("Secrets igconnect must not take", func() {
	It("leaves a Secret owned by something else untouched and reports SecretConflict", func() {
		f := newFixture()
		owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: f.conn.Name + "-owner", Namespace: "default"}}
		Expect(k8sClient.Create(ctx, owner)).To(Succeed())
		foreign := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: f.conn.Spec.SecretName, Namespace: "default",
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name,
					UID: owner.UID, Controller: ptr.To(true)}}},
			Data: map[string][]byte{"access_token": []byte("not-ours")},
		}
		Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
		f.create()
		f.waitReady("False/SecretConflict")
		s := f.secret()
		Expect(s.ResourceVersion).To(Equal(foreign.ResourceVersion), "a foreign Secret is never written")
		Eventually(f.eventReasons).Should(ContainElement(igv1.ReasonSecretConflict))
	})

	It("refuses to adopt an unrelated Secret that holds no token", func() {
		f := newFixture()
		other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: f.conn.Spec.SecretName, Namespace: "default"},
			Data: map[string][]byte{"password": []byte("hunter2")}}
		Expect(k8sClient.Create(ctx, other)).To(Succeed())
		f.create()
		f.waitReady("False/SecretConflict")
		Expect(f.secret().ResourceVersion).To(Equal(other.ResourceVersion))
	})
})

var _ = Describe("A pinned connection", func() {
	It("refuses a token of another account with AccountMismatch and stops calling Instagram", func() {
		f := newFixture()
		f.conn.Spec.InstagramUserID = "17841499999999999"
		f.putToken(f.issue(sandbox.LongLived, 2*day), map[string]string{
			"expires_at": fakeClock.Now().Add(58 * day).UTC().Format(time.RFC3339)})
		profile := calls(sandbox.EndpointProfile)
		f.create()
		f.waitReady("False/AccountMismatch")
		cond := meta.FindStatusCondition(f.get().Status.Conditions, igv1.ConditionReady)
		Expect(cond.Message).To(ContainSubstring(f.account.UserID))
		Expect(cond.Message).To(ContainSubstring("17841499999999999"))
		Expect(calls(sandbox.EndpointProfile) - profile).To(Equal(1))
		f.expectIdle()
	})
})

var _ = Describe("An imported token with a known expiry", func() {
	It("is validated once and not refreshed until due", func() {
		f := newFixture()
		expires := fakeClock.Now().Add(50 * day).UTC().Truncate(time.Second)
		f.putToken(f.issue(sandbox.LongLived, 10*day), map[string]string{"expires_at": expires.Format(time.RFC3339)})
		before := ig.Calls()
		f.create()
		f.waitReady("True/Connected")
		after := ig.Calls()
		Expect(after[sandbox.EndpointProfile] - before[sandbox.EndpointProfile]).To(Equal(1))
		Expect(after[sandbox.EndpointRefresh] - before[sandbox.EndpointRefresh]).To(BeZero())
		Expect(after[sandbox.EndpointTokenExchange] - before[sandbox.EndpointTokenExchange]).To(BeZero())
		c := f.get()
		Expect(c.Status.ExpiresAt.Time).To(BeTemporally("==", expires))
		Expect(c.Status.NextRefreshTime.Time).To(BeTemporally("~", expires.Add(-480*time.Hour), 5*time.Minute))

		// A person replaces the token of a connection that is Ready: Ready does not change,
		// and the import still gets its Connected event.
		later := expires.Add(5 * day)
		f.putToken(f.issue(sandbox.LongLived, 5*day), map[string]string{"expires_at": later.Format(time.RFC3339)})
		Eventually(f.connection()).Should(HaveField("Status.ExpiresAt.Time", BeTemporally("==", later)))
		Eventually(f.connectedMessages()).Should(HaveLen(2))
		f.settle()
		Consistently(f.connectedMessages(), "1s").Should(And(HaveLen(2),
			HaveEach(HavePrefix("Imported the token of @%s", f.account.Username))))
	})

	It("that Instagram refuses to refresh for being under 24 hours old is estimated and said so", func() {
		f := newFixture()
		f.putToken(f.issue(sandbox.LongLived, time.Hour), nil)
		f.create()
		f.waitReady("True/Connected")
		c := f.get()
		cond := meta.FindStatusCondition(c.Status.Conditions, igv1.ConditionReady)
		Expect(cond.Message).To(ContainSubstring("estimated"))
		Expect(c.Status.ExpiresAt.Time).To(BeTemporally("==", fakeClock.Now().Add(59*day).Truncate(time.Second)))
		Expect(f.secret().Annotations).To(HaveKeyWithValue(igv1.AnnotationExpiryEstimated, "true"))
		f.expectIdle()
	})
})
