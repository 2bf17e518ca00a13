package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The PrometheusRule's groups pass promtool's checks and its unit tests
// (prometheus/alerts-test.yaml), which have each alert once firing and once
// not; each alert's runbook is a heading of docs/runbooks.md. promtool is
// Debian's (the prometheus package), which make test installs.
func TestAlerts(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not installed: run the tests with `make test`, which installs Debian's prometheus package")
	}
	rule, _, err := decodeStrict(documents(t, "kubernetes/monitoring/alerts.yaml")[0])
	if err != nil {
		t.Fatal(err)
	}
	rules, err := yaml.Marshal(rule["spec"])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests, err := os.ReadFile("prometheus/alerts-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "alerts-test.yaml"), tests, 0o644))
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "alerts-test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	var spec struct {
		Groups []struct {
			Rules []struct {
				Alert       string
				Annotations map[string]string
			}
		}
	}
	must(t, yaml.Unmarshal(rules, &spec))
	var cases struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string
				ExpAlerts []any `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		}
	}
	must(t, yaml.Unmarshal(tests, &cases))
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range cases.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	runbooks, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## (\S+)$`).FindAllStringSubmatch(string(runbooks), -1) {
		headings[strings.ToLower(m[1])] = true
	}
	n := 0
	for _, g := range spec.Groups {
		for _, r := range g.Rules {
			n++
			if !firing[r.Alert] || !quiet[r.Alert] {
				t.Errorf("%s: promtool tests it firing %v, not firing %v; want both", r.Alert, firing[r.Alert], quiet[r.Alert])
			}
			_, anchor, _ := strings.Cut(r.Annotations["runbook_url"], "docs/runbooks.md#")
			if !headings[anchor] {
				t.Errorf("%s: its runbook_url %q names no heading of docs/runbooks.md", r.Alert, r.Annotations["runbook_url"])
			}
		}
	}
	if n < 10 {
		t.Errorf("%d alerts, want the ten the runbooks describe", n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
