package soak

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ReportStore writes each result as <Dir>/<time>-<cycle>.json and .md and keeps the
// newest Keep of each cycle kind.
type ReportStore struct {
	Dir  string
	Keep int
}

// reportTimeLayout sorts lexically in time order and is safe in every file system.
const reportTimeLayout = "20060102T150405.000Z"

// tempPrefix marks files being written; a crash can leave them, and they are never
// read as reports.
const tempPrefix = ".tmp-"

// Write writes r's JSON and Markdown reports atomically (temp file, fsync, rename) and
// deletes the oldest ones of its kind beyond Keep. It returns the JSON report's path.
func (s *ReportStore) Write(r *Result) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", fmt.Errorf("report directory: %w", err)
	}
	base := filepath.Join(s.Dir, r.Start.UTC().Format(reportTimeLayout)+"-"+r.Cycle.String())
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding report: %w", err)
	}
	if err := writeAtomic(base+".json", append(js, '\n')); err != nil {
		return "", err
	}
	if err := writeAtomic(base+".md", []byte("# picsoak report\n\n"+Markdown(r))); err != nil {
		return "", err
	}
	return base + ".json", s.prune(r.Cycle)
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return nil
}

// List returns the JSON report paths of kind, oldest first.
func (s *ReportStore) List(kind Kind) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(s.Dir, "*-"+kind.String()+".json"))
	if err != nil {
		return nil, err
	}
	paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasPrefix(filepath.Base(p), tempPrefix) })
	slices.Sort(paths)
	return paths, nil
}

func (s *ReportStore) prune(kind Kind) error {
	paths, err := s.List(kind)
	if err != nil || len(paths) <= s.Keep {
		return err
	}
	var errs []error
	for _, p := range paths[:len(paths)-s.Keep] {
		for _, f := range []string{p, strings.TrimSuffix(p, ".json") + ".md"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Latest returns the newest readable report of kind, nil when there is none. Files
// that cannot be read as a report of kind (truncated, corrupt, or another kind's) are
// skipped, each with an error naming it, for the caller to log; a crash cannot leave a
// partial report behind (writes are atomic), but a disk or an operator can.
func (s *ReportStore) Latest(kind Kind) (*Result, []error) {
	paths, err := s.List(kind)
	if err != nil {
		return nil, []error{fmt.Errorf("listing reports in %s: %w", s.Dir, err)}
	}
	var skipped []error
	for i := len(paths) - 1; i >= 0; i-- {
		r, err := ReadReport(paths[i])
		if err == nil && (r.Cycle != kind || r.Start.IsZero()) {
			err = fmt.Errorf("report %s: not a %s cycle's report", paths[i], kind)
		}
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		return r, skipped
	}
	return nil, skipped
}

// ReadReport reads a JSON report back.
func ReadReport(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	return &r, nil
}

// Markdown renders r as a report that answers the seed report's questions with numbers.
func Markdown(r *Result) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## %s cycle: %s\n\n", titleCase(r.Cycle.String()), verdictBadge(r.Verdict))
	w("- **Target:** %s\n", r.Target)
	w("- **Started:** %s, ran %s\n", r.Start.UTC().Format(time.RFC3339), seconds(r.DurationSeconds))
	w("- **Verdict:** %s: success ratio %.4f against the threshold %.4f", verdictBadge(r.Verdict), r.SuccessRatio, r.MinSuccessRatio)
	if r.AbortReason != "" {
		w(" (aborted: %s; the numbers are partial)", r.AbortReason)
	}
	w("\n\n### Configuration\n\n")
	switch {
	case r.Sustained != nil:
		d := r.Sustained
		w("- Arrival rate: %g req/s for %s (%d requests planned), open model\n", d.RateRPS, seconds(d.DurationSeconds), d.Planned)
		w("- Most requests in flight: %d\n", d.Workers)
	case r.Burst != nil:
		d := r.Burst
		w("- %d bursts of %d requests (%d in total), %d workers, %s cool-down\n", d.Count, d.Size, d.Count*d.Size, d.Workers, seconds(d.CooldownSeconds))
	case r.Streams != nil:
		d := r.Streams
		w("- %d independent streams of %d sequential requests (%d in total)\n", d.Count, d.Requests, d.Count*d.Requests)
	case r.Capacity != nil:
		d := r.Capacity
		w("- Stepped arrival rate: from %g req/s up by %g req/s to at most %g req/s, %s per step, open model\n", d.StartRateRPS, d.StepRateRPS, d.MaxRateRPS, seconds(d.StepDurationSeconds))
		w("- Most requests in flight: %d\n", d.Workers)
		w("- SLO of every step: success ratio at least %g and p99 at most %s; the search stops at the first step that misses it\n", d.MinSuccessRatio, seconds(d.MaxP99Seconds))
	}
	if r.Capacity != nil {
		w("- Pass when at least the first step meets the SLO\n")
	} else {
		w("- Pass when the success ratio is at least %g\n", r.MinSuccessRatio)
	}

	w("\n### Results\n\n| metric | value |\n|---|---|\n")
	w("| requests | %d |\n", r.Requests.Total())
	for _, o := range Outcomes {
		w("| %s | %d |\n", o, r.Requests[o])
	}
	w("| success ratio | %.4f |\n", r.SuccessRatio)
	w("| throughput | %.1f req/s |\n", r.ThroughputRPS)
	if r.TargetRPS > 0 {
		w("| target rate | %g req/s |\n", r.TargetRPS)
	}
	if r.Sustained != nil {
		w("| achieved arrival rate | %.1f req/s (%d of %d sent) |\n", r.Sustained.AchievedRateRPS, r.Sustained.Sent, r.Sustained.Planned)
	}
	if r.Sustained != nil || r.Capacity != nil {
		w("| generator late requests | %d |\n", r.LateRequests)
	}

	w("\n### Latency distribution\n\n")
	if r.Latency.Count == 0 {
		w("No request completed.\n")
	} else {
		w("| min | mean | p50 | p90 | p95 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|---|\n")
		w("| %s | %s |", seconds(r.Latency.Min), seconds(r.Latency.Mean))
		for _, q := range Quantiles {
			w(" %s |", seconds(r.Latency.Quantile(q)))
		}
		w("\n")
		if r.Sustained != nil || r.Capacity != nil {
			w("\nLatency counts from each request's intended start, so a stalled PIC cannot hide behind a stalled generator.\n")
		}
		if st := r.ServiceTime; st != nil && st.Count > 0 {
			w("Service time, from each request's actual send as fortio and k6 count it: p50 %s, p99 %s, max %s; the difference to latency is time waiting for picsoak.\n",
				seconds(st.Quantile(0.5)), seconds(st.Quantile(0.99)), seconds(st.Max))
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
		for _, o := range Outcomes {
			if e, ok := r.Errors[o.String()]; ok {
				w("- %s: `%s`\n", o, e)
			}
		}
	}
	return b.String()
}

func writeDetail(b *strings.Builder, r *Result) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	switch {
	case r.Sustained != nil:
		d := r.Sustained
		w("\n### Stability within the cycle\n\n| third | requests | success ratio | ok req/s | p99 |\n|---|---|---|---|---|\n")
		w("| first | %d | %.4f | %.1f | %s |\n", d.FirstThird.Requests, d.FirstThird.SuccessRatio, d.FirstThird.OKRPS, seconds(d.FirstThird.P99Seconds))
		w("| last | %d | %.4f | %.1f | %s |\n", d.LastThird.Requests, d.LastThird.SuccessRatio, d.LastThird.OKRPS, seconds(d.LastThird.P99Seconds))
		w("\nThroughput change %.3f×, p99 change %.3f×: %s.\n", d.ThroughputChange, d.P99Change, map[bool]string{true: "degraded", false: "no degradation"}[d.Degraded])
	case r.Burst != nil:
		d := r.Burst
		w("\n### Bursts\n\n| burst | requests | duration | req/s | success ratio | p50 | p99 | recovery |\n|---|---|---|---|---|---|---|---|\n")
		for _, s := range d.Bursts {
			rec := "not within cool-down"
			if s.RecoverySeconds >= 0 {
				rec = seconds(s.RecoverySeconds)
			}
			w("| %d | %d | %s | %.1f | %.4f | %s | %s | %s |\n", s.Index+1, s.Requests, seconds(s.DurationSeconds), s.RPS, s.SuccessRatio, seconds(s.P50Seconds), seconds(s.P99Seconds), rec)
		}
		w("\nPer-burst req/s: min %.1f, mean %.1f, max %.1f, coefficient of variation %.3f. Pre-burst latency %s (median of %d probes); recovered means a probe answered within %s.\n",
			d.RPSSpread.Min, d.RPSSpread.Mean, d.RPSSpread.Max, d.RPSSpread.CoV, seconds(d.BaselineSeconds), baselineProbes, seconds(d.RecoveryThresholdSeconds))
	case r.Streams != nil:
		d := r.Streams
		w("\n### Streams\n\n| stream | requests | duration | req/s | success ratio | mean | p50 | p99 |\n|---|---|---|---|---|---|---|---|\n")
		for _, s := range d.Streams {
			w("| %d | %d | %s | %.1f | %.4f | %s | %s | %s |\n", s.Index, s.Requests, seconds(s.DurationSeconds), s.ThroughputRPS, s.SuccessRatio, seconds(s.MeanSeconds), seconds(s.P50Seconds), seconds(s.P99Seconds))
		}
		w("\nFairness (Jain's index): %.4f. Slowest stream ÷ median: %.3f. Starved streams: %v.\n", d.Fairness, d.Starvation, d.Starved)
	case r.Capacity != nil:
		d := r.Capacity
		w("\n### Capacity steps\n\n| step | offered | achieved | ok req/s | requests | success ratio | p50 | p99 | late | SLO |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range d.Steps {
			slo := "met"
			switch s.Miss {
			case MissSuccessRatio:
				slo = "missed: success ratio"
			case MissP99:
				slo = "missed: p99"
			case MissGenerator:
				slo = "generator-limited"
			}
			w("| %d | %g req/s | %.1f req/s | %.1f | %d | %.4f | %s | %s | %d | %s |\n", s.Index+1, s.OfferedRPS, s.AchievedRPS, s.ThroughputRPS, s.Requests, s.SuccessRatio, seconds(s.P50Seconds), seconds(s.P99Seconds), s.LateRequests, slo)
		}
	}
}

// writeCapacity answers the seed's question: how far is PIC from the enterprise target?
func writeCapacity(b *strings.Builder, r *Result, d *CapacityDetail) {
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
	case CapacityStopKnee:
		w("Knee: **%g req/s**, the first step that missed the SLO.\n", d.KneeRPS)
	case CapacityStopCeiling:
		w("Knee: none up to the ceiling of %g req/s; PIC's capacity is higher.\n", d.MaxRateRPS)
	case CapacityStopGenerator:
		w("Knee: not found. picsoak's generator fell behind first (late requests), so the last step measured picsoak, not PIC.\n")
	case CapacityStopAborted:
		w("Knee: not found; the cycle was stopped during a step.\n")
	}
}

func writeResources(b *strings.Builder, rep *ResourceReport) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("\n### PIC resource usage\n\n")
	if rep == nil {
		w("Not sampled: set PICSOAK_TARGET_METRICS_URL or PICSOAK_TARGET_PID.\n")
		return
	}
	pick := func(s *ResourceSample, f func(*ResourceSample) *float64) *float64 {
		if s == nil {
			return nil
		}
		return f(s)
	}
	row := func(name string, f func(*ResourceSample) *float64, format func(*float64) string, growth *float64) {
		w("| %s | %s | %s | %s | %s |\n", name, format(pick(rep.Before, f)), format(pick(rep.Peak, f)), format(pick(rep.After, f)), format(growth))
	}
	w("| resource | before | peak | after | after − before |\n|---|---|---|---|---|\n")
	row("resident memory", func(s *ResourceSample) *float64 { return s.ResidentMemoryBytes }, formatBytes, rep.MemoryGrowthBytes)
	row("goroutines", func(s *ResourceSample) *float64 { return s.Goroutines }, formatCount, rep.GoroutineGrowth)
	row("threads", func(s *ResourceSample) *float64 { return s.Threads }, formatCount, diff(pick(rep.After, func(s *ResourceSample) *float64 { return s.Threads }), pick(rep.Before, func(s *ResourceSample) *float64 { return s.Threads })))
	cpu := func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.2f s", *v)
	}
	row("CPU", func(s *ResourceSample) *float64 { return s.CPUSeconds }, cpu, rep.CPUSeconds)
	if rep.SuspectedLeak {
		w("\n**Suspected leak:** growth did not return after the cycle.\n")
	}
}

func verdictBadge(v Verdict) string {
	switch v {
	case VerdictPass:
		return "✅ PASS"
	case VerdictFail:
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
func SummaryMarkdown(results []*Result) string {
	var b strings.Builder
	passed := 0
	for _, r := range results {
		if r.Verdict == VerdictPass {
			passed++
		}
	}
	fmt.Fprintf(&b, "# picsoak run: %d of %d cycles passed\n\n", passed, len(results))
	b.WriteString("| cycle | verdict | requests | success ratio | threshold | throughput | p50 | p99 | max |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %s | %d | %.4f | %g | %.1f req/s | %s | %s | %s |\n", r.Cycle, verdictBadge(r.Verdict), r.Requests.Total(),
			r.SuccessRatio, r.MinSuccessRatio, r.ThroughputRPS, seconds(r.Latency.Quantile(0.5)), seconds(r.Latency.Quantile(0.99)), seconds(r.Latency.Max))
	}
	for _, r := range results {
		b.WriteString("\n")
		b.WriteString(Markdown(r))
	}
	return b.String()
}
