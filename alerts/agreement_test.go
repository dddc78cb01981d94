package alerts

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picsoak/picsoak/e2e"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/report"
)

// TestRulesAndRunBaselineAgree feeds the daemon's regression alerts and picsoak run
// --baseline the same baseline and the same new cycle, with the tolerances the
// default configuration exports, and wants the alert firing exactly when the run
// finds a regression: one configuration tunes both.
func TestRulesAndRunBaselineAgree(t *testing.T) {
	promtool := e2e.RequireTool(t, "promtool")
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	tol := cfg.Plan.Regression
	// Each row is one instance: its baseline figure for a 7-day median, then the new
	// cycle's.
	cases := []struct {
		metric    string // report's MetricP99 or MetricThroughput
		base, now float64
	}{
		{report.MetricP99, 0.002, 0.02},    // tenfold at 2ms
		{report.MetricP99, 0.002, 0.003},   // 1.5-fold at 2ms
		{report.MetricP99, 0.2, 2},         // tenfold at 200ms
		{report.MetricP99, 0.2, 0.3},       // 1.5-fold at 200ms
		{report.MetricP99, 0.0002, 0.002},  // tenfold at 0.2ms
		{report.MetricP99, 0.0001, 0.0009}, // ninefold, under the slack
		{report.MetricP99, 0.05, 0.11},     // just over double
		{report.MetricThroughput, 1000, 500},
		{report.MetricThroughput, 1000, 800},
		{report.MetricThroughput, 50000, 34000},
		{report.MetricThroughput, 50000, 36000},
	}
	var series, want strings.Builder
	gauge := func(name string, v float64, instance string) {
		fmt.Fprintf(&series, "      - series: '%s{job=\"picsoak\",instance=\"%s\"}'\n        values: '%gx61'\n", name, instance, v)
	}
	for i, c := range cases {
		inst := fmt.Sprintf("i%d", i)
		gauge("picsoak_regression_max_throughput_drop_ratio", tol.MaxThroughputDrop, inst)
		gauge("picsoak_regression_max_p99_rise_ratio", tol.MaxP99Rise, inst)
		gauge("picsoak_regression_p99_slack_seconds", tol.P99Slack.Seconds(), inst)
		base, now := &soak.Result{Cycle: soak.Burst}, &soak.Result{Cycle: soak.Burst}
		alert := "PicsoakLatencyP99Regression"
		if c.metric == report.MetricP99 {
			base.Latency = soak.LatencySummary{Count: 1000, Quantiles: []soak.QuantileValue{{Quantile: 0.99, Seconds: c.base}}}
			now.Latency = soak.LatencySummary{Count: 1000, Quantiles: []soak.QuantileValue{{Quantile: 0.99, Seconds: c.now}}}
			fmt.Fprintf(&series, "      - series: 'picsoak_cycle_latency_seconds{job=\"picsoak\",instance=\"%s\",cycle=\"burst\",quantile=\"0.99\"}'\n        values: '%gx60 %g'\n", inst, c.base, c.now)
		} else {
			alert = "PicsoakThroughputRegression"
			base.ThroughputRPS, now.ThroughputRPS = c.base, c.now
			fmt.Fprintf(&series, "      - series: 'picsoak_cycle_throughput_rps{job=\"picsoak\",instance=\"%s\",cycle=\"burst\"}'\n        values: '%gx60 %g'\n", inst, c.base, c.now)
		}
		regressed := false
		for _, row := range report.Compare([]*soak.Result{base}, []*soak.Result{now}, tol).Rows {
			regressed = regressed || row.Metric == c.metric && row.Regression
		}
		t.Logf("%s %s %g → %g: run --baseline regressed: %v", inst, c.metric, c.base, c.now, regressed)
		if regressed {
			fmt.Fprintf(&want, "          - labels: 'ALERTS{alertname=%q,alertstate=\"firing\",severity=\"warning\",job=\"picsoak\",instance=%q,cycle=\"burst\"}'\n            value: 1\n", alert, inst)
		}
	}
	dir := t.TempDir()
	rules, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	test := fmt.Sprintf(`rule_files:
  - %s
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: ALERTS{alertname=~"Picsoak(LatencyP99|Throughput)Regression"}
        eval_time: 61m
        exp_samples:
%s`, rules, series.String(), want.String())
	path := filepath.Join(dir, "agreement.test.yml")
	if err := os.WriteFile(path, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := e2e.RunTool(t, dir, promtool, "test", "rules", path); err != nil {
		t.Errorf("the rules and picsoak run --baseline disagree: promtool test rules: %v\n%s", err, out)
	}
}
