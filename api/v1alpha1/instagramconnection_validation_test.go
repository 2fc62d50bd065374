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

package v1alpha1_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

var nameSeq atomic.Int64

// newConnection returns a valid connection with a fresh name in the default namespace.
func newConnection() *igv1.InstagramConnection {
	return &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("conn-%d", nameSeq.Add(1)),
			Namespace: "default",
		},
		Spec: igv1.InstagramConnectionSpec{SecretName: "acme-instagram-token"},
	}
}

func duration(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

var _ = Describe("InstagramConnection schema", func() {
	It("accepts a minimal connection and adds no defaults", func() {
		conn := newConnection()
		Expect(k8sClient.Create(ctx, conn)).To(Succeed())

		got := &igv1.InstagramConnection{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(conn), got)).To(Succeed())
		Expect(got.Spec).To(Equal(conn.Spec), "a GitOps tool must see exactly what it applied")
	})

	It("accepts a connection using every field", func() {
		conn := newConnection()
		conn.Spec = igv1.InstagramConnectionSpec{
			SecretName:      "acme-instagram-token",
			AppSecretRef:    &igv1.SecretReference{Name: "ig-app"},
			InstagramUserID: "17841400000000001",
			Scopes: []igv1.Scope{igv1.ScopeBasic, igv1.ScopeContentPublish, igv1.ScopeManageMessages,
				igv1.ScopeManageComments, igv1.ScopeManageInsights},
			RefreshBefore: duration(480 * time.Hour),
			SecretTemplate: &igv1.SecretTemplate{
				Labels:      map[string]igv1.LabelValue{"reloader.stakater.com/match": "true"},
				Annotations: map[string]string{"team": "marketing"},
			},
			RolloutRestartTargets: []igv1.RolloutRestartTarget{
				{Kind: igv1.RolloutRestartDeployment, Name: "web"},
				{Kind: igv1.RolloutRestartStatefulSet, Name: "web"},
				{Kind: igv1.RolloutRestartDaemonSet, Name: "agent.v2"},
			},
		}
		Expect(k8sClient.Create(ctx, conn)).To(Succeed())
	})

	DescribeTable("rejects an invalid connection with a message a person understands",
		func(mutate func(*igv1.InstagramConnectionSpec), wantMessage string) {
			conn := newConnection()
			mutate(&conn.Spec)
			err := k8sClient.Create(ctx, conn)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantMessage))
		},
		Entry("deprecated business_basic scope",
			func(s *igv1.InstagramConnectionSpec) { s.Scopes = []igv1.Scope{igv1.ScopeBasic, "business_basic"} },
			"scope business_basic was deprecated by Meta on 27 January 2025; use instagram_business_basic instead"),
		Entry("deprecated business_manage_messages scope",
			func(s *igv1.InstagramConnectionSpec) {
				s.Scopes = []igv1.Scope{igv1.ScopeBasic, "business_manage_messages"}
			},
			"use instagram_business_manage_messages instead"),
		Entry("misspelled scope",
			func(s *igv1.InstagramConnectionSpec) {
				s.Scopes = []igv1.Scope{igv1.ScopeBasic, "instagram_business_content_publishing"}
			},
			"unknown scope instagram_business_content_publishing: use one of"),
		Entry("scopes without instagram_business_basic",
			func(s *igv1.InstagramConnectionSpec) { s.Scopes = []igv1.Scope{igv1.ScopeContentPublish} },
			"scopes must include instagram_business_basic"),
		Entry("duplicate scopes",
			func(s *igv1.InstagramConnectionSpec) { s.Scopes = []igv1.Scope{igv1.ScopeBasic, igv1.ScopeBasic} },
			"Duplicate value"),
		Entry("instagramUserID with letters",
			func(s *igv1.InstagramConnectionSpec) { s.InstagramUserID = "acme" },
			"instagramUserID must contain digits only"),
		Entry("refreshBefore under 1h",
			func(s *igv1.InstagramConnectionSpec) { s.RefreshBefore = duration(30 * time.Minute) },
			"refreshBefore must be a duration between 1h and 1416h (59 days)"),
		Entry("refreshBefore over 59 days",
			func(s *igv1.InstagramConnectionSpec) { s.RefreshBefore = duration(1417 * time.Hour) },
			"refreshBefore must be a duration between 1h and 1416h (59 days)"),
		Entry("missing secretName",
			func(s *igv1.InstagramConnectionSpec) { s.SecretName = "" },
			"spec.secretName"),
		Entry("secretName that is not a Secret name",
			func(s *igv1.InstagramConnectionSpec) { s.SecretName = "Acme_Token" },
			"secretName must be a valid Secret name"),
		Entry("appSecretRef that is not a Secret name",
			func(s *igv1.InstagramConnectionSpec) { s.AppSecretRef = &igv1.SecretReference{Name: "-app"} },
			"name must be a valid Secret name"),
		Entry("secretTemplate with a label key a Secret cannot carry",
			func(s *igv1.InstagramConnectionSpec) {
				s.SecretTemplate = &igv1.SecretTemplate{Labels: map[string]igv1.LabelValue{"bad key!": "x"}}
			},
			"secretTemplate.labels keys must be valid label keys"),
		Entry("secretTemplate with a label value over 63 characters",
			func(s *igv1.InstagramConnectionSpec) {
				s.SecretTemplate = &igv1.SecretTemplate{Labels: map[string]igv1.LabelValue{"team": igv1.LabelValue(strings.Repeat("a", 64))}}
			},
			"spec.secretTemplate.labels.team: Too long: may not be more than 63 bytes"),
		Entry("secretTemplate with a label value holding a space",
			func(s *igv1.InstagramConnectionSpec) {
				s.SecretTemplate = &igv1.SecretTemplate{Labels: map[string]igv1.LabelValue{"team": "growth team"}}
			},
			"secretTemplate.labels values must be valid label values"),
		Entry("secretTemplate with a label value ending in a dash",
			func(s *igv1.InstagramConnectionSpec) {
				s.SecretTemplate = &igv1.SecretTemplate{Labels: map[string]igv1.LabelValue{"team": "growth-"}}
			},
			"secretTemplate.labels values must be valid label values"),
		Entry("secretTemplate with an annotation key a Secret cannot carry",
			func(s *igv1.InstagramConnectionSpec) {
				s.SecretTemplate = &igv1.SecretTemplate{Annotations: map[string]string{"/nope": "x"}}
			},
			"secretTemplate.annotations keys must be valid annotation keys"),
		Entry("secretTemplate taking over the managed-by label",
			func(s *igv1.InstagramConnectionSpec) {
				s.SecretTemplate = &igv1.SecretTemplate{Labels: map[string]igv1.LabelValue{igv1.LabelManagedBy: "me"}}
			},
			"secretTemplate.labels must not set app.kubernetes.io/managed-by"),
		Entry("rolloutRestartTargets with a kind that is not a workload igconnect restarts",
			func(s *igv1.InstagramConnectionSpec) {
				s.RolloutRestartTargets = []igv1.RolloutRestartTarget{{Kind: "CronJob", Name: "web"}}
			},
			`supported values: "Deployment", "StatefulSet", "DaemonSet"`),
		Entry("rolloutRestartTargets with a name that is not a workload name",
			func(s *igv1.InstagramConnectionSpec) {
				s.RolloutRestartTargets = []igv1.RolloutRestartTarget{{Kind: igv1.RolloutRestartDeployment, Name: "Web_App"}}
			},
			"name must be a valid workload name"),
		Entry("rolloutRestartTargets naming one workload twice",
			func(s *igv1.InstagramConnectionSpec) {
				t := igv1.RolloutRestartTarget{Kind: igv1.RolloutRestartDeployment, Name: "web"}
				s.RolloutRestartTargets = []igv1.RolloutRestartTarget{t, t}
			},
			"Duplicate value"),
		Entry("more than 16 rolloutRestartTargets",
			func(s *igv1.InstagramConnectionSpec) {
				for i := range 17 {
					s.RolloutRestartTargets = append(s.RolloutRestartTargets,
						igv1.RolloutRestartTarget{Kind: igv1.RolloutRestartDeployment, Name: fmt.Sprintf("web-%d", i)})
				}
			},
			"must have at most 16 items"),
	)

	DescribeTable("accepts refreshBefore at its bounds",
		func(d time.Duration) {
			conn := newConnection()
			conn.Spec.RefreshBefore = duration(d)
			Expect(k8sClient.Create(ctx, conn)).To(Succeed())
		},
		Entry("1h", time.Hour),
		Entry("1416h", 1416*time.Hour),
	)

	DescribeTable("rejects a refreshBefore that is not a usable duration, with the same message",
		func(value string) {
			raw := []byte(`{"apiVersion":"instagram.igconnect.dev/v1alpha1","kind":"InstagramConnection",` +
				`"metadata":{"name":"bad-duration","namespace":"default"},` +
				`"spec":{"secretName":"t","refreshBefore":"` + value + `"}}`)
			conn := &igv1.InstagramConnection{}
			conn.Name, conn.Namespace = "bad-duration", "default"
			err := k8sClient.Patch(ctx, conn, client.RawPatch(types.ApplyPatchType, raw),
				client.FieldOwner("test"))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring("refreshBefore must be a duration between 1h and 1416h"))
			Expect(err.Error()).NotTo(ContainSubstring("conversion"))
		},
		Entry("words", "forty days"),
		Entry("too large for a duration", "9999999999999h"),
		Entry("many components", "999999h999999h9h"),
		Entry("enough components to overflow", "99999h99999h99999h99999h99999h99999h"),
	)

	Describe("instagramUserID", func() {
		It("may be set later, then never changed or removed", func() {
			conn := newConnection()
			Expect(k8sClient.Create(ctx, conn)).To(Succeed())

			conn.Spec.InstagramUserID = "17841400000000001"
			Expect(k8sClient.Update(ctx, conn)).To(Succeed(), "pinning an unpinned connection is allowed")

			changed := conn.DeepCopy()
			changed.Spec.InstagramUserID = "17841400000000002"
			err := k8sClient.Update(ctx, changed)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring("instagramUserID is immutable once set"))

			removed := conn.DeepCopy()
			removed.Spec.InstagramUserID = ""
			err = k8sClient.Update(ctx, removed)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring("instagramUserID is immutable once set"))
		})
	})

	It("keeps status out of spec writes (status subresource)", func() {
		conn := newConnection()
		conn.Status.Username = "sneaky"
		Expect(k8sClient.Create(ctx, conn)).To(Succeed())
		got := &igv1.InstagramConnection{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(conn), got)).To(Succeed())
		Expect(got.Status.Username).To(BeEmpty())

		got.Status.Username = "acme"
		Expect(k8sClient.Status().Update(ctx, got)).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(conn), got)).To(Succeed())
		Expect(got.Status.Username).To(Equal("acme"))
	})

	It("is served with the printer columns, short name and category of the contract", func() {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "instagramconnections.instagram.igconnect.dev"}, crd)).
			To(Succeed())
		Expect(crd.Spec.Names.ShortNames).To(ConsistOf("igconn"))
		Expect(crd.Spec.Names.Categories).To(ConsistOf("instagram"))
		Expect(crd.Spec.Versions).To(HaveLen(1))
		version := crd.Spec.Versions[0]
		Expect(version.Subresources).NotTo(BeNil())
		Expect(version.Subresources.Status).NotTo(BeNil())

		type column struct {
			Name, JSONPath string
			Priority       int32
		}
		columns := make([]column, 0, len(version.AdditionalPrinterColumns))
		for _, c := range version.AdditionalPrinterColumns {
			columns = append(columns, column{c.Name, c.JSONPath, c.Priority})
		}
		Expect(columns).To(Equal([]column{
			{"Account", ".status.username", 0},
			{"User ID", ".status.userID", 0},
			{"Ready", `.status.conditions[?(@.type=="Ready")].status`, 0},
			{"Reason", `.status.conditions[?(@.type=="Ready")].reason`, 0},
			{"Expires", ".status.expiresAt", 0},
			{"Next Refresh", ".status.nextRefreshTime", 1},
			{"Age", ".metadata.creationTimestamp", 0},
		}))
	})
})
