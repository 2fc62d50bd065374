// Command bench is igconnect's scale benchmark, run by `make bench`. It starts a local
// control plane (bin/k8s), the Instagram sandbox and the real bin/manager as processes, runs
// the scenarios of BENCHMARKS.md against them and prints one table:
//
//   - convergence: N imported connections to all Ready, against a floor client that does
//     only the API writes an import inherently needs, as fast as the API server allows;
//   - refresh: a refresh of all N requested at once, paced by the manager's Instagram rate
//     limit, measured from the sandbox's side;
//   - idle: connections that are not due, watched for a while after convergence: Instagram
//     calls, API writes, the manager's CPU and memory;
//   - logins: concurrent logins through the callback server against the sandbox.
//
// Everything it starts is stopped when it ends, on failure and on Ctrl-C too. The processes'
// logs stay in the work folder it prints.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// config is what a benchmark run measures, and where the binaries are.
type config struct {
	// Scenarios to run, in the fixed order convergence, refresh, idle, logins.
	Scenarios map[string]bool
	// N is the number of connections of the convergence and refresh scenarios.
	N int
	// IdleN is the number of connections of the idle scenario.
	IdleN int
	// IdleWindow is how long the idle scenario watches.
	IdleWindow time.Duration
	// Logins is the number of concurrent logins.
	Logins int
	// FloorWorkers is the floor client's concurrency.
	FloorWorkers int
	// Rounds is how often the convergence measures the floor and the operator; the best of
	// each is reported.
	Rounds int
	// BinDir holds manager and instagram-sandbox; Assets holds etcd and kube-apiserver;
	// CRDDir holds the CRD manifests and RBACDir the manager's ClusterRole (role.yaml).
	BinDir, Assets, CRDDir, RBACDir string
	// WorkDir receives the kubeconfig and every process's log.
	WorkDir string
	// ManagerArgs are extra flags for bin/manager, after the harness's own.
	ManagerArgs []string
	// Timeout bounds each wait for the manager (convergence, refresh wave, logins).
	Timeout time.Duration
	// Quiet keeps progress lines off stderr.
	Quiet bool
	// Profile, when set, is a folder that receives CPU profiles of kube-apiserver and the
	// manager taken during the operator's convergence, and the manager's heap at the end of
	// the idle window (the harness then starts the manager with --pprof-bind-address).
	Profile string
}

// The scenarios' names, as -scenarios takes them.
const (
	scenarioConvergence = "convergence"
	scenarioRefresh     = "refresh"
	scenarioIdle        = "idle"
	scenarioLogins      = "logins"
)

// allScenarios is the order scenarios run in: refresh reuses the connections convergence
// made ready.
var allScenarios = []string{scenarioConvergence, scenarioRefresh, scenarioIdle, scenarioLogins}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	// controller-runtime's own log lines (the harness's informers) are not wanted.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, cfg)
	if res != nil {
		fmt.Println(res.Table())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line.
func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	wd, _ := os.Getwd()
	scen := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios to run: "+
		strings.Join(allScenarios, ", "))
	cfg := config{}
	fs.IntVar(&cfg.N, "n", 2000, "connections in the convergence and refresh scenarios")
	fs.IntVar(&cfg.IdleN, "idle-n", 10000, "connections in the idle scenario")
	fs.DurationVar(&cfg.IdleWindow, "idle-window", 60*time.Second, "how long the idle scenario watches")
	fs.IntVar(&cfg.Logins, "logins", 200, "concurrent logins")
	fs.IntVar(&cfg.FloorWorkers, "floor-workers", 64, "concurrent workers of the floor client")
	fs.IntVar(&cfg.Rounds, "rounds", 2, "rounds of the convergence (floor, then operator); the best of each is reported")
	fs.StringVar(&cfg.BinDir, "bin-dir", envOr("IGCONNECT_BIN", filepath.Join(wd, "bin")), "folder of manager and instagram-sandbox")
	fs.StringVar(&cfg.Assets, "assets", envOr("KUBEBUILDER_ASSETS", filepath.Join(wd, "bin", "k8s")), "folder of etcd and kube-apiserver")
	fs.StringVar(&cfg.CRDDir, "crd-dir", filepath.Join(wd, "config", "crd", "bases"), "folder of the CRD manifests")
	fs.StringVar(&cfg.RBACDir, "rbac-dir", filepath.Join(wd, "config", "rbac"), "folder of the manager's ClusterRole (role.yaml)")
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "folder for the kubeconfig and the logs (default: a new temporary folder)")
	managerArgs := fs.String("manager-args", "", "extra flags for bin/manager, space-separated, e.g. \"--kube-api-qps=100\"")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "bound on each wait for the manager")
	fs.BoolVar(&cfg.Quiet, "quiet", false, "print only the table")
	fs.StringVar(&cfg.Profile, "profile", "", "folder for profiles: kube-apiserver's and the manager's CPU during the "+
		"convergence, the manager's heap after the idle window")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Scenarios = map[string]bool{}
	for _, s := range strings.Split(*scen, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !contains(allScenarios, s) {
			return cfg, fmt.Errorf("unknown scenario %q (want %s)", s, strings.Join(allScenarios, ", "))
		}
		cfg.Scenarios[s] = true
	}
	if cfg.N < 1 || cfg.IdleN < 1 || cfg.Logins < 1 || cfg.FloorWorkers < 1 || cfg.Rounds < 1 || cfg.IdleWindow <= 0 {
		return cfg, fmt.Errorf("-n, -idle-n, -logins, -floor-workers, -rounds and -idle-window must be positive")
	}
	cfg.ManagerArgs = strings.Fields(*managerArgs)
	return cfg, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
