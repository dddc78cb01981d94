package report

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/picsoak/picsoak/soak"
)

// Markdown renders r as a report that answers the seed report's questions with numbers.
func Markdown(r *soak.Result) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## %s cycle: %s\n\n", titleCase(r.Cycle.String()), verdictBadge(r.Verdict))
	w("- **Target:** %s\n", r.Target)
	w("- **Started:** %s, ran %s\n", r.Start.UTC().Format(time.RFC3339), soak.Seconds(r.DurationSeconds))
	w("- **Verdict:** %s: %s", verdictBadge(r.Verdict), verdictReason(r))
	w("\n\n### Configuration\n\n")
	switch {
	case r.Sustained != nil:
		d := r.Sustained
		w("- Arrival rate: %g req/s for %s (%d requests planned), open model\n", d.RateRPS, soak.Seconds(d.DurationSeconds), d.Planned)
		w("- Most requests in flight: %d\n", d.Workers)
	case r.Burst != nil:
		d := r.Burst
		w("- %d bursts of %d requests (%d in total), %d workers, %s cool-down\n", d.Count, d.Size, d.Count*d.Size, d.Workers, soak.Seconds(d.CooldownSeconds))
	case r.Streams != nil:
		d := r.Streams
		w("- %d independent streams of %d sequential requests (%d in total)\n", d.Count, d.Requests, d.Count*d.Requests)
	case r.Capacity != nil:
		d := r.Capacity
		w("- Stepped arrival rate: from %g req/s up by %g req/s to at most %g req/s, %s per step, open model\n", d.StartRateRPS, d.StepRateRPS, d.MaxRateRPS, soak.Seconds(d.StepDurationSeconds))
		w("- Most requests in flight: %d\n", d.Workers)
		w("- SLO of every step: success ratio at least %g and p99 at most %s; the search stops at the first step that misses it\n", d.MinSuccessRatio, soak.Seconds(d.MaxP99Seconds))
	}
	var bounds []string
	for _, t := range r.Thresholds {
		bounds = append(bounds, "`"+t.String()+"`")
	}
	switch {
	case r.Capacity != nil && len(bounds) > 0:
		w("- Pass when at least the first step meets the SLO and every threshold holds: %s\n", strings.Join(bounds, ", "))
	case r.Capacity != nil:
		w("- Pass when at least the first step meets the SLO\n")
	case len(bounds) > 0:
		w("- Pass when every threshold holds: %s\n", strings.Join(bounds, ", "))
	}

	w("\n### Results\n\n| metric | value |\n|---|---|\n")
	w("| requests | %d |\n", r.Requests.Total())
	for _, o := range soak.Outcomes {
		w("| %s | %d |\n", o, r.Requests[o])
	}
	w("| success ratio | %.4f |\n", r.SuccessRatio)
	w("| throughput | %.1f req/s |\n", r.ThroughputRPS)
	if r.Protocol != "" {
		w("| protocol | %s |\n", r.Protocol)
	}
	if r.TargetRPS > 0 {
		w("| target rate | %g req/s |\n", r.TargetRPS)
	}
	if r.Sustained != nil {
		w("| achieved arrival rate | %.1f req/s (%d of %d sent) |\n", r.Sustained.AchievedRateRPS, r.Sustained.Sent, r.Sustained.Planned)
	}
	if r.Sustained != nil || r.Capacity != nil {
		w("| generator late requests | %d |\n", r.LateRequests)
	}

	writeThresholds(&b, r)
	writeEndpoints(&b, r)

	w("\n### Latency distribution\n\n")
	if r.Latency.Count == 0 {
		w("No request completed.\n")
	} else {
		w("| min | mean | p50 | p90 | p95 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|---|\n")
		w("| %s | %s |", soak.Seconds(r.Latency.Min), soak.Seconds(r.Latency.Mean))
		for _, q := range soak.Quantiles {
			w(" %s |", soak.Seconds(r.Latency.Quantile(q)))
		}
		w("\n")
		if r.Sustained != nil || r.Capacity != nil {
			w("\nLatency counts from each request's intended start, so a stalled PIC cannot hide behind a stalled generator.\n")
		}
		if st := r.ServiceTime; st != nil && st.Count > 0 {
			w("Service time, from each request's actual send as fortio and k6 count it: p50 %s, p99 %s, max %s; the difference to latency is time waiting for picsoak.\n",
				soak.Seconds(st.Quantile(0.5)), soak.Seconds(st.Quantile(0.99)), soak.Seconds(st.Max))
		}
		if r.CPUsKeptAwake {
			w("Idle CPUs polled instead of halting during the cycle (PICSOAK_KEEP_CPUS_AWAKE), so no latency includes a CPU waking up.\n")
		}
	}
	writeDetail(&b, r)
	writeResources(&b, r.Resources)

	w("\n### Capacity\n\n")
	if d := r.Capacity; d != nil {
		writeCapacity(&b, r, d)
	} else if r.EnterpriseTargetRPS > 0 && r.ThroughputRPS > 0 {
		w("Throughput %.1f req/s is %.2f%% of the enterprise target of %g req/s (%.0f× short).\n",
			r.ThroughputRPS, 100*r.Achievement, r.EnterpriseTargetRPS, r.EnterpriseTargetRPS/r.ThroughputRPS)
	} else {
		w("No throughput to compare with the enterprise target.\n")
	}

	w("\n### Findings\n\n")
	for _, f := range r.Findings {
		w("- %s\n", strings.ReplaceAll(f, "\n", " "))
	}
	if len(r.Errors) > 0 {
		w("\n### Example errors\n\n")
		for _, o := range soak.Outcomes {
			if e, ok := r.Errors[o.String()]; ok {
				w("- %s: `%s`\n", o, e)
			}
		}
	}
	return b.String()
}

// verdictReason says in a few words why r got its verdict.
func verdictReason(r *soak.Result) string {
	missed := r.Missed()
	switch {
	case r.Verdict == soak.VerdictAborted:
		return "aborted: " + r.AbortReason + "; the numbers are partial, not judged"
	case len(missed) > 0:
		var s []string
		for _, t := range missed {
			s = append(s, fmt.Sprintf("`%s` (measured %s)", t.String(), t.Measured()))
		}
		return "missed " + strings.Join(s, ", ")
	case r.Capacity != nil && r.Capacity.MaxSustainedRPS == 0:
		return "no step met the SLO"
	case r.Verdict == soak.VerdictFail:
		return "nothing was measured"
	}
	return fmt.Sprintf("every threshold held (%d)", len(r.Thresholds))
}

// writeThresholds is the table of every threshold: its bound, what was measured, ✅/❌.
func writeThresholds(b *strings.Builder, r *soak.Result) {
	if len(r.Thresholds) == 0 {
		return
	}
	b.WriteString("\n### Thresholds\n\n| threshold | bound | measured | |\n|---|---|---|---|\n")
	for _, t := range r.Thresholds {
		mark := "✅"
		if !t.Met {
			mark = "❌"
		}
		fmt.Fprintf(b, "| `%s` | %s %s | %s | %s |\n", t.String(), t.Op, t.FormatValue(t.Bound), t.Measured(), mark)
	}
}

// writeEndpoints breaks the requests down by endpoint, with PIC's status codes.
func writeEndpoints(b *strings.Builder, r *soak.Result) {
	if len(r.Endpoints) == 0 {
		return
	}
	b.WriteString("\n### Endpoints\n\n| endpoint | requests | success ratio | p50 | p99 | status codes |\n|---|---|---|---|---|---|\n")
	for _, e := range r.Endpoints {
		fmt.Fprintf(b, "| %s | %d | %.4f | %s | %s | %s |\n", e.Name, e.Requests.Total(), e.SuccessRatio, soak.Seconds(e.P50Seconds), soak.Seconds(e.P99Seconds), FormatCodes(e.Codes))
	}
}

// FormatCodes writes status counts in code order: "200 × 980, 503 × 20, none × 1".
func FormatCodes(codes map[string]int64) string {
	if len(codes) == 0 {
		return "—"
	}
	keys := slices.Sorted(maps.Keys(codes))
	var s []string
	for _, k := range keys {
		s = append(s, fmt.Sprintf("%s × %d", k, codes[k]))
	}
	return strings.Join(s, ", ")
}

func writeDetail(b *strings.Builder, r *soak.Result) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	switch {
	case r.Sustained != nil:
		d := r.Sustained
		w("\n### Stability within the cycle\n\n| third | requests | success ratio | ok req/s | p99 |\n|---|---|---|---|---|\n")
		w("| first | %d | %.4f | %.1f | %s |\n", d.FirstThird.Requests, d.FirstThird.SuccessRatio, d.FirstThird.OKRPS, soak.Seconds(d.FirstThird.P99Seconds))
		w("| last | %d | %.4f | %.1f | %s |\n", d.LastThird.Requests, d.LastThird.SuccessRatio, d.LastThird.OKRPS, soak.Seconds(d.LastThird.P99Seconds))
		w("\nThroughput change %.3f×, p99 change %.3f×: %s.\n", d.ThroughputChange, d.P99Change, map[bool]string{true: "degraded", false: "no degradation"}[d.Degraded])
	case r.Burst != nil:
		d := r.Burst
		w("\n### Bursts\n\n| burst | requests | duration | req/s | success ratio | p50 | p99 | recovery |\n|---|---|---|---|---|---|---|---|\n")
		for _, s := range d.Bursts {
			rec := "not within cool-down"
			if s.RecoverySeconds >= 0 {
				rec = soak.Seconds(s.RecoverySeconds)
			}
			w("| %d | %d | %s | %.1f | %.4f | %s | %s | %s |\n", s.Index+1, s.Requests, soak.Seconds(s.DurationSeconds), s.RPS, s.SuccessRatio, soak.Seconds(s.P50Seconds), soak.Seconds(s.P99Seconds), rec)
		}
		w("\nPer-burst req/s: min %.1f, mean %.1f, max %.1f, coefficient of variation %.3f. Pre-burst latency %s (median of %d probes); recovered means a probe answered within %s.\n",
			d.RPSSpread.Min, d.RPSSpread.Mean, d.RPSSpread.Max, d.RPSSpread.CoV, soak.Seconds(d.BaselineSeconds), d.BaselineProbes, soak.Seconds(d.RecoveryThresholdSeconds))
	case r.Streams != nil:
		d := r.Streams
		w("\n### Streams\n\n| stream | requests | duration | req/s | success ratio | mean | p50 | p99 |\n|---|---|---|---|---|---|---|---|\n")
		for _, s := range d.Streams {
			w("| %d | %d | %s | %.1f | %.4f | %s | %s | %s |\n", s.Index, s.Requests, soak.Seconds(s.DurationSeconds), s.ThroughputRPS, s.SuccessRatio, soak.Seconds(s.MeanSeconds), soak.Seconds(s.P50Seconds), soak.Seconds(s.P99Seconds))
		}
		w("\nFairness (Jain's index): %.4f. Slowest stream ÷ median: %.3f. Starved streams: %v.\n", d.Fairness, d.Starvation, d.Starved)
	case r.Capacity != nil:
		d := r.Capacity
		w("\n### Capacity steps\n\n| step | offered | achieved | ok req/s | requests | success ratio | p50 | p99 | late | SLO |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range d.Steps {
			slo := "met"
			switch s.Miss {
			case soak.MissSuccessRatio:
				slo = "missed: success ratio"
			case soak.MissP99:
				slo = "missed: p99"
			case soak.MissGenerator:
				slo = "generator-limited"
			}
			w("| %d | %g req/s | %.1f req/s | %.1f | %d | %.4f | %s | %s | %d | %s |\n", s.Index+1, s.OfferedRPS, s.AchievedRPS, s.ThroughputRPS, s.Requests, s.SuccessRatio, soak.Seconds(s.P50Seconds), soak.Seconds(s.P99Seconds), s.LateRequests, slo)
		}
	}
}

// writeCapacity answers the seed's question: how far is PIC from the enterprise target?
func writeCapacity(b *strings.Builder, r *soak.Result, d *soak.CapacityDetail) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if d.MaxSustainedRPS > 0 {
		w("Highest sustained rate within the SLO: **%g req/s**, %.2f%% of the enterprise target of %g req/s", d.MaxSustainedRPS, 100*d.Achievement, r.EnterpriseTargetRPS)
		if d.Achievement < 1 {
			w(" (%.1f× short)", r.EnterpriseTargetRPS/d.MaxSustainedRPS)
		}
		w(".\n\n")
	} else {
		w("No step met the SLO: PIC sustained no rate of the search; the enterprise target is %g req/s.\n\n", r.EnterpriseTargetRPS)
	}
	switch d.Stop {
	case soak.CapacityStopKnee:
		w("Knee: **%g req/s**, the first step that missed the SLO.\n", d.KneeRPS)
	case soak.CapacityStopCeiling:
		w("Knee: none up to the ceiling of %g req/s; PIC's capacity is higher.\n", d.MaxRateRPS)
	case soak.CapacityStopGenerator:
		w("Knee: not found. picsoak's generator fell behind first (late requests), so the last step measured picsoak, not PIC.\n")
	case soak.CapacityStopAborted:
		w("Knee: not found; the cycle was stopped during a step.\n")
	}
}

func writeResources(b *strings.Builder, rep *soak.ResourceReport) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("\n### PIC resource usage\n\n")
	if rep == nil {
		w("Not sampled: set PICSOAK_TARGET_METRICS_URL or PICSOAK_TARGET_PID.\n")
		return
	}
	pick := func(s *soak.ResourceSample, f func(*soak.ResourceSample) *float64) *float64 {
		if s == nil {
			return nil
		}
		return f(s)
	}
	row := func(name string, f func(*soak.ResourceSample) *float64, format func(*float64) string, growth *float64) {
		w("| %s | %s | %s | %s | %s |\n", name, format(pick(rep.Before, f)), format(pick(rep.Peak, f)), format(pick(rep.After, f)), format(growth))
	}
	w("| resource | before | peak | after | after − before |\n|---|---|---|---|---|\n")
	row("resident memory", func(s *soak.ResourceSample) *float64 { return s.ResidentMemoryBytes }, formatBytes, rep.MemoryGrowthBytes)
	row("goroutines", func(s *soak.ResourceSample) *float64 { return s.Goroutines }, formatCount, rep.GoroutineGrowth)
	row("threads", func(s *soak.ResourceSample) *float64 { return s.Threads }, formatCount, diff(pick(rep.After, func(s *soak.ResourceSample) *float64 { return s.Threads }), pick(rep.Before, func(s *soak.ResourceSample) *float64 { return s.Threads })))
	cpu := func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.2f s", *v)
	}
	row("CPU", func(s *soak.ResourceSample) *float64 { return s.CPUSeconds }, cpu, rep.CPUSeconds)
	if rep.SuspectedLeak {
		w("\n**Suspected leak:** growth did not return after the cycle.\n")
	}
}

func verdictBadge(v soak.Verdict) string {
	switch v {
	case soak.VerdictPass:
		return "✅ PASS"
	case soak.VerdictFail:
		return "❌ FAIL"
	}
	return "⚠️ ABORTED"
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// SummaryMarkdown renders the results of one run: an overview table, then each report.
func SummaryMarkdown(results []*soak.Result) string {
	var b strings.Builder
	passed := 0
	for _, r := range results {
		if r.Verdict == soak.VerdictPass {
			passed++
		}
	}
	fmt.Fprintf(&b, "# picsoak run: %d of %d cycles passed\n\n", passed, len(results))
	b.WriteString("| cycle | verdict | requests | success ratio | throughput | p50 | p99 | max | thresholds missed |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		missed := "none"
		if m := r.Missed(); len(m) > 0 {
			var s []string
			for _, t := range m {
				s = append(s, "`"+t.String()+"`")
			}
			missed = strings.Join(s, ", ")
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.4f | %.1f req/s | %s | %s | %s | %s |\n", r.Cycle, verdictBadge(r.Verdict), r.Requests.Total(),
			r.SuccessRatio, r.ThroughputRPS, soak.Seconds(r.Latency.Quantile(0.5)), soak.Seconds(r.Latency.Quantile(0.99)), soak.Seconds(r.Latency.Max), missed)
	}
	for _, r := range results {
		b.WriteString("\n")
		b.WriteString(Markdown(r))
	}
	return b.String()
}

func formatBytes(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", *v/(1<<20))
}

func formatCount(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*v, 'f', 0, 64)
}

func diff(a, b *float64) *float64 {
	if a == nil || b == nil {
		return nil
	}
	d := *a - *b
	return &d
}
