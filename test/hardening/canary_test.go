package hardening

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/devenv"
)

// testLeakCanary proves the leak scan can fail: a real token of the sandbox is planted raw in
// an event, base64-encoded in a connection's annotation and in a log line, and the scan the
// suite runs over every cluster must find all three; with the plants removed it finds none.
func testLeakCanary(ctx context.Context, t *testing.T, s *stack) {
	conn, err := s.connection(ctx, "target")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.token(ctx, conn)
	if err != nil || tok == "" {
		t.Fatalf("no token to plant: %v", err)
	}
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "leak-canary", Namespace: s.ns},
		EventTime:           metav1.NewMicroTime(time.Now()),
		ReportingController: "igconnect.dev/hardening",
		ReportingInstance:   "hardening",
		Action:              "Canary",
		Reason:              "Canary",
		Type:                corev1.EventTypeNormal,
		Regarding:           corev1.ObjectReference{Kind: "InstagramConnection", Namespace: s.ns, Name: "target"},
		Note:                "deliberately leaked: access_token=" + tok,
	}
	planted := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "leak-canary", Namespace: s.ns,
			Annotations: map[string]string{"hardening/canary": base64.StdEncoding.EncodeToString([]byte("x" + tok))}},
		Spec: igv1.InstagramConnectionSpec{SecretName: "leak-canary-token"},
	}
	if err := s.c.kube.Create(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := s.c.kube.Create(ctx, planted); err != nil {
		t.Fatal(err)
	}
	issued, err := s.sb.Control.Issued(ctx)
	if err != nil {
		t.Fatal(err)
	}
	scan := func() map[string]string {
		texts, err := devenv.ClusterTexts(ctx, s.c.kube)
		if err != nil {
			t.Fatal(err)
		}
		texts["log canary"] = `{"level":"info","msg":"Refreshing","token":"` + tok + `"}`
		found := map[string]string{}
		for _, l := range devenv.NewLeakScanner(issued).ScanAll(texts) {
			found[l.Source] = l.Encoding
		}
		return found
	}
	found := scan()
	for src, enc := range map[string]string{"event " + s.ns + "/leak-canary": "raw",
		"connection " + s.ns + "/leak-canary": "base64", "log canary": "raw"} {
		if found[src] != enc {
			t.Errorf("the scan missed the token planted %s in %s (found %v)", enc, src, found)
		}
	}
	if !t.Failed() {
		report.mu.Lock()
		report.canaryCaught = true
		report.mu.Unlock()
	}
	if err := s.c.kube.Delete(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := s.c.kube.Delete(ctx, planted); err != nil {
		t.Fatal(err)
	}
	NewWithT(t).Eventually(func() map[string]string {
		found := scan()
		delete(found, "log canary")
		return found
	}).WithTimeout(30*time.Second).WithPolling(200*time.Millisecond).Should(BeEmpty(), "the plants gone")
}
