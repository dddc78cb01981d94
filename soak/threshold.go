package soak

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Threshold is a bound one figure of a cycle must hold for the cycle to pass, written
// as k6 writes them: p99<=250ms, success>=0.99.
type Threshold struct {
	// Metric names the figure: p50 p90 p95 p99 p99.9 max mean (latency), success,
	// rps, rate (open-model cycles), recovery (burst), fairness (streams).
	Metric string `json:"metric"`
	Op     string `json:"op"` // <, <=, > or >=
	// Bound is in base units: seconds for the latency figures and recovery, req/s for
	// rps, a ratio for the others.
	Bound float64 `json:"bound"`
}

// ThresholdResult is one threshold against what a cycle measured.
type ThresholdResult struct {
	Threshold
	// Value is the measured figure in the bound's units; nil when the cycle measured
	// none (no request completed, a burst that never recovered), which misses.
	Value *float64 `json:"value"`
	Met   bool     `json:"met"`
	// Note says why there is no value.
	Note string `json:"note,omitempty"`
}

// latencyFigures are the latency quantiles a threshold may name, by name.
var latencyFigures = map[string]float64{"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}

// Figures lists the figures a threshold of kind may name.
func (k Kind) Figures() []string {
	out := []string{"p50", "p90", "p95", "p99", "p99.9", "max", "mean", "success", "rps"}
	switch k {
	case Sustained, Capacity:
		out = append(out, "rate")
	case Burst:
		out = append(out, "recovery")
	case Streams:
		out = append(out, "fairness")
	}
	return out
}

// HasFigure says whether a threshold of kind may name metric.
func (k Kind) HasFigure(metric string) bool { return slices.Contains(k.Figures(), metric) }

// Duration says whether the figure is a time, written and bounded as a duration.
func (t Threshold) Duration() bool {
	_, q := latencyFigures[t.Metric]
	return q || t.Metric == "max" || t.Metric == "mean" || t.Metric == "recovery"
}

// String writes t as it is configured: p99<=1s, success>=0.95.
func (t Threshold) String() string { return t.Metric + t.Op + t.FormatValue(t.Bound) }

// FormatValue writes a value of t's figure: a duration for times, a number otherwise.
func (t Threshold) FormatValue(v float64) string {
	if t.Duration() {
		return time.Duration(math.Round(v * float64(time.Second))).String()
	}
	return formatNumber(v)
}

// holds says whether v satisfies t.
func (t Threshold) holds(v float64) bool {
	switch t.Op {
	case "<":
		return v < t.Bound
	case "<=":
		return v <= t.Bound
	case ">":
		return v > t.Bound
	case ">=":
		return v >= t.Bound
	}
	return false
}

// figure is r's value of a threshold's metric, or why it has none.
func (r *Result) figure(metric string) (float64, string) {
	noLatency := "no request completed"
	switch metric {
	case "max", "mean":
		if r.Latency.Count == 0 {
			return 0, noLatency
		}
		if metric == "max" {
			return r.Latency.Max, ""
		}
		return r.Latency.Mean, ""
	case "success":
		if r.Requests.Total() == 0 {
			return 0, "no request was sent"
		}
		return r.SuccessRatio, ""
	case "rps":
		return r.ThroughputRPS, ""
	case "rate":
		return r.achievedRate()
	case "recovery":
		return r.worstRecovery()
	case "fairness":
		if r.Streams == nil || r.Requests.Total() == 0 {
			return 0, "no stream ran"
		}
		return r.Streams.Fairness, ""
	}
	if q, ok := latencyFigures[metric]; ok {
		if r.Latency.Count == 0 {
			return 0, noLatency
		}
		return r.Latency.Quantile(q), ""
	}
	return 0, "not a figure of this cycle"
}

// achievedRate is the rate picsoak sent at ÷ the rate configured: sustained, or the
// capacity cycle's steps together.
func (r *Result) achievedRate() (float64, string) {
	switch {
	case r.Sustained != nil && r.Sustained.RateRPS > 0:
		return r.Sustained.AchievedRateRPS / r.Sustained.RateRPS, ""
	case r.Capacity != nil && len(r.Capacity.Steps) > 0:
		var sent, offered float64
		for _, s := range r.Capacity.Steps {
			sent += s.AchievedRPS
			offered += s.OfferedRPS
		}
		return sent / offered, ""
	}
	return 0, "nothing was sent"
}

// worstRecovery is the slowest burst's recovery time.
func (r *Result) worstRecovery() (float64, string) {
	if r.Burst == nil || len(r.Burst.Bursts) == 0 {
		return 0, "no burst ran"
	}
	worst := 0.0
	for _, b := range r.Burst.Bursts {
		if b.RecoverySeconds < 0 {
			return 0, fmt.Sprintf("burst %d did not recover within the cool-down", b.Index+1)
		}
		worst = max(worst, b.RecoverySeconds)
	}
	return worst, ""
}

// judge evaluates every threshold against r and adds a finding per missed one. It
// reports whether all held.
func (r *Result) judge(thresholds []Threshold) bool {
	r.Thresholds = make([]ThresholdResult, 0, len(thresholds))
	all := true
	for _, t := range thresholds {
		tr := ThresholdResult{Threshold: t}
		v, note := r.figure(t.Metric)
		if note == "" {
			tr.Value, tr.Met = &v, t.holds(v)
		} else {
			tr.Note = note
		}
		r.Thresholds = append(r.Thresholds, tr)
		if tr.Met {
			continue
		}
		all = false
		if tr.Value != nil {
			r.Findings = append(r.Findings, fmt.Sprintf("Threshold %s missed: %s was %s.", t, t.Metric, t.FormatValue(*tr.Value)))
		} else {
			r.Findings = append(r.Findings, fmt.Sprintf("Threshold %s missed: %s.", t, note))
		}
	}
	return all
}

// Measured writes the value the threshold was held to, or why there was none.
func (t ThresholdResult) Measured() string {
	if t.Value == nil {
		return t.Note
	}
	return t.FormatValue(*t.Value)
}

// Missed lists the thresholds r missed, in order.
func (r *Result) Missed() []ThresholdResult {
	var out []ThresholdResult
	for _, t := range r.Thresholds {
		if !t.Met {
			out = append(out, t)
		}
	}
	return out
}
