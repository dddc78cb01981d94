package soak

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// BurstDetail is what only the burst cycle measures.
type BurstDetail struct {
	Count           int         `json:"count"`
	Size            int         `json:"size"`
	Workers         int         `json:"workers"`
	CooldownSeconds float64     `json:"cooldown_seconds"`
	Bursts          []BurstStat `json:"bursts"`
	// RPSSpread is the spread of per-burst req/s across bursts.
	RPSSpread Spread `json:"rps_spread"`
	// DurationSpread is the spread of per-burst durations in seconds.
	DurationSpread Spread `json:"duration_spread"`
	// BaselineSeconds is the median latency of single probe requests before the first
	// burst; RecoveryThresholdSeconds is the probe latency that counts as recovered.
	BaselineSeconds          float64 `json:"baseline_seconds"`
	RecoveryThresholdSeconds float64 `json:"recovery_threshold_seconds"`
	// ProbeRequests were sent one at a time to measure recovery; they are not in the
	// cycle's request counts. BaselineProbes of them measured the baseline.
	ProbeRequests  int64 `json:"probe_requests"`
	BaselineProbes int   `json:"baseline_probes"`
}

// BurstStat is one burst.
type BurstStat struct {
	Index           int     `json:"index"`
	Requests        int64   `json:"requests"`
	DurationSeconds float64 `json:"duration_seconds"`
	RPS             float64 `json:"rps"`
	SuccessRatio    float64 `json:"success_ratio"`
	P50Seconds      float64 `json:"p50_seconds"`
	P99Seconds      float64 `json:"p99_seconds"`
	// RecoverySeconds is how long after the burst ended a probe request first answered
	// within the recovery threshold; -1 when it did not within the cool-down.
	RecoverySeconds float64 `json:"recovery_seconds"`
}

// Recovery probing: the baseline is the median of baselineProbes sequential requests;
// PIC has recovered when a probe answers ok within 1.5 × baseline + 1 ms. Probes are
// spaced probeGap apart so they do not become load themselves.
const (
	baselineProbes = 5
	recoveryFactor = 1.5
	recoverySlack  = time.Millisecond
	probeGap       = 10 * time.Millisecond
)

// burst runs cfg.Count bursts of cfg.Size requests, each sent as fast as cfg.Workers
// allow (closed model: latency counts from each request's own start), with a cool-down
// after each in which single probes measure how fast PIC's latency recovers.
func (c *cycle) burst(ctx context.Context, cfg BurstSpec) {
	d := &BurstDetail{Count: cfg.Count, Size: cfg.Size, Workers: cfg.Workers, CooldownSeconds: cfg.Cooldown.Seconds(), BaselineProbes: baselineProbes}
	c.res.Burst = d
	probe := c.target.NewSender(-1)
	probeRec := c.recorder(0)
	var probes []float64
	for range baselineProbes {
		if o, lat, ok := c.probe(ctx, probe, probeRec); ok && o == OutcomeOK {
			probes = append(probes, lat.Seconds())
		}
	}
	d.BaselineSeconds = median(probes)
	threshold := time.Duration(d.BaselineSeconds*recoveryFactor*float64(time.Second)) + recoverySlack
	d.RecoveryThresholdSeconds = threshold.Seconds()

	shared := c.sharedRecorders(cfg.Workers, 0)
	senders := make([]Sender, cfg.Workers)
	for i := range senders {
		senders[i] = c.target.NewSender(-1)
	}
	total := newRecorder(0, 0)
	burstRec := c.recorder(0)
	var busy time.Duration
	for b := range cfg.Count {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		var left atomic.Int64
		left.Store(int64(cfg.Size))
		var wg sync.WaitGroup
		for i, sender := range senders {
			rec := sharedFor(shared, i)
			wg.Go(func() {
				for left.Add(-1) >= 0 && ctx.Err() == nil {
					c.send(ctx, sender, rec, -1, time.Time{})
				}
			})
		}
		wg.Wait()
		end := time.Now()
		busy += end.Sub(start)

		burstRec.Reset()
		for _, r := range shared {
			burstRec.Merge(r.recorder)
			r.Reset()
		}
		total.Merge(burstRec)
		counts, lat := burstRec.Counts(), burstRec.Summary()
		stat := BurstStat{
			Index:           b,
			Requests:        counts.Total(),
			DurationSeconds: end.Sub(start).Seconds(),
			RPS:             rate(counts.Total(), end.Sub(start)),
			SuccessRatio:    counts.SuccessRatio(),
			P50Seconds:      lat.Quantile(0.5),
			P99Seconds:      lat.Quantile(0.99),
			RecoverySeconds: -1,
		}
		stat.RecoverySeconds = c.measureRecovery(ctx, probe, probeRec, end, cfg.Cooldown, threshold, b == cfg.Count-1)
		d.Bursts = append(d.Bursts, stat)
	}
	d.ProbeRequests = probeRec.Counts().Total()
	c.res.fill(total, busy, c.runner.Plan.Endpoints)

	var rps, durations []float64
	for _, s := range d.Bursts {
		rps = append(rps, s.RPS)
		durations = append(durations, s.DurationSeconds)
	}
	d.RPSSpread, d.DurationSpread = spreadOf(rps), spreadOf(durations)
	if len(d.Bursts) == 0 {
		return
	}
	c.finding("Bursts ran at %.0f to %.0f req/s (mean %.0f, variation %.1f%%), each taking %s to %s.",
		d.RPSSpread.Min, d.RPSSpread.Max, d.RPSSpread.Mean, 100*d.RPSSpread.CoV, Seconds(d.DurationSpread.Min), Seconds(d.DurationSpread.Max))
	var slowest float64
	unrecovered := 0
	for _, s := range d.Bursts {
		if s.RecoverySeconds < 0 {
			unrecovered++
		}
		slowest = max(slowest, s.RecoverySeconds)
	}
	switch {
	case cfg.Cooldown == 0:
	case unrecovered > 0:
		c.finding("PIC did not recover to its pre-burst latency (%s) within the %s cool-down after %d of %d bursts.",
			Seconds(d.RecoveryThresholdSeconds), cfg.Cooldown, unrecovered, len(d.Bursts))
	default:
		c.finding("PIC recovered to its pre-burst latency (within %s) at most %s after each burst.",
			Seconds(d.RecoveryThresholdSeconds), Seconds(slowest))
	}
}

// probe sends one probe request, timed from its own start.
func (c *cycle) probe(ctx context.Context, s Sender, rec *recorder) (Outcome, time.Duration, bool) {
	start := time.Now()
	r := s.Send(ctx)
	if ctx.Err() != nil {
		return r.Outcome, 0, false
	}
	lat := time.Since(start)
	rec.Record(-1, r, lat)
	return r.Outcome, lat, true
}

// measureRecovery probes PIC after a burst that ended at end until a probe answers within
// threshold, and returns how long that took, or -1 when it never did within cooldown.
// Unless last, it then waits out the rest of the cool-down.
func (c *cycle) measureRecovery(ctx context.Context, s Sender, rec *recorder, end time.Time, cooldown, threshold time.Duration, last bool) float64 {
	deadline := end.Add(cooldown)
	recovery := -1.0
	for time.Now().Before(deadline) {
		start := time.Now()
		o, lat, ok := c.probe(ctx, s, rec)
		if !ok {
			return recovery
		}
		if o == OutcomeOK && lat <= threshold {
			recovery = start.Sub(end).Seconds()
			break
		}
		if !sleepCtx(ctx, min(probeGap, time.Until(deadline))) {
			return recovery
		}
	}
	if !last {
		sleepCtx(ctx, time.Until(deadline))
	}
	return recovery
}

// sleepCtx waits d or until ctx is done, and reports whether it waited the whole d.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Slowest returns the n bursts of lowest req/s, slowest first (ties in index order),
// as StreamsDetail.Slowest does for streams.
func (d *BurstDetail) Slowest(n int) []BurstStat {
	out := slices.Clone(d.Bursts)
	slices.SortStableFunc(out, func(a, b BurstStat) int { return cmp.Compare(a.RPS, b.RPS) })
	return out[:min(n, len(out))]
}
