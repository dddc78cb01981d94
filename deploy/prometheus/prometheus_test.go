// Package prometheus holds the Prometheus configuration of docker-compose; its test
// validates it with promtool against the real rule file.
package prometheus

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/picsoak/picsoak/e2e"
)

// TestPromtoolCheckConfig runs promtool check config, which also checks the rule
// files the configuration names. In compose the rules are mounted at
// /etc/prometheus/rules, so the test checks a copy whose rule_files point at
// alerts/ with the same file pattern.
func TestPromtoolCheckConfig(t *testing.T) {
	promtool := e2e.RequireTool(t, "promtool")
	cfg := readConfig(t)
	if len(cfg["rule_files"].([]any)) != 1 {
		t.Fatalf("rule_files: got %v, want one pattern", cfg["rule_files"])
	}
	pattern := path.Base(cfg["rule_files"].([]any)[0].(string))
	alerts := filepath.Join(e2e.RepoRoot(t), "alerts")
	cfg["rule_files"] = []any{filepath.Join(alerts, pattern)}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := e2e.RunTool(t, ".", promtool, "check", "config", tmp)
	if err != nil {
		t.Fatalf("promtool check config: got %v, want success; output:\n%s", err, res)
	}
	t.Logf("promtool check config:\n%s", res)
}

// TestRuleFilePattern: the pattern loads the rules and skips the promtool unit
// tests that sit beside them, which Prometheus cannot load as rules.
func TestRuleFilePattern(t *testing.T) {
	cfg := readConfig(t)
	pattern := path.Base(cfg["rule_files"].([]any)[0].(string))
	for name, want := range map[string]bool{"picsoak.rules.yml": true, "picsoak.rules.test.yml": false} {
		if _, err := os.Stat(filepath.Join(e2e.RepoRoot(t), "alerts", name)); err != nil {
			t.Fatal(err)
		}
		if got, _ := path.Match(pattern, name); got != want {
			t.Errorf("rule_files pattern %q matches %s: got %v, want %v", pattern, name, got, want)
		}
	}
}

// TestScrapeTargets: compose's service names and ports, and the job name the
// rules select on.
func TestScrapeTargets(t *testing.T) {
	cfg := readConfig(t)
	want := map[string]string{"picsoak": "picsoak:9853", "pic": "pic:8080"}
	got := map[string]string{}
	for _, sc := range cfg["scrape_configs"].([]any) {
		sc := sc.(map[string]any)
		for _, st := range sc["static_configs"].([]any) {
			for _, target := range st.(map[string]any)["targets"].([]any) {
				got[sc["job_name"].(string)] = target.(string)
			}
		}
	}
	for job, target := range want {
		if got[job] != target {
			t.Errorf("job %q target: got %q, want %q", job, got[job], target)
		}
	}
	var am []any
	for _, a := range cfg["alerting"].(map[string]any)["alertmanagers"].([]any) {
		for _, st := range a.(map[string]any)["static_configs"].([]any) {
			am = append(am, st.(map[string]any)["targets"].([]any)...)
		}
	}
	if !slices.Contains(am, any("alertmanager:9093")) {
		t.Errorf("alertmanagers: got %v, want alertmanager:9093", am)
	}
}

func readConfig(t *testing.T) map[string]any {
	t.Helper()
	var cfg map[string]any
	e2e.ReadYAML(t, "prometheus.yml", &cfg)
	return cfg
}
