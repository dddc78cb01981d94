// Package alertmanager holds the Alertmanager configuration of docker-compose; its
// test validates it with amtool.
package alertmanager

import (
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/picsoak/picsoak/e2e"
)

func TestAmtoolCheckConfig(t *testing.T) {
	amtool := e2e.RequireTool(t, "amtool")
	out, err := e2e.RunTool(t, ".", amtool, "check-config", "alertmanager.yml")
	if err != nil {
		t.Fatalf("amtool check-config: got %v, want success; output:\n%s", err, out)
	}
	t.Logf("amtool check-config:\n%s", out)
}

// TestRouteAndInhibitions: notifications are grouped per alert and cycle kind, and
// every alert name an inhibit rule refers to exists in the rule file, so renaming
// an alert cannot silently disable an inhibition.
func TestRouteAndInhibitions(t *testing.T) {
	var cfg struct {
		Route struct {
			GroupBy []string `yaml:"group_by"`
		} `yaml:"route"`
		Inhibit []struct {
			Source []string `yaml:"source_matchers"`
			Target []string `yaml:"target_matchers"`
		} `yaml:"inhibit_rules"`
	}
	e2e.ReadYAML(t, "alertmanager.yml", &cfg)
	for _, l := range []string{"alertname", "cycle"} {
		if !slices.Contains(cfg.Route.GroupBy, l) {
			t.Errorf("route group_by: got %v, want it to include %s", cfg.Route.GroupBy, l)
		}
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	e2e.ReadYAML(t, filepath.Join(e2e.RepoRoot(t), "alerts", "picsoak.rules.yml"), &rules)
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
		}
	}
	name := regexp.MustCompile(`^alertname="([^"]+)"$`)
	for _, ir := range cfg.Inhibit {
		for _, m := range append(ir.Source, ir.Target...) {
			if n := name.FindStringSubmatch(m); n != nil && !slices.Contains(alerts, n[1]) {
				t.Errorf("inhibit rule matcher %s: got no alert %s in alerts/picsoak.rules.yml", m, n[1])
			}
		}
	}
}
