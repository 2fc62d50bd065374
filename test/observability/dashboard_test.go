package observability

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/igconnect/igconnect/internal/metrics"
)

const dashboardFile = "../../charts/igconnect/files/dashboard.json"

// grafanaVariables are what Grafana puts in place of the dashboard's variables, for
// promtool's parser: the built-in intervals and the dashboard's own variables. A query with
// a variable not listed here fails the test, so a new variable is added here on purpose.
var grafanaVariables = map[string]string{
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__range":         "1h",
	"namespace":       ".*",
}

var variable = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)`)

// substitute replaces the Grafana variables in a query.
func substitute(q string) (string, error) {
	var unknown []string
	out := variable.ReplaceAllStringFunc(q, func(v string) string {
		m := variable.FindStringSubmatch(v)
		name := m[1] + m[2]
		if val, ok := grafanaVariables[name]; ok {
			return val
		}
		unknown = append(unknown, v)
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown Grafana variables %v", unknown)
	}
	return out, nil
}

// query is one PromQL query of the dashboard and where it is.
type query struct{ where, expr string }

// dashboardQueries walks the dashboard for every target's expr (panels in rows included)
// and every template variable's query; label_values(selector, label) contributes its
// selector.
func dashboardQueries(t *testing.T) (queries []query, dash map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var panels func(ps []any)
	panels = func(ps []any) {
		for _, p := range ps {
			panel, _ := p.(map[string]any)
			title, _ := panel["title"].(string)
			targets, _ := panel["targets"].([]any)
			for _, tg := range targets {
				target, _ := tg.(map[string]any)
				expr, _ := target["expr"].(string)
				if expr == "" {
					t.Errorf("panel %q has a target without expr", title)
				}
				queries = append(queries, query{fmt.Sprintf("panel %q target %v", title, target["refId"]), expr})
			}
			if panel["type"] != "row" && panel["type"] != "text" && len(targets) == 0 {
				t.Errorf("panel %q has no query", title)
			}
			nested, _ := panel["panels"].([]any)
			panels(nested)
		}
	}
	ps, _ := dash["panels"].([]any)
	panels(ps)
	templating, _ := dash["templating"].(map[string]any)
	vars, _ := templating["list"].([]any)
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\)$`)
	for _, v := range vars {
		variable, _ := v.(map[string]any)
		if variable["type"] != "query" {
			continue
		}
		q, _ := variable["query"].(map[string]any)
		text, _ := q["query"].(string)
		m := labelValues.FindStringSubmatch(strings.TrimSpace(text))
		if m == nil {
			t.Errorf("variable %v: query %q is not label_values(selector, label)", variable["name"], text)
			continue
		}
		queries = append(queries, query{fmt.Sprintf("variable %v", variable["name"]), m[1]})
	}
	return queries, dash
}

// TestDashboardQueriesParseAndNameExportedMetrics turns every query of the dashboard into a
// recording rule, with the Grafana variables substituted, and has promtool check the file:
// a query that does not parse fails. Each query must also select only metrics the manager
// registers (internal/metrics), and every panel must use the dashboard's data source variable.
func TestDashboardQueriesParseAndNameExportedMetrics(t *testing.T) {
	queries, dash := dashboardQueries(t)
	if len(queries) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	if dash["uid"] != "igconnect" {
		t.Errorf("dashboard uid %v, want igconnect (links and provisioning use it)", dash["uid"])
	}
	exported := metrics.Names()
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rules []rule
	used := map[string]bool{}
	for i, q := range queries {
		expr, err := substitute(q.expr)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		checkExported(t, q.where, expr, exported)
		for _, n := range metricNames(expr) {
			used[n] = true
		}
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: expr})
	}
	file := map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}}
	out, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-queries.yaml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log(runPromtool(t, ".", "check", "rules", path))

	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("%d queries over %v", len(queries), names)
}

// TestDashboardPanelsUseTheDataSourceVariable keeps the dashboard importable into any
// Grafana: no panel or target may pin a data source by uid.
func TestDashboardPanelsUseTheDataSourceVariable(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	uids := regexp.MustCompile(`"uid":\s*"([^"]*)"`).FindAllStringSubmatch(string(raw), -1)
	for _, m := range uids {
		if m[1] != "${datasource}" && m[1] != "igconnect" {
			t.Errorf("a data source pinned by uid %q; use ${datasource}", m[1])
		}
	}
}

func TestSubstitute(t *testing.T) {
	got, err := substitute(`rate(x{namespace=~"$namespace"}[$__rate_interval]) + y{n=~"${namespace}"}`)
	if want := `rate(x{namespace=~".*"}[5m]) + y{n=~".*"}`; err != nil || got != want {
		t.Errorf("substitute = %q, %v; want %q", got, err, want)
	}
	if _, err := substitute(`x{pod=~"$pod"}`); err == nil {
		t.Error("an unknown variable must be an error")
	}
}
