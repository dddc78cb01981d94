// Package alerts holds picsoak's Prometheus rules; its tests run promtool on them
// and check that every alert is tested, annotated and has a runbook section.
package alerts

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/picsoak/picsoak/e2e"
)

const (
	rulesFile   = "picsoak.rules.yml"
	testsFile   = "picsoak.rules.test.yml"
	runbookFile = "../docs/runbook.md"
	runbookBase = "https://github.com/picsoak/picsoak/blob/main/docs/runbook.md#"
)

func TestPromtoolCheckRules(t *testing.T) {
	promtool := e2e.RequireTool(t, "promtool")
	out, err := e2e.RunTool(t, ".", promtool, "check", "rules", rulesFile)
	if err != nil {
		t.Fatalf("promtool check rules %s: got %v, want success; output:\n%s", rulesFile, err, out)
	}
}

func TestPromtoolTestRules(t *testing.T) {
	promtool := e2e.RequireTool(t, "promtool")
	out, err := e2e.RunTool(t, ".", promtool, "test", "rules", testsFile)
	if err != nil {
		t.Fatalf("promtool test rules %s: got %v, want success; output:\n%s", testsFile, err, out)
	}
}

// ruleFile is the part of a Prometheus rule file the checks below read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// testFile is the part of a promtool test file the checks below read.
type testFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			AlertName string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// alertNames lists the alerts of the rule file in file order, each once.
func alertNames(t *testing.T) []string {
	t.Helper()
	var rf ruleFile
	e2e.ReadYAML(t, rulesFile, &rf)
	var names []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !slices.Contains(names, r.Alert) {
				names = append(names, r.Alert)
			}
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s: got no alerts, want some", rulesFile)
	}
	return names
}

// TestEveryAlertFiresAndStaysQuiet: each alert needs a promtool case that expects
// it to fire and one that expects no alert, so a rule that never fires or always
// fires cannot pass.
func TestEveryAlertFiresAndStaysQuiet(t *testing.T) {
	var tf testFile
	e2e.ReadYAML(t, testsFile, &tf)
	if !slices.Contains(tf.RuleFiles, rulesFile) {
		t.Fatalf("%s rule_files: got %v, want it to include %s", testsFile, tf.RuleFiles, rulesFile)
	}
	firing, quiet := map[string]int{}, map[string]int{}
	for _, tc := range tf.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.AlertName]++
			} else {
				quiet[a.AlertName]++
			}
		}
	}
	names := alertNames(t)
	for _, n := range names {
		if firing[n] == 0 {
			t.Errorf("%s: got no case in %s where it fires, want one", n, testsFile)
		}
		if quiet[n] == 0 {
			t.Errorf("%s: got no case in %s where it stays quiet, want one", n, testsFile)
		}
	}
	for n := range firing {
		if !slices.Contains(names, n) {
			t.Errorf("%s tests alert %s: got no such alert in %s", testsFile, n, rulesFile)
		}
	}
}

// TestAlertsAreAnnotated: every alert tells the reader what happened and where the
// runbook is, and has a severity to route on.
func TestAlertsAreAnnotated(t *testing.T) {
	var rf ruleFile
	e2e.ReadYAML(t, rulesFile, &rf)
	template := regexp.MustCompile(`\{\{.*\}\}`)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s severity: got %q, want critical or warning", r.Alert, s)
			}
			for _, k := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[k]) == "" {
					t.Errorf("%s %s: got none, want one", r.Alert, k)
				}
			}
			// Numbers come from templates; only the absent alert has none to show.
			if r.Alert != "PicsoakAbsent" && !template.MatchString(r.Annotations["description"]) {
				t.Errorf("%s description: got %q, want the figures templated in", r.Alert, r.Annotations["description"])
			}
			if got, want := r.Annotations["runbook_url"], runbookBase+strings.ToLower(r.Alert); got != want {
				t.Errorf("%s runbook_url: got %q, want %q", r.Alert, got, want)
			}
		}
	}
}

// TestRunbookCoversEveryAlert: the "## Runbook" section of docs/runbook.md has one
// "### <AlertName>" section per alert, which is what the runbook_url anchors point at.
func TestRunbookCoversEveryAlert(t *testing.T) {
	b, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	_, runbook, found := strings.Cut(string(b), "\n## Runbook\n")
	if !found {
		t.Fatalf("%s: got no \"## Runbook\" section, want one", runbookFile)
	}
	runbook, _, _ = strings.Cut(runbook, "\n## ")
	var sections []string
	for _, line := range strings.Split(runbook, "\n") {
		if s, ok := strings.CutPrefix(line, "### "); ok {
			sections = append(sections, strings.TrimSpace(s))
		}
	}
	names := alertNames(t)
	for _, n := range names {
		if !slices.Contains(sections, n) {
			t.Errorf("%s: got no \"### %s\" section, want one", runbookFile, n)
		}
	}
	for _, s := range sections {
		if !slices.Contains(names, s) {
			t.Errorf("%s section %q: got no alert of that name in %s", runbookFile, s, rulesFile)
		}
	}
}
