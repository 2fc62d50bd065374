package callback

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/igconnect/igconnect/internal/appcreds"
	"github.com/igconnect/igconnect/internal/instagram"
	"github.com/igconnect/igconnect/internal/oauthstate"
	"github.com/igconnect/igconnect/internal/tokensecret"
)

func TestNewHandlerValidatesConfig(t *testing.T) {
	kube := fake.NewClientBuilder().WithScheme(testScheme()).Build()
	signer := mustSigner(t, testKey)
	valid := func() Config {
		return Config{
			Client:      kube,
			APIReader:   kube,
			Instagram:   instagram.New(instagram.Config{}),
			Credentials: &appcreds.Resolver{Reader: kube},
			Signer:      signer,
			Replay:      oauthstate.NewReplayGuard(clockAt(t0), 0),
			PublicURL:   "https://ig.example.com/",
		}
	}
	if _, err := NewHandler(valid()); err != nil {
		t.Fatalf("a valid config was refused: %v", err)
	}
	cfg, _ := valid().withDefaults()
	if cfg.PublicURL != "https://ig.example.com" || cfg.RedirectURL != "https://ig.example.com/auth/instagram/callback" ||
		cfg.ConnectionNamespace != "default" || cfg.StateTTL != 10*time.Minute || cfg.Clock == nil ||
		cfg.TokenLifetime != tokensecret.DefaultTokenLifetime ||
		strings.Join(cfg.DefaultScopes, ",") != "instagram_business_basic" {
		t.Errorf("defaults: %+v", cfg)
	}

	cases := map[string]struct {
		mutate func(*Config)
		says   string
	}{
		"no client":          {func(c *Config) { c.Client = nil }, "Config.Client is required"},
		"scheme without CRD": {func(c *Config) { c.Client = fake.NewClientBuilder().WithScheme(runtime.NewScheme()).Build() }, "scheme"},
		"no API reader":      {func(c *Config) { c.APIReader = nil }, "APIReader"},
		"no Instagram":       {func(c *Config) { c.Instagram = nil }, "Instagram"},
		"no credentials":     {func(c *Config) { c.Credentials = nil }, "Credentials"},
		"no signer":          {func(c *Config) { c.Signer = nil }, "Signer"},
		"no replay guard":    {func(c *Config) { c.Replay = nil }, "Replay"},
		"no public URL":      {func(c *Config) { c.PublicURL = "" }, "PublicURL is required"},
		"relative URL":       {func(c *Config) { c.PublicURL = "ig.example.com" }, "absolute"},
		"public URL query":   {func(c *Config) { c.PublicURL = "https://ig.example.com/?a=b" }, "query"},
		"redirect fragment":  {func(c *Config) { c.RedirectURL = "https://ig.example.com/cb#x" }, "fragment"},
		"success URL scheme": {func(c *Config) { c.SuccessURL = "javascript:alert(1)" }, "SuccessURL"},
		"bad namespace":      {func(c *Config) { c.ConnectionNamespace = "Not_A_Namespace" }, "ConnectionNamespace"},
		"unwatched namespace": {func(c *Config) { c.ConnectionNamespace, c.WatchNamespaces = "c", []string{"a", "b"} },
			`ConnectionNamespace "c" is not one of Config.WatchNamespaces (a, b)`},
		"TTL too short":     {func(c *Config) { c.StateTTL = time.Second }, "StateTTL"},
		"TTL too long":      {func(c *Config) { c.StateTTL = 2 * time.Hour }, "StateTTL"},
		"negative lifetime": {func(c *Config) { c.TokenLifetime = -time.Hour }, "TokenLifetime"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := valid()
			tc.mutate(&cfg)
			_, err := NewHandler(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %v, want one mentioning %q", err, tc.says)
			}
		})
	}
}

func TestNewServer(t *testing.T) {
	s := NewServer(":8082", http.NotFoundHandler())
	if s.Addr != ":8082" || s.Handler == nil || s.ReadHeaderTimeout != 5*time.Second || s.ReadTimeout != 15*time.Second ||
		s.WriteTimeout != 80*time.Second || s.IdleTimeout != 2*time.Minute || s.MaxHeaderBytes != 16<<10 {
		t.Errorf("server %+v", s)
	}
}

// TestLogsCarryNoSecrets runs a login and a refused replay and checks that neither the
// code, the state, the token nor the app secret reaches the log, and that the request is
// logged by path.
func TestLogsCarryNoSecrets(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.newBrowser()
	state := b.start("").Query().Get("state")
	code := e.code("")
	q := CallbackPath + callbackQuery(code, state)
	if r := b.get(q); r.status != http.StatusOK {
		t.Fatalf("login: %d", r.status)
	}
	b.get(q) // replayed
	b.get(CallbackPath + "?code=" + code + "&state=forged.state")
	token := string(e.secret(connNS, "ig-"+defaultUserID+"-token").Data["access_token"])
	logs := e.logs.String()
	for name, v := range map[string]string{"code": code, "state": state, "token": token,
		"client secret": e.cfg.Credentials.Default.ClientSecret, "cookie": cookieValue(t, b)} {
		if strings.Contains(logs, v) {
			t.Errorf("the log contains the %s", name)
		}
	}
	for _, want := range []string{`"path"="/auth/instagram/callback"`, `"code"="replayed_state"`, `"status"=409`, "Login completed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
}
