// Package devenv_test holds the tests of internal/devenv that start control planes: the
// harness the e2e and hardening suites and make run start their clusters with. Each starts
// its own etcd and kube-apiserver and one restarts kube-apiserver, which takes tens of
// seconds, so they run with those suites (make test) rather than in the fast layer
// (go test ./api/... ./internal/...).
package devenv_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestAPIServerStopAndStart stops kube-apiserver while a client watches it, checks that the
// API is gone, starts it again and checks that the kubeconfig written before the outage
// still reaches it (same address, same serving CA, same client CA) and that the data
// survived in etcd.
func TestAPIServerStopAndStart(t *testing.T) {
	cp, kubeconfig := startControlPlane(t)
	t.Cleanup(func() { _ = cp.Stop() })

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 5 * time.Second
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor", Namespace: "default"},
		Data: map[string]string{"k": "v"}}
	if err := c.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}

	for round := range 2 { // a second outage starts from the kept certificates
		// An open watch keeps kube-apiserver draining for a minute after SIGTERM, unless
		// StopAPIServer cuts it short.
		w, err := c.Watch(ctx, &corev1.ConfigMapList{}, client.InNamespace("default"))
		if err != nil {
			t.Fatal(err)
		}
		stopping := time.Now()
		if err := cp.StopAPIServer(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if d := time.Since(stopping); d > 20*time.Second {
			t.Errorf("round %d: stopping took %s", round, d)
		}
		w.Stop()
		if err := c.Get(ctx, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{}); err == nil {
			t.Fatalf("round %d: the API server answered while stopped", round)
		}
		if err := cp.StartAPIServer(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		got := &corev1.ConfigMap{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(cm), got); err != nil {
			t.Fatalf("round %d: the kubeconfig from before the outage no longer works: %v", round, err)
		}
		if got.Data["k"] != "v" {
			t.Fatalf("round %d: data lost: %v", round, got.Data)
		}
	}
}
