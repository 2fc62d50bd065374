package observability

import (
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/igconnect/igconnect/internal/metrics"
)

const (
	alertsFile = "../../charts/igconnect/files/alerts.yaml"
	runbooks   = "../../docs/observability.md"
	// runbookBase is where the rules' runbook links point: docs/observability.md on GitHub.
	runbookBase = "https://github.com/igconnect/igconnect/blob/main/docs/observability.md"
)

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Record      string            `json:"record"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

func readAlerts(t *testing.T) ruleFile {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.UnmarshalStrict(raw, &f); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	if len(f.Groups) == 0 {
		t.Fatalf("%s has no groups", alertsFile)
	}
	return f
}

// TestAlertRules runs the rules' unit tests (alerts_test.yaml): when each alert fires, when
// it must not, and what its labels and annotations say. promtool checks the file first.
func TestAlertRules(t *testing.T) {
	out := runPromtool(t, ".", "check", "rules", alertsFile)
	t.Log(out)
	out = runPromtool(t, ".", "test", "rules", "alerts_test.yaml")
	t.Log(out)
}

// TestAlertsAreTestedNameExportedMetricsAndLinkRunbooks checks what promtool cannot: every
// alert selects only metrics the manager registers, has a severity and a summary, links a
// runbook section of docs/observability.md that exists, and has a promtool test case.
func TestAlertsAreTestedNameExportedMetricsAndLinkRunbooks(t *testing.T) {
	f := readAlerts(t)
	exported := metrics.Names()
	anchors := headingAnchors(t, runbooks)
	cases, err := os.ReadFile("alerts_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: a rule without alert (recording rules belong elsewhere): %q", g.Name, r.Expr)
				continue
			}
			alerts = append(alerts, r.Alert)
			checkExported(t, r.Alert, r.Expr, exported)
			if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
				t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s has no summary", r.Alert)
			}
			if !strings.Contains(string(cases), "alertname: "+r.Alert+"\n") {
				t.Errorf("%s has no case in alerts_test.yaml", r.Alert)
			}
			link := r.Annotations["runbook_url"]
			u, err := url.Parse(link)
			if err != nil || !strings.HasPrefix(link, runbookBase+"#") {
				t.Errorf("%s: runbook_url %q, want %s#<section>", r.Alert, link, runbookBase)
				continue
			}
			if !slices.Contains(anchors, u.Fragment) {
				t.Errorf("%s: runbook_url points at #%s, which is no heading of %s (it has %v)", r.Alert, u.Fragment, runbooks, anchors)
			}
			if u.Fragment != strings.ToLower(r.Alert) {
				t.Errorf("%s: runbook_url points at #%s; each alert's runbook is the section named after it", r.Alert, u.Fragment)
			}
		}
	}
	if len(alerts) == 0 {
		t.Fatal("no alerts")
	}
	t.Logf("alerts: %v", alerts)
}

var (
	fence     = regexp.MustCompile("^\\s*(```|~~~)")
	heading   = regexp.MustCompile(`^#{1,6}\s+(.+?)\s*#*\s*$`)
	slugStrip = regexp.MustCompile(`[^\p{L}\p{N}\s_-]`)
)

// headingAnchors returns the anchors GitHub gives the headings of a Markdown file: lower
// case, punctuation dropped, spaces turned into hyphens, "-1", "-2" for repeats.
func headingAnchors(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var anchors []string
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(string(raw), "\n") {
		if fence.MatchString(line) {
			inFence = !inFence
			continue
		}
		m := heading.FindStringSubmatch(line)
		if inFence || m == nil {
			continue
		}
		slug := strings.ToLower(m[1])
		slug = strings.NewReplacer("`", "", "*", "").Replace(slug)
		slug = slugStrip.ReplaceAllString(slug, "")
		slug = strings.ReplaceAll(slug, " ", "-")
		if n := seen[slug]; n > 0 {
			seen[slug] = n + 1
			slug = slug + "-" + string(rune('0'+n))
		} else {
			seen[slug] = 1
		}
		anchors = append(anchors, slug)
	}
	return anchors
}

func TestHeadingAnchors(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/x.md"
	md := "# igconnect: observability\n## `igconnect_build_info`\n```\n# not a heading\n```\n### InstagramTokenExpiresSoon\n## Build info\n## Build info\n"
	if err := os.WriteFile(p, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{"igconnect-observability", "igconnect_build_info", "instagramtokenexpiressoon", "build-info", "build-info-1"}
	if got := headingAnchors(t, p); !slices.Equal(got, want) {
		t.Errorf("headingAnchors = %q, want %q", got, want)
	}
}
