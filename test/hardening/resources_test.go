package hardening

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// invalidResource is an InstagramConnection the API server must refuse, sent as raw JSON the
// way kubectl sends it, with strict field validation.
type invalidResource struct {
	name string
	// spec is the raw JSON of spec; body, when set, replaces the whole object.
	spec, body string
	// mention must appear in the refusal, so a person knows what to fix.
	mention string
}

// invalidResources are the refusals api/v1alpha1's validation tests leave out: wrong JSON
// types, oversized values, unknown and duplicate fields, and values that only look right.
func invalidResources() []invalidResource {
	labels := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`"l%d":"v"`, i)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	huge := strings.Repeat("a", 1<<20)
	return []invalidResource{
		{name: "secretName a number", spec: `{"secretName":5}`, mention: "secretName"},
		{name: "secretName an array", spec: `{"secretName":["t"]}`, mention: "secretName"},
		{name: "secretName null", spec: `{"secretName":null}`, mention: "secretName"},
		{name: "secretName empty", spec: `{"secretName":""}`, mention: "secretName"},
		{name: "secretName in upper case", spec: `{"secretName":"Token"}`, mention: "secretName"},
		{name: "secretName with a slash", spec: `{"secretName":"a/b"}`, mention: "secretName"},
		{name: "secretName with a double dot", spec: `{"secretName":"a..b"}`, mention: "secretName"},
		{name: "secretName of 254 characters", spec: `{"secretName":"` + strings.Repeat("a", 254) + `"}`, mention: "secretName"},
		{name: "secretName of 1 MiB", spec: `{"secretName":"` + huge + `"}`, mention: "secretName"},
		{name: "spec a string", spec: `"acme"`, mention: "spec"},
		{name: "spec missing", body: `{"apiVersion":"instagram.igconnect.dev/v1alpha1","kind":"InstagramConnection","metadata":{"name":"no-spec"}}`, mention: "spec"},
		{name: "scopes a string", spec: `{"secretName":"t","scopes":"instagram_business_basic"}`, mention: "scopes"},
		{name: "scopes of numbers", spec: `{"secretName":"t","scopes":[5]}`, mention: "scopes"},
		{name: "scopes with null", spec: `{"secretName":"t","scopes":[null]}`, mention: "scopes"},
		{name: "an empty scope", spec: `{"secretName":"t","scopes":["instagram_business_basic",""]}`, mention: "scope"},
		{name: "a scope of 1 MiB", spec: `{"secretName":"t","scopes":["` + huge + `"]}`, mention: "scopes"},
		{name: "six scopes", spec: `{"secretName":"t","scopes":["instagram_business_basic","instagram_business_content_publish",` +
			`"instagram_business_manage_messages","instagram_business_manage_comments","instagram_business_manage_insights","instagram_business_basic"]}`, mention: "scopes"},
		{name: "refreshBefore a number", spec: `{"secretName":"t","refreshBefore":3600}`, mention: "refreshBefore"},
		{name: "refreshBefore negative", spec: `{"secretName":"t","refreshBefore":"-1h"}`, mention: "refreshBefore"},
		{name: "refreshBefore zero", spec: `{"secretName":"t","refreshBefore":"0s"}`, mention: "refreshBefore"},
		{name: "refreshBefore empty", spec: `{"secretName":"t","refreshBefore":""}`, mention: "refreshBefore"},
		{name: "refreshBefore a second over 59 days", spec: `{"secretName":"t","refreshBefore":"1416h1s"}`, mention: "refreshBefore"},
		{name: "refreshBefore with a bad unit", spec: `{"secretName":"t","refreshBefore":"40d"}`, mention: "refreshBefore"},
		{name: "refreshBefore in Arabic-Indic digits", spec: `{"secretName":"t","refreshBefore":"٤٨٠h"}`, mention: "refreshBefore"},
		{name: "refreshBefore overflowing int64", spec: `{"secretName":"t","refreshBefore":"99999999999999999999h"}`, mention: "refreshBefore"},
		{name: "instagramUserID a number", spec: `{"secretName":"t","instagramUserID":17841400000000001}`, mention: "instagramUserID"},
		{name: "instagramUserID empty", spec: `{"secretName":"t","instagramUserID":""}`, mention: "instagramUserID"},
		{name: "instagramUserID with a sign", spec: `{"secretName":"t","instagramUserID":"+17841400000000001"}`, mention: "instagramUserID"},
		{name: "instagramUserID with a newline", spec: `{"secretName":"t","instagramUserID":"17841400000000001\n"}`, mention: "instagramUserID"},
		{name: "instagramUserID in Arabic-Indic digits", spec: `{"secretName":"t","instagramUserID":"١٧٨٤١"}`, mention: "instagramUserID"},
		{name: "instagramUserID of 33 digits", spec: `{"secretName":"t","instagramUserID":"` + strings.Repeat("1", 33) + `"}`, mention: "instagramUserID"},
		{name: "appSecretRef a string", spec: `{"secretName":"t","appSecretRef":"ig-app"}`, mention: "appSecretRef"},
		{name: "appSecretRef without a name", spec: `{"secretName":"t","appSecretRef":{}}`, mention: "appSecretRef"},
		{name: "appSecretRef with a namespace", spec: `{"secretName":"t","appSecretRef":{"name":"ig-app","namespace":"kube-system"}}`, mention: "namespace"},
		{name: "secretTemplate labels an array", spec: `{"secretName":"t","secretTemplate":{"labels":["a"]}}`, mention: "labels"},
		{name: "secretTemplate label a number", spec: `{"secretName":"t","secretTemplate":{"labels":{"a":5}}}`, mention: "labels"},
		{name: "secretTemplate with 65 labels", spec: `{"secretName":"t","secretTemplate":{"labels":` + labels(65) + `}}`, mention: "labels"},
		{name: "secretTemplate with 65 annotations", spec: `{"secretName":"t","secretTemplate":{"annotations":` + labels(65) + `}}`, mention: "annotations"},
		{name: "an unknown spec field", spec: `{"secretName":"t","secretname":"u"}`, mention: "secretname"},
		{name: "an unknown secretTemplate field", spec: `{"secretName":"t","secretTemplate":{"data":{"access_token":"x"}}}`, mention: "data"},
		{name: "a duplicate field", spec: `{"secretName":"a","secretName":"b"}`, mention: "secretName"},
		{name: "an unknown top-level field", body: `{"apiVersion":"instagram.igconnect.dev/v1alpha1","kind":"InstagramConnection",` +
			`"metadata":{"name":"extra"},"spec":{"secretName":"t"},"specs":{}}`, mention: "specs"},
		{name: "an invalid name", body: `{"apiVersion":"instagram.igconnect.dev/v1alpha1","kind":"InstagramConnection",` +
			`"metadata":{"name":"Bad_Name"},"spec":{"secretName":"t"}}`, mention: "Bad_Name"},
		{name: "a version that is not served", body: `{"apiVersion":"instagram.igconnect.dev/v1beta1","kind":"InstagramConnection",` +
			`"metadata":{"name":"beta"},"spec":{"secretName":"t"}}`, mention: "v1beta1"},
		{name: "not JSON", body: `{"apiVersion":"instagram.igconnect.dev/v1alpha1","kind":"InstagramConnection",`, mention: ""},
	}
}

// postRaw sends body to the connections of namespace ns as kubectl create --validate=strict
// would, and returns the status and the API server's message.
func postRaw(ctx context.Context, cfg *rest.Config, ns, body string) (int, string, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return 0, "", err
	}
	u := fmt.Sprintf("%s/apis/%s/namespaces/%s/instagramconnections?fieldValidation=Strict",
		strings.TrimRight(cfg.Host, "/"), igv1.GroupVersion.String(), ns)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &st) != nil || st.Message == "" {
		st.Message = string(b)
	}
	return resp.StatusCode, st.Message, nil
}

// testInvalidResources sends every invalid resource and requires a 4xx naming the field,
// and that nothing was created.
func testInvalidResources(ctx context.Context, t *testing.T, s *stack) {
	before := s.snapshot(ctx, t)
	cases := invalidResources()
	for i, ir := range cases {
		body := ir.body
		if body == "" {
			body = fmt.Sprintf(`{"apiVersion":"%s","kind":"InstagramConnection","metadata":{"name":"invalid-%d"},"spec":%s}`,
				igv1.GroupVersion.String(), i, ir.spec)
		}
		status, msg, err := postRaw(ctx, s.c.cp.Config, s.ns, body)
		if err != nil {
			t.Errorf("%s: %v", ir.name, err)
			continue
		}
		if status < 400 || status >= 500 {
			t.Errorf("%s: HTTP %d, want a refusal: %.300s", ir.name, status, msg)
			continue
		}
		if !strings.Contains(msg, ir.mention) {
			t.Errorf("%s: HTTP %d does not name %q: %.300s", ir.name, status, ir.mention, msg)
		}
	}
	report.badInput("invalid resources", len(cases))
	s.requireUnchanged(ctx, t, before)
}
