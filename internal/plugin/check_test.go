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
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// managerDeployment is config/default's Deployment, reading the operator's app from a Secret.
func managerDeployment(ready int32) *appsv1.Deployment {
	ref := func(key string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "igconnect-instagram-app"}, Key: key}}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: DefaultManagerNamespace, Name: "igconnect-controller-manager",
			Labels: map[string]string{"app.kubernetes.io/name": "igconnect"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "manager", Env: []corev1.EnvVar{
				{Name: "INSTAGRAM_CLIENT_ID", ValueFrom: ref("client-id")},
				{Name: "INSTAGRAM_CLIENT_SECRET", ValueFrom: ref("client-secret")},
			}}}}}},
		Status: appsv1.DeploymentStatus{ReadyReplicas: ready},
	}
}

func TestCheckManagerAndAppCredentials(t *testing.T) {
	ctx := context.Background()
	appSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: DefaultManagerNamespace, Name: "igconnect-instagram-app"},
		Data: map[string][]byte{"client-id": []byte("123")}}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: DefaultManagerNamespace, Name: LeaseName},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("pod-a"), LeaseDurationSeconds: ptr.To[int32](15),
			RenewTime: &metav1.MicroTime{Time: t0.Add(-time.Minute)}}}
	withRef := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "m", Name: "own-app"},
		Spec: igv1.InstagramConnectionSpec{SecretName: "t", AppSecretRef: &igv1.SecretReference{Name: "absent"}}}
	missing := &igv1.InstagramConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "m", Name: "no-app"},
		Spec: igv1.InstagramConnectionSpec{SecretName: "t"},
		Status: igv1.InstagramConnectionStatus{Conditions: []metav1.Condition{{Type: igv1.ConditionReady,
			Status: metav1.ConditionFalse, Reason: igv1.ReasonAppCredentialsMissing, Message: "no app credentials"}}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(managerDeployment(1), appSecret, lease, withRef, missing).Build()

	results, deploy := checkManager(ctx, c, DefaultManagerNamespace, t0)
	if results[0].Result != checkOK || !strings.Contains(results[0].Detail, "1/1 ready") {
		t.Errorf("Deployment: %+v", results[0])
	}
	if results[1].Result != checkWarn || !strings.Contains(results[1].Detail, "not renewed for 60 seconds") {
		t.Errorf("a Lease not renewed within its duration: %+v", results[1])
	}

	conns, err := listConnections(ctx, c, "")
	if err != nil {
		t.Fatal(err)
	}
	apps := checkAppCredentials(ctx, c, deploy, conns, nil)
	want := map[string]string{
		"operator's app":   "igconnect-system/igconnect-instagram-app lacks client-secret",
		"app of m/own-app": "Secret m/absent does not exist",
		"app of m/no-app":  "Ready is False (AppCredentialsMissing)",
	}
	for _, r := range apps {
		if w, ok := want[r.Name]; !ok || r.Result != checkFail || !strings.Contains(r.Detail, w) {
			t.Errorf("%s: %s %q, want FAIL saying %q", r.Name, r.Result, r.Detail, w)
		}
		delete(want, r.Name)
	}
	if len(want) > 0 {
		t.Errorf("no result for %v", want)
	}
	if strings.Contains(apps[0].Detail, "123") {
		t.Error("check printed a credential")
	}

	// Neither a ready Deployment nor a held Lease: no manager.
	c = fake.NewClientBuilder().WithScheme(scheme).WithObjects(managerDeployment(0)).Build()
	results, _ = checkManager(ctx, c, DefaultManagerNamespace, t0)
	if results[0].Result != checkFail || results[1].Result != checkFail {
		t.Errorf("no ready replica and no Lease: %+v", results)
	}
}
