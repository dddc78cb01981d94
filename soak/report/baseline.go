package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/picsoak/picsoak/soak"
)

// Compared metrics.
const (
	MetricThroughput   = "throughput"
	MetricP99          = "p99"
	MetricSuccessRatio = "success ratio"
)

// ComparisonRow is one metric of one cycle against its baseline.
type ComparisonRow struct {
	Cycle    soak.Kind `json:"cycle"`
	Metric   string    `json:"metric"`
	Baseline float64   `json:"baseline"` // req/s, seconds or ratio
	Now      float64   `json:"now"`
	// Change is now ÷ baseline − 1 for throughput and p99, now − baseline for the
	// success ratio; 0 when there is nothing to compare.
	Change     float64 `json:"change"`
	Regression bool    `json:"regression"`
	// Note explains a row that was not compared, e.g. a cycle missing from the baseline.
	Note string `json:"note,omitempty"`
}

// Comparison is a run against its baseline.
type Comparison struct {
	Tolerances soak.Tolerances `json:"tolerances"`
	Rows       []ComparisonRow `json:"rows"`
}

// Regressed reports whether any row is a regression.
func (c *Comparison) Regressed() bool {
	for _, r := range c.Rows {
		if r.Regression {
			return true
		}
	}
	return false
}

// Regressions returns the rows of kind that regressed.
func (c *Comparison) Regressions(kind soak.Kind) []ComparisonRow {
	var out []ComparisonRow
	for _, r := range c.Rows {
		if r.Cycle == kind && r.Regression {
			out = append(out, r)
		}
	}
	return out
}

// Compare compares every result of now with the baseline result of the same cycle
// (the last one, if the baseline ran a cycle twice). It is pure: no clock, no I/O.
func Compare(baseline, now []*soak.Result, tol soak.Tolerances) Comparison {
	base := map[soak.Kind]*soak.Result{}
	for _, r := range baseline {
		base[r.Cycle] = r
	}
	c := Comparison{Tolerances: tol}
	for _, r := range now {
		b, ok := base[r.Cycle]
		if !ok {
			c.Rows = append(c.Rows, ComparisonRow{Cycle: r.Cycle, Metric: "—", Note: "not in the baseline"})
			continue
		}
		tp := ComparisonRow{Cycle: r.Cycle, Metric: MetricThroughput, Baseline: b.ThroughputRPS, Now: r.ThroughputRPS}
		if b.ThroughputRPS > 0 {
			tp.Change = r.ThroughputRPS/b.ThroughputRPS - 1
			tp.Regression = -tp.Change > tol.MaxThroughputDrop+1e-12
		} else {
			tp.Note = "baseline has no throughput"
		}
		bp, np := b.Latency.Quantile(0.99), r.Latency.Quantile(0.99)
		p99 := ComparisonRow{Cycle: r.Cycle, Metric: MetricP99, Baseline: bp, Now: np}
		if b.Latency.Count > 0 && bp > 0 {
			p99.Change = np/bp - 1
			p99.Regression = p99.Change > tol.MaxP99Rise+1e-12 && np-bp > tol.P99Slack.Seconds()
		} else {
			p99.Note = "baseline has no latency"
		}
		if r.Latency.Count == 0 && b.Latency.Count > 0 {
			// Nothing completed: the worst latency there is, not an improvement.
			p99.Regression, p99.Note = true, "no request completed"
		}
		sr := ComparisonRow{Cycle: r.Cycle, Metric: MetricSuccessRatio, Baseline: b.SuccessRatio, Now: r.SuccessRatio, Change: r.SuccessRatio - b.SuccessRatio}
		sr.Regression = -sr.Change > tol.MaxSuccessDrop+1e-12
		c.Rows = append(c.Rows, tp, p99, sr)
	}
	return c
}

// Markdown renders the comparison table.
func (c *Comparison) Markdown(baselinePath string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	regressed := 0
	for _, r := range c.Rows {
		if r.Regression {
			regressed++
		}
	}
	w("## Baseline comparison: ")
	if regressed == 0 {
		w("no regression\n\n")
	} else {
		w("%d regression(s)\n\n", regressed)
	}
	t := c.Tolerances
	w("Against `%s`. Allowed: throughput down to −%.0f%%, p99 up to +%.0f%% (or by less than %s), success ratio down by %.4f.\n\n",
		baselinePath, 100*t.MaxThroughputDrop, 100*t.MaxP99Rise, t.P99Slack, t.MaxSuccessDrop)
	w("| cycle | metric | baseline | now | change | verdict |\n|---|---|---|---|---|---|\n")
	for _, r := range c.Rows {
		verdict := "✅ ok"
		if r.Regression {
			verdict = "❌ regression"
		}
		if r.Note != "" {
			verdict += " (" + r.Note + ")"
			if !r.Regression {
				verdict = r.Note
			}
		}
		if r.Metric == "—" {
			w("| %s | — | — | — | — | %s |\n", r.Cycle, verdict)
			continue
		}
		w("| %s | %s | %s | %s | %s | %s |\n", r.Cycle, r.Metric, formatMetric(r.Metric, r.Baseline), formatMetric(r.Metric, r.Now), formatChange(r), verdict)
	}
	return b.String()
}

// Summary is the row in one line, for JUnit failure messages.
func (r ComparisonRow) Summary() string {
	return fmt.Sprintf("%s %s %s → %s (%s)", r.Cycle, r.Metric, formatMetric(r.Metric, r.Baseline), formatMetric(r.Metric, r.Now), formatChange(r))
}

func formatMetric(metric string, v float64) string {
	switch metric {
	case MetricThroughput:
		return fmt.Sprintf("%.1f req/s", v)
	case MetricP99:
		return soak.Seconds(v)
	}
	return fmt.Sprintf("%.4f", v)
}

func formatChange(r ComparisonRow) string {
	switch {
	case r.Note != "" && r.Change == 0:
		return "—"
	case r.Metric == MetricSuccessRatio:
		return fmt.Sprintf("%+.4f", r.Change)
	case math.IsInf(r.Change, 0) || math.IsNaN(r.Change):
		return "—"
	}
	return fmt.Sprintf("%+.1f%%", 100*r.Change)
}
