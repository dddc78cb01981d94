package soak

import (
	"context"
	"fmt"
	"time"
)

// lateAfter is how long past its due time a request may wait for a free worker before
// it counts as late: past this, the generator rather than the arrival schedule decided
// when it started.
const lateAfter = time.Millisecond

// generatorLimitedRatio is the share of late requests from which a cycle's load is
// called generator-limited.
const generatorLimitedRatio = 0.01

// thirds splits a sustained cycle to compare its start with its end.
const thirds = 3

// SustainedDetail is what only the sustained cycle measures.
type SustainedDetail struct {
	RateRPS         float64 `json:"rate_rps"`
	DurationSeconds float64 `json:"configured_duration_seconds"`
	Workers         int     `json:"workers"`
	Planned         int64   `json:"planned_requests"`
	Sent            int64   `json:"sent_requests"`
	// AchievedRateRPS is sent requests over the time it took to send them.
	AchievedRateRPS float64 `json:"achieved_rate_rps"`
	FirstThird      Third   `json:"first_third"`
	LastThird       Third   `json:"last_third"`
	// ThroughputChange is the last third's ok req/s ÷ the first's (1 = unchanged).
	ThroughputChange float64 `json:"throughput_change_ratio"`
	// P99Change is the last third's p99 ÷ the first's (1 = unchanged).
	P99Change float64 `json:"p99_change_ratio"`
	Degraded  bool    `json:"degraded"`
}

// Third is one third of a sustained cycle, by the requests' due times.
type Third struct {
	Requests     int64   `json:"requests"`
	SuccessRatio float64 `json:"success_ratio"`
	OKRPS        float64 `json:"ok_rps"`
	P99Seconds   float64 `json:"p99_seconds"`
}

// Degradation thresholds: the last third is worse than the first when its p99 grows by
// half and by at least a millisecond, or its ok throughput drops by a tenth.
const (
	degradedP99Ratio        = 1.5
	degradedP99Min          = time.Millisecond
	degradedThroughputRatio = 0.9
)

// sustained runs the open-model cycle at cfg.Rate for cfg.Duration (see paced) and
// compares its first third with its last.
func (c *cycle) sustained(ctx context.Context, cfg SustainedSpec) {
	run := c.paced(ctx, c.pacedWorkers(cfg.Workers, thirds), cfg.Rate, cfg.Duration)
	total := run.merged()
	planned, sent, late, sendTime := run.planned, run.sent, run.late, run.sendTime
	c.res.fill(total, sendTime, c.runner.Plan.Endpoints)
	c.res.TargetRPS = cfg.Rate
	c.res.LateRequests = late
	c.res.GeneratorLimited = run.generatorLimited()
	c.res.GeneratorCPUShare = run.cpuShare
	c.res.addStalls(run.stalls)

	d := &SustainedDetail{
		RateRPS:         cfg.Rate,
		DurationSeconds: cfg.Duration.Seconds(),
		Workers:         cfg.Workers,
		Planned:         planned,
		Sent:            sent,
		AchievedRateRPS: rate(sent, sendTime),
	}
	thirdLen := cfg.Duration / thirds
	third := func(i int) Third {
		counts, lat := total.SegmentSummary(i)
		return Third{
			Requests:     counts.Total(),
			SuccessRatio: counts.SuccessRatio(),
			OKRPS:        rate(counts[OutcomeOK], thirdLen),
			P99Seconds:   lat.Quantile(0.99),
		}
	}
	d.FirstThird, d.LastThird = third(0), third(thirds-1)
	if d.FirstThird.OKRPS > 0 {
		d.ThroughputChange = d.LastThird.OKRPS / d.FirstThird.OKRPS
	}
	if d.FirstThird.P99Seconds > 0 {
		d.P99Change = d.LastThird.P99Seconds / d.FirstThird.P99Seconds
	}
	p99Grew := d.P99Change > degradedP99Ratio && d.LastThird.P99Seconds-d.FirstThird.P99Seconds >= degradedP99Min.Seconds()
	d.Degraded = p99Grew || (d.FirstThird.OKRPS > 0 && d.ThroughputChange < degradedThroughputRatio)
	c.res.Sustained = d

	if c.res.GeneratorLimited {
		advice := fmt.Sprintf("Raise PICSOAK_SUSTAINED_WORKERS (now %d) or lower the rate.", cfg.Workers)
		if cpuBound(run.cpuShare) {
			advice = cpuBoundAdvice(run.cpuShare, "the rate")
		}
		c.finding("Generator-limited: %d of %d requests (%.1f%%) waited over %s for a free worker; picsoak, not PIC, set the pace. %s",
			late, sent, 100*float64(late)/float64(sent), lateAfter, advice)
	}
	c.stallFinding()
	if d.Degraded {
		c.finding("Degradation within the cycle: last third %.1f ok req/s and p99 %s, first third %.1f ok req/s and p99 %s.",
			d.LastThird.OKRPS, Seconds(d.LastThird.P99Seconds), d.FirstThird.OKRPS, Seconds(d.FirstThird.P99Seconds))
	} else if sent > 0 {
		c.finding("No degradation within the cycle: last third %.1f ok req/s and p99 %s, first third %.1f ok req/s and p99 %s.",
			d.LastThird.OKRPS, Seconds(d.LastThird.P99Seconds), d.FirstThird.OKRPS, Seconds(d.FirstThird.P99Seconds))
	}
}
