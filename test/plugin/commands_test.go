package plugin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// A token imported without its expiry: import waits for Ready, status shows it in human
// terms (the expiry estimated, since Instagram would not refresh the young token), a refresh
// is refused as too early, and the token is never printed.
func TestImportStatusAndTooEarlyRefresh(t *testing.T) {
	token, account := issueToken(t, 0, "")

	imp := mustSucceed(t, kubectlIgconnect(t, "", "import", "acme", "-n", ns, "--token-file", tokenFile(t, token)))
	if !strings.Contains(imp.stdout, "connected: @"+account.Username) {
		t.Errorf("import does not report the connected account:\n%s", imp.stdout)
	}
	// 60 days less Instagram's 24 hours, from now: "58 days" and some hours.
	if !strings.Contains(imp.stdout, "expires in 58 days (estimated)") {
		t.Errorf("import does not say when the token expires:\n%s", imp.stdout)
	}

	one := mustSucceed(t, kubectlIgconnect(t, "", "status", "acme", "-n", ns))
	for _, want := range []string{"@" + account.Username, "InstagramLogin", "True Connected", "expires in 58 days (20",
		"Next:", "refresh in", "Last failure: -", "Webhook:      -"} {
		if !strings.Contains(one.stdout, want) {
			t.Errorf("status acme lacks %q:\n%s", want, one.stdout)
		}
	}
	table := mustSucceed(t, kubectlIgconnect(t, "", "status", "-A"))
	if !strings.Contains(table.stdout, "NAMESPACE") || !strings.Contains(table.stdout, ns) {
		t.Errorf("status -A shows no namespace column:\n%s", table.stdout)
	}
	asJSON := mustSucceed(t, kubectlIgconnect(t, "", "status", "acme", "-n", ns, "-o", "json"))
	var doc struct {
		Connections []struct {
			Name  string `json:"name"`
			Ready struct {
				Status string `json:"status"`
			} `json:"ready"`
			Token struct {
				ExpiresAt time.Time `json:"expiresAt"`
				Estimated bool      `json:"estimated"`
			} `json:"token"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(asJSON.stdout), &doc); err != nil {
		t.Fatalf("-o json: %v", err)
	}
	conn := &igv1.InstagramConnection{}
	exists(t, conn, "acme")
	if len(doc.Connections) != 1 || doc.Connections[0].Ready.Status != "True" || !doc.Connections[0].Token.Estimated ||
		!doc.Connections[0].Token.ExpiresAt.Equal(conn.Status.ExpiresAt.Time) {
		t.Errorf("-o json = %+v, want acme Ready, expiring (estimated) at %s", doc.Connections, conn.Status.ExpiresAt)
	}
	asYAML := mustSucceed(t, kubectlIgconnect(t, "", "status", "-n", ns, "-o", "yaml"))

	refresh := kubectlIgconnect(t, "", "refresh", "acme", "-n", ns, "--wait", "--timeout", "1m")
	mustFail(t, refresh, "too early: Instagram refuses refreshes of tokens under 24 hours old; next possible at ")
	exists(t, conn, "acme")
	if conn.Status.NextRefreshTime == nil || !strings.Contains(refresh.output(), conn.Status.NextRefreshTime.UTC().Format(time.RFC3339)) {
		t.Errorf("the too-early message does not name the operator's next refresh time %v", conn.Status.NextRefreshTime)
	}
	if want := conn.Status.TokenIssuedAt.Add(24 * time.Hour); !conn.Status.NextRefreshTime.Time.Equal(want) {
		t.Errorf("next refresh at %s, want the token's 24th hour %s", conn.Status.NextRefreshTime, want)
	}

	again := mustSucceed(t, kubectlIgconnect(t, "", "refresh", "acme", "-n", ns))
	if !strings.Contains(again.stdout, "too early: Instagram refuses refreshes of tokens under 24 hours old; next possible at "+
		conn.Status.TokenIssuedAt.Add(24*time.Hour).UTC().Format(time.RFC3339)) {
		t.Errorf("refresh without --wait does not warn that the token is too young:\n%s", again.stdout)
	}

	login := kubectlIgconnect(t, "", "login-url", "acme", "-n", ns)
	mustFail(t, login, "needs no login: it is Ready (Connected)")

	neverPrints(t, token, imp, one, table, asJSON, asYAML, refresh, again, login)
	sec := &corev1.Secret{}
	exists(t, sec, "acme-instagram-token")
	if string(sec.Data[igv1.SecretKeyAccessToken]) != token {
		t.Error("the Secret does not hold the imported token")
	}
}

// A young token imported with an expiry: the operator takes it for one issued 60 days before
// that expiry, so it does ask Instagram, which refuses; refresh reports that as too early.
func TestRefreshRefusedByInstagram(t *testing.T) {
	token, _ := issueToken(t, 1, "")
	mustSucceed(t, kubectlIgconnect(t, "", "import", "young", "-n", ns, "--token-file", tokenFile(t, token),
		"--expires-at", time.Now().Add(50*24*time.Hour).UTC().Format(time.RFC3339)))
	r := kubectlIgconnect(t, "", "refresh", "young", "-n", ns, "--wait")
	mustFail(t, r, "too early: Instagram refuses refreshes of tokens under 24 hours old; next possible at ")
	neverPrints(t, token, r)
	status := mustSucceed(t, kubectlIgconnect(t, "", "status", "-n", ns))
	if !strings.Contains(status.stdout, "InstagramUnavailable (1 attempt)") {
		t.Errorf("status does not show the failed attempt:\n%s", status.stdout)
	}
}

// A token old enough to refresh, with its expiry: import says "expires in 39 days", and
// refresh --wait reports the new expiry.
func TestRefreshWaitsForTheOutcome(t *testing.T) {
	token, _ := issueToken(t, 2, "25h")
	expires := time.Now().Add(39*24*time.Hour + time.Hour).UTC().Truncate(time.Second)
	imp := mustSucceed(t, kubectlIgconnect(t, token+"\n", "import", "brand", "-n", ns, "--token-file", "-",
		"--expires-at", expires.Format(time.RFC3339)))
	if !strings.Contains(imp.stdout, "token expires in 39 days") {
		t.Errorf("import does not say when the token expires:\n%s", imp.stdout)
	}
	sec := &corev1.Secret{}
	exists(t, sec, "brand-instagram-token")
	if got := string(sec.Data[igv1.SecretKeyExpiresAt]); got != expires.Format(time.RFC3339) {
		t.Errorf("expires_at = %q, want %s", got, expires.Format(time.RFC3339))
	}

	r := mustSucceed(t, kubectlIgconnect(t, "", "refresh", "brand", "-n", ns, "--wait"))
	if !strings.Contains(r.stdout, "refreshed: the token expires in 59 days") {
		t.Errorf("refresh does not report the new expiry:\n%s", r.stdout)
	}
	conn := &igv1.InstagramConnection{}
	exists(t, conn, "brand")
	if conn.Status.LastHandledRefreshRequest != conn.Annotations[igv1.AnnotationRefreshRequestedAt] {
		t.Error("refresh returned before the operator echoed the request")
	}
	neverPrints(t, token, imp, r)
}

// A connection waiting for a person: login-url prints its authorization URL, and check finds
// the callback server from it.
func TestLoginURLAndCheck(t *testing.T) {
	ctx := context.Background()
	if err := env.k8s.Create(ctx, &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec:       igv1.InstagramConnectionSpec{SecretName: "shop-instagram-token"},
	}); err != nil {
		t.Fatal(err)
	}
	awaiting := func(context.Context) (bool, error) {
		c := &igv1.InstagramConnection{}
		exists(t, c, "shop")
		r := meta.FindStatusCondition(c.Status.Conditions, igv1.ConditionReady)
		return r != nil && r.Reason == igv1.ReasonAwaitingAuthorization && c.Status.AuthorizationURL != "", nil
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, awaiting); err != nil {
		t.Fatalf("shop never became AwaitingAuthorization with a login URL: %v", err)
	}

	r := mustSucceed(t, kubectlIgconnect(t, "", "login-url", "shop", "-n", ns))
	if want := env.mgr.PublicURL + "/auth/instagram/start?ticket="; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("login-url = %q, want %s...", r.stdout, want)
	}

	check := mustSucceed(t, kubectlIgconnect(t, "", "check", "-n", ns, "--manager-namespace", managerNamespace))
	for _, want := range []string{
		"CRD ", "instagramconnections.instagram.igconnect.dev served in v1alpha1",
		"manager leader", "held by ",
		"callback server", "GET " + env.mgr.PublicURL + "/healthz: 200 OK",
		"clock", "agrees with the API server",
	} {
		if !strings.Contains(check.stdout, want) {
			t.Errorf("check lacks %q:\n%s", want, check.stdout)
		}
	}

	wrong := kubectlIgconnect(t, "", "check", "-n", ns, "--manager-namespace", "nowhere")
	mustFail(t, wrong, "check(s) failed: manager leader")
}

// Bad input gets a clear error and changes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	token, _ := issueToken(t, 3, "")
	file := tokenFile(t, token)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"a token on the command line", []string{"import", "bad", "-n", ns, "--token", token},
			"refusing a token on the command line (--token)"},
		{"a token as an argument", []string{"import", "bad", token, "-n", ns},
			"import takes one argument, the connection's name, and got 2"},
		{"an unreadable token file", []string{"import", "bad", "-n", ns, "--token-file", file + ".absent"},
			"read --token-file: open "},
		{"a bad --expires-at", []string{"import", "bad", "-n", ns, "--token-file", file, "--expires-at", "next tuesday"},
			`--expires-at "next tuesday" is not an RFC 3339 time`},
		{"an --expires-at in the past", []string{"import", "bad", "-n", ns, "--token-file", file, "--expires-at", "2020-01-01T00:00:00Z"},
			"is in the past"},
		{"no token file", []string{"import", "bad", "-n", ns}, "import needs the token: --token-file FILE"},
		{"kubectl's --token, left out so that no Instagram token goes to the API server",
			[]string{"status", "-n", ns, "--token", token}, "unknown flag: --token"},
		{"an existing connection", []string{"import", "acme-dup", "-n", ns, "--token-file", file, "--secret", "acme-dup-token"}, ""},
	}
	// An existing connection is refused before its Secret is created.
	if err := env.k8s.Create(context.Background(), &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "acme-dup"},
		Spec:       igv1.InstagramConnectionSpec{SecretName: "elsewhere"},
	}); err != nil {
		t.Fatal(err)
	}
	cases[len(cases)-1].want = "InstagramConnection " + ns + "/acme-dup already exists"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := kubectlIgconnect(t, "", tc.args...)
			mustFail(t, r, tc.want)
			neverPrints(t, token, r)
			if exists(t, &igv1.InstagramConnection{}, "bad") || exists(t, &corev1.Secret{}, "bad-instagram-token") ||
				exists(t, &corev1.Secret{}, "acme-dup-token") {
				t.Error("a refused import created something")
			}
		})
	}

	for _, args := range [][]string{
		{"status", "missing", "-n", ns},
		{"login-url", "missing", "-n", ns},
		{"refresh", "missing", "-n", ns, "--wait"},
	} {
		mustFail(t, kubectlIgconnect(t, "", args...), `no InstagramConnection "missing" in namespace "marketing"`)
	}
	if exists(t, &igv1.InstagramConnection{}, "missing") {
		t.Error("refresh of a missing connection created it")
	}
	mustFail(t, kubectlIgconnect(t, "", "status", "-n", ns, "-o", "wide"), `unknown output format "wide"`)
}
