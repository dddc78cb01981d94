package report

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picsoak/picsoak/soak"
)

// measured is a result with the figures the comparison looks at.
func measured(kind soak.Kind, rps, p99, success float64) *soak.Result {
	return &soak.Result{
		Cycle: kind, Verdict: soak.VerdictPass, MinSuccessRatio: 0.95, ThroughputRPS: rps, SuccessRatio: success,
		Latency: soak.LatencySummary{Count: 100, Quantiles: []soak.QuantileValue{{Quantile: 0.5, Seconds: p99 / 2}, {Quantile: 0.99, Seconds: p99}}},
	}
}

// testTolerances allow 10 % less throughput, 20 % and 1 ms more p99, 0.01 less success.
var testTolerances = soak.Tolerances{MaxThroughputDrop: 0.10, MaxP99Rise: 0.20, P99Slack: time.Millisecond, MaxSuccessDrop: 0.01}

func TestCompare(t *testing.T) {
	tol := testTolerances
	tests := []struct {
		name     string
		base     *soak.Result
		now      *soak.Result
		regress  map[string]bool // metric → regression
		wantNote string
	}{
		{"unchanged", measured(soak.Burst, 1000, 0.010, 1), measured(soak.Burst, 1000, 0.010, 1), map[string]bool{}, ""},
		{"throughput drop within tolerance", measured(soak.Burst, 1000, 0.010, 1), measured(soak.Burst, 901, 0.010, 1), map[string]bool{}, ""},
		{"throughput drop beyond tolerance", measured(soak.Burst, 1000, 0.010, 1), measured(soak.Burst, 899, 0.010, 1), map[string]bool{MetricThroughput: true}, ""},
		{"throughput rise is fine", measured(soak.Burst, 1000, 0.010, 1), measured(soak.Burst, 5000, 0.010, 1), map[string]bool{}, ""},
		{"p99 rise beyond tolerance", measured(soak.Burst, 1000, 0.010, 1), measured(soak.Burst, 1000, 0.0125, 1), map[string]bool{MetricP99: true}, ""},
		{"p99 rise within tolerance", measured(soak.Burst, 1000, 0.010, 1), measured(soak.Burst, 1000, 0.0119, 1), map[string]bool{}, ""},
		// 2 ms → 2.9 ms is +45 % but under the 1 ms slack: noise, not a regression.
		{"small absolute p99 rise is slack", measured(soak.Burst, 1000, 0.002, 1), measured(soak.Burst, 1000, 0.0029, 1), map[string]bool{}, ""},
		{"success drop beyond tolerance", measured(soak.Burst, 1000, 0.010, 1), measured(soak.Burst, 1000, 0.010, 0.985), map[string]bool{MetricSuccessRatio: true}, ""},
		{"success drop within tolerance", measured(soak.Burst, 1000, 0.010, 1), measured(soak.Burst, 1000, 0.010, 0.995), map[string]bool{}, ""},
		{"everything worse", measured(soak.Streams, 100, 0.010, 1), measured(soak.Streams, 10, 0.100, 0.5), map[string]bool{MetricThroughput: true, MetricP99: true, MetricSuccessRatio: true}, ""},
		{"baseline without throughput is not compared", measured(soak.Burst, 0, 0.010, 1), measured(soak.Burst, 10, 0.010, 1), map[string]bool{}, "baseline has no throughput"},
		{"nothing completed is a p99 regression", measured(soak.Burst, 1000, 0.010, 1), &soak.Result{Cycle: soak.Burst, SuccessRatio: 1, ThroughputRPS: 1000}, map[string]bool{MetricP99: true}, "no request completed"},
		{"cycle missing from the baseline", measured(soak.Sustained, 50, 0.01, 1), measured(soak.Burst, 1000, 0.01, 1), map[string]bool{}, "not in the baseline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare([]*soak.Result{tt.base}, []*soak.Result{tt.now}, tol)
			var notes []string
			for _, row := range c.Rows {
				if row.Regression != tt.regress[row.Metric] {
					t.Errorf("%s: got regression %v, want %v (row %+v)", row.Metric, row.Regression, tt.regress[row.Metric], row)
				}
				if row.Note != "" {
					notes = append(notes, row.Note)
				}
			}
			if got := strings.Join(notes, "; "); got != tt.wantNote {
				t.Errorf("notes: got %q, want %q", got, tt.wantNote)
			}
			if got, want := c.Regressed(), len(tt.regress) > 0; got != want {
				t.Errorf("Regressed: got %v, want %v", got, want)
			}
		})
	}
}

func TestComparisonMarkdown(t *testing.T) {
	c := Compare([]*soak.Result{measured(soak.Streams, 100, 0.004, 1)}, []*soak.Result{measured(soak.Streams, 50, 0.004, 1)}, testTolerances)
	md := c.Markdown("base.json")
	for _, want := range []string{
		"## Baseline comparison: 1 regression(s)",
		"| cycle | metric | baseline | now | change | verdict |",
		"| streams | throughput | 100.0 req/s | 50.0 req/s | -50.0% | ❌ regression |",
		"| streams | success ratio | 1.0000 | 1.0000 | +0.0000 | ✅ ok |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestReadRunAcceptsRunsAndSingleReports(t *testing.T) {
	dir := t.TempDir()
	run := Run{Target: "http://pic", Results: []*soak.Result{measured(soak.Burst, 1000, 0.01, 1), measured(soak.Streams, 100, 0.01, 1)}}
	b, _ := json.Marshal(run)
	runPath := filepath.Join(dir, "run.json")
	os.WriteFile(runPath, b, 0o644)
	store := &Store{Dir: dir, Keep: 10}
	single, err := store.Write(measured(soak.Sustained, 50, 0.01, 1))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "empty.json"), []byte(`{"results": []}`), 0o644)
	os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"hello": 1}`), 0o644)

	tests := []struct {
		path    string
		cycles  int
		wantErr string
	}{
		{runPath, 2, ""},
		{single, 1, ""}, // a report from the store, e.g. the last good daemon cycle
		{filepath.Join(dir, "empty.json"), 0, "no results to compare with"},
		{filepath.Join(dir, "other.json"), 0, "not a picsoak run or report"},
		{filepath.Join(dir, "missing.json"), 0, "no such file"},
	}
	for _, tt := range tests {
		rr, err := ReadRun(tt.path)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: got %v, want an error containing %q", filepath.Base(tt.path), err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(rr.Results) != tt.cycles {
			t.Errorf("%s: got %v, %d results; want %d", filepath.Base(tt.path), err, len(rr.Results), tt.cycles)
		}
	}
}

func TestJUnit(t *testing.T) {
	pass := measured(soak.Sustained, 50, 0.01, 1)
	fail := measured(soak.Burst, 1000, 0.01, 0.5)
	fail.Verdict, fail.Findings = soak.VerdictFail, []string{"Threshold success>=0.9 missed: success was 0.5."}
	half, p99 := 0.5, 0.01
	fail.Thresholds = []soak.ThresholdResult{
		{Threshold: soak.Threshold{Metric: "success", Op: ">=", Bound: 0.9}, Value: &half},
		{Threshold: soak.Threshold{Metric: "p99", Op: "<=", Bound: 0.005}, Value: &p99},
		{Threshold: soak.Threshold{Metric: "max", Op: "<=", Bound: 1}, Value: &p99, Met: true},
	}
	aborted := measured(soak.Streams, 100, 0.01, 1)
	aborted.Verdict, aborted.AbortReason = soak.VerdictAborted, "stopped (shutdown)"
	regressed := measured(soak.Sustained, 50, 0.5, 1)
	cmp := Compare([]*soak.Result{measured(soak.Sustained, 50, 0.01, 1)}, []*soak.Result{regressed}, testTolerances)

	out, err := JUnit(&Run{Target: "http://pic", Start: time.Unix(0, 0), Results: []*soak.Result{pass, fail, aborted}})
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, out)
	}
	if len(doc.Suites) != 1 || doc.Tests != 3 || doc.Failures != 1 || doc.Errors != 1 {
		t.Fatalf("got %d suites, %d tests, %d failures, %d errors; want 1, 3, 1, 1\n%s", len(doc.Suites), doc.Tests, doc.Failures, doc.Errors, out)
	}
	cases := doc.Suites[0].Cases
	if cases[0].Failure != nil || cases[0].Error != nil {
		t.Errorf("passing cycle: got %+v %+v, want no failure", cases[0].Failure, cases[0].Error)
	}
	// One line per missed threshold, naming it and what was measured; the held one not.
	if f := cases[1].Failure; f == nil || f.Message != "threshold success>=0.9 missed: success 0.5; threshold p99<=5ms missed: p99 10ms" || !strings.Contains(f.Body, "Threshold success>=0.9 missed") {
		t.Errorf("failed cycle: got %+v, want a failure naming both missed thresholds, with the findings", f)
	}
	if e := cases[2].Error; e == nil || e.Message != "aborted: stopped (shutdown)" {
		t.Errorf("aborted cycle: got %+v, want an error naming the reason", e)
	}

	out, err = JUnit(&Run{Results: []*soak.Result{regressed}, Comparison: &cmp, Baseline: "base.json"})
	if err != nil {
		t.Fatal(err)
	}
	var doc2 junitSuites
	if err := xml.Unmarshal(out, &doc2); err != nil {
		t.Fatal(err)
	}
	if f := doc2.Suites[0].Cases[0].Failure; f == nil || f.Type != "regression" || !strings.Contains(f.Message, "sustained p99") {
		t.Errorf("regressed cycle: got %+v, want a regression failure naming sustained p99", f)
	}
}
