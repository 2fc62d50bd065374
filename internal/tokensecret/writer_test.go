package tokensecret_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

const ns = "default"

var issued = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// newConn is a connection with a name and Secret of its own; the Writer needs only its
// name, UID and spec, so it is not created.
func newConn() *igv1.InstagramConnection {
	name := "c" + string(uuid.NewUUID())[:8]
	return &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uuid.NewUUID()},
		Spec:       igv1.InstagramConnectionSpec{SecretName: name + "-token"},
	}
}

func record(token string) tokensecret.Record {
	return tokensecret.Record{AccessToken: token, IssuedAt: issued, ExpiresAt: issued.Add(tokensecret.DefaultTokenLifetime),
		UserID: "17841400000000001", Username: "acme", GrantedScopes: []string{"instagram_business_basic"}}
}

func secretOf(ctx context.Context, conn *igv1.InstagramConnection) *corev1.Secret {
	GinkgoHelper()
	s := &corev1.Secret{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: conn.Spec.SecretName}, s)).To(Succeed())
	return s
}

// byHand creates the Secret as a person would, with kubectl's field manager.
func byHand(ctx context.Context, conn *igv1.InstagramConnection, mutate func(*corev1.Secret)) *corev1.Secret {
	GinkgoHelper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: conn.Spec.SecretName},
		Data: map[string][]byte{"access_token": []byte("IGAAbyhand")}}
	if mutate != nil {
		mutate(s)
	}
	Expect(k8s.Create(ctx, s, client.FieldOwner("kubectl-create"))).To(Succeed())
	return s
}

var _ = Describe("Writer", func() {
	It("creates the Secret, owned by the connection, as igconnect's field manager", func(ctx SpecContext) {
		conn := newConn()
		conn.Spec.SecretTemplate = &igv1.SecretTemplate{Labels: map[string]igv1.LabelValue{"team": "marketing"}}
		written, err := writer.Write(ctx, conn, nil, "", record("IGAAone"))
		Expect(err).NotTo(HaveOccurred())

		s := secretOf(ctx, conn)
		Expect(written.ResourceVersion).To(Equal(s.ResourceVersion), "Write returns the Secret as written")
		Expect(s.Data).To(HaveKeyWithValue("access_token", []byte("IGAAone")))
		Expect(s.Data).To(HaveKeyWithValue("token_type", []byte("bearer")))
		Expect(s.Labels).To(And(HaveKeyWithValue(igv1.LabelManagedBy, "igconnect"),
			HaveKeyWithValue(igv1.LabelConnection, conn.Name), HaveKeyWithValue("team", "marketing")))
		Expect(s.Annotations).To(HaveKeyWithValue(igv1.AnnotationTokenFingerprint, tokensecret.Fingerprint("IGAAone")))
		Expect(metav1.GetControllerOf(s)).To(HaveField("UID", conn.UID))
		Expect(s.ManagedFields).To(ContainElement(And(HaveField("Manager", tokensecret.FieldOwner),
			HaveField("Operation", metav1.ManagedFieldsOperationUpdate))), "created, not applied: see Writer.create")
	})

	It("sends no request when the Secret already holds the record", func(ctx SpecContext) {
		conn := newConn()
		written, err := writer.Write(ctx, conn, nil, "", record("IGAAone"))
		Expect(err).NotTo(HaveOccurred())

		var again *corev1.Secret
		Expect(requestsDuring(func() {
			again, err = writer.Write(ctx, conn, written, "IGAAone", record("IGAAone"))
		})).To(BeZero(), "a write that changes nothing must not reach the API server")
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(BeIdenticalTo(written))

		// Read from the API server, with managedFields, as well as from a cache without them.
		fresh := secretOf(ctx, conn)
		stripped := fresh.DeepCopy()
		stripped.ManagedFields = nil
		for _, existing := range []*corev1.Secret{fresh, stripped} {
			Expect(requestsDuring(func() {
				_, err = writer.Write(ctx, conn, existing, "IGAAone", record("IGAAone"))
			})).To(BeZero())
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(requestsDuring(func() {
			_, err = writer.Replace(ctx, conn, record("IGAAone"))
		})).To(Equal(int64(1)), "a login of the same token only reads the Secret")
		Expect(err).NotTo(HaveOccurred())
		Expect(secretOf(ctx, conn).ResourceVersion).To(Equal(written.ResourceVersion))
	})

	It("drops an older write when a newer login replaced the token meanwhile", func(ctx SpecContext) {
		conn := newConn()
		before, err := writer.Write(ctx, conn, nil, "", record("IGAAold"))
		Expect(err).NotTo(HaveOccurred())
		// A login stores a new token while the reconciler refreshes the old one.
		_, err = writer.Replace(ctx, conn, record("IGAAlogin"))
		Expect(err).NotTo(HaveOccurred())

		_, err = writer.Write(ctx, conn, before, "IGAAold", record("IGAArefreshed"))
		Expect(err).To(MatchError(tokensecret.ErrSuperseded))
		Expect(secretOf(ctx, conn).Data).To(HaveKeyWithValue("access_token", []byte("IGAAlogin")))
	})

	It("lands a write whose Secret changed meanwhile without a new token", func(ctx SpecContext) {
		conn := newConn()
		before, err := writer.Write(ctx, conn, nil, "", record("IGAAold"))
		Expect(err).NotTo(HaveOccurred())
		s := secretOf(ctx, conn)
		s.Labels["reloader"] = "on"
		Expect(k8s.Update(ctx, s, client.FieldOwner("kubectl-edit"))).To(Succeed())

		_, err = writer.Write(ctx, conn, before, "IGAAold", record("IGAArefreshed"))
		Expect(err).NotTo(HaveOccurred())
		s = secretOf(ctx, conn)
		Expect(s.Data).To(HaveKeyWithValue("access_token", []byte("IGAArefreshed")))
		Expect(s.Labels).To(HaveKeyWithValue("reloader", "on"), "a person's label is theirs")
	})

	DescribeTable("never touches a Secret that is not the connection's",
		func(ctx SpecContext, mutate func(*corev1.Secret, *igv1.InstagramConnection)) {
			conn := newConn()
			theirs := byHand(ctx, conn, func(s *corev1.Secret) { mutate(s, conn) })
			for _, existing := range []*corev1.Secret{theirs, nil} { // nil: the caller found none
				_, err := writer.Write(ctx, conn, existing, "IGAAbyhand", record("IGAAnew"))
				Expect(err).To(MatchError(tokensecret.ErrForeign))
			}
			_, err := writer.Replace(ctx, conn, record("IGAAnew"))
			Expect(err).To(MatchError(tokensecret.ErrForeign))
			Expect(writer.RemoveToken(ctx, conn, igv1.ReasonDeauthorized)).To(Succeed())
			Expect(secretOf(ctx, conn).ResourceVersion).To(Equal(theirs.ResourceVersion), "the Secret was written")
		},
		Entry("controlled by another object", func(s *corev1.Secret, _ *igv1.InstagramConnection) {
			s.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "app",
				UID: uuid.NewUUID(), Controller: ptr.To(true)}}
		}),
		Entry("claimed by another connection", func(s *corev1.Secret, _ *igv1.InstagramConnection) {
			s.Labels = map[string]string{igv1.LabelConnection: "other"}
		}),
		Entry("nobody's, with no token to import", func(s *corev1.Secret, _ *igv1.InstagramConnection) {
			s.Data = map[string][]byte{"password": []byte("hunter2")}
		}),
	)

	It("adopts a Secret a person created to import a token, keeping what else they put there", func(ctx SpecContext) {
		conn := newConn()
		theirs := byHand(ctx, conn, func(s *corev1.Secret) {
			s.Data["note"] = []byte("for the shop")
			s.Labels = map[string]string{"owner": "jo"}
		})
		_, err := writer.Write(ctx, conn, theirs, "IGAAbyhand", record("IGAAbyhand"))
		Expect(err).NotTo(HaveOccurred())

		s := secretOf(ctx, conn)
		Expect(metav1.GetControllerOf(s)).To(HaveField("UID", conn.UID))
		Expect(s.Labels).To(And(HaveKeyWithValue(igv1.LabelManagedBy, "igconnect"),
			HaveKeyWithValue(igv1.LabelConnection, conn.Name), HaveKeyWithValue("owner", "jo")))
		Expect(s.Data).To(And(HaveKeyWithValue("note", []byte("for the shop")),
			HaveKeyWithValue("user_id", []byte("17841400000000001"))))
	})

	It("removes the token of an imported Secret although the person's kubectl also set it", func(ctx SpecContext) {
		conn := newConn()
		theirs := byHand(ctx, conn, nil)
		// Imported as it was: kubectl-create and igconnect now both own access_token.
		_, err := writer.Write(ctx, conn, theirs, "IGAAbyhand", record("IGAAbyhand"))
		Expect(err).NotTo(HaveOccurred())

		Expect(writer.RemoveToken(ctx, conn, igv1.ReasonDeauthorized)).To(Succeed())
		s := secretOf(ctx, conn)
		Expect(s.Data).NotTo(HaveKey("access_token"))
		Expect(s.Data).NotTo(HaveKey("token_type"))
		Expect(s.Data).To(HaveKeyWithValue("user_id", []byte("17841400000000001")), "the account stays")
		Expect(s.Annotations).To(HaveKeyWithValue(igv1.AnnotationTokenRejected, igv1.ReasonDeauthorized))
		Expect(s.Annotations).NotTo(HaveKey(igv1.AnnotationTokenFingerprint))
		Expect(requestsDuring(func() {
			Expect(writer.RemoveToken(ctx, conn, igv1.ReasonDeauthorized)).To(Succeed())
		})).To(Equal(int64(1)), "removing a token that is gone only reads the Secret")
	})

	It("puts back the keys a person edited", func(ctx SpecContext) {
		conn := newConn()
		written, err := writer.Write(ctx, conn, nil, "", record("IGAAone"))
		Expect(err).NotTo(HaveOccurred())
		s := secretOf(ctx, conn)
		s.Data["username"] = []byte("someone-else")
		delete(s.Data, "expires_at")
		delete(s.Annotations, igv1.AnnotationTokenIssuedAt)
		Expect(k8s.Update(ctx, s, client.FieldOwner("kubectl-edit"))).To(Succeed())

		_, err = writer.Write(ctx, conn, s, "IGAAone", record("IGAAone"))
		Expect(err).NotTo(HaveOccurred())
		restored := secretOf(ctx, conn)
		Expect(restored.Data).To(Equal(written.Data))
		Expect(restored.Annotations).To(HaveKeyWithValue(igv1.AnnotationTokenIssuedAt, "2026-11-01T10:00:00Z"))
	})

	It("removes a label spec.secretTemplate no longer has", func(ctx SpecContext) {
		conn := newConn()
		conn.Spec.SecretTemplate = &igv1.SecretTemplate{Labels: map[string]igv1.LabelValue{"team": "marketing"},
			Annotations: map[string]string{"note": "x"}}
		_, err := writer.Write(ctx, conn, nil, "", record("IGAAone"))
		Expect(err).NotTo(HaveOccurred())

		conn.Spec.SecretTemplate = nil
		_, err = writer.Write(ctx, conn, secretOf(ctx, conn), "IGAAone", record("IGAAone"))
		Expect(err).NotTo(HaveOccurred())
		s := secretOf(ctx, conn)
		Expect(s.Labels).NotTo(HaveKey("team"))
		Expect(s.Annotations).NotTo(HaveKey("note"))
		Expect(s.Labels).To(HaveKeyWithValue(igv1.LabelManagedBy, "igconnect"))
	})

	It("does not merge into a Secret created after the caller found none", func(ctx SpecContext) {
		conn := newConn()
		// A person creates a Secret by that name between the caller's read and its write.
		theirs := byHand(ctx, conn, func(s *corev1.Secret) { s.Data = map[string][]byte{"password": []byte("x")} })
		_, err := writer.Write(ctx, conn, nil, "", record("IGAAone"))
		Expect(err).To(MatchError(tokensecret.ErrForeign))
		Expect(secretOf(ctx, conn).ResourceVersion).To(Equal(theirs.ResourceVersion))
	})

	It("reads again when the Secret was deleted since it was read", func(ctx SpecContext) {
		conn := newConn()
		gone, err := writer.Write(ctx, conn, nil, "", record("IGAAold"))
		Expect(err).NotTo(HaveOccurred())
		Expect(k8s.Delete(ctx, gone)).To(Succeed())

		_, err = writer.Write(ctx, conn, gone, "IGAAold", record("IGAArefreshed"))
		Expect(err).To(MatchError(tokensecret.ErrSuperseded), "a refresh of a deleted token is not stored")
		_, err = writer.Write(ctx, conn, gone, "", record("IGAAnew"))
		Expect(err).NotTo(HaveOccurred(), "a write that does not depend on the old token creates the Secret again")
		Expect(secretOf(ctx, conn).Data).To(HaveKeyWithValue("access_token", []byte("IGAAnew")))
	})
})
