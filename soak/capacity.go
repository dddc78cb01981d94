package soak

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Why a capacity search ended (CapacityDetail.Stop).
const (
	// CapacityStopKnee: a step missed the SLO because of PIC; it is the knee.
	CapacityStopKnee = "knee"
	// CapacityStopCeiling: every step met the SLO up to PICSOAK_CAPACITY_MAX_RATE.
	CapacityStopCeiling = "ceiling"
	// CapacityStopGenerator: picsoak could not send a step's rate on schedule, so the
	// step says nothing about PIC and the search ended without a knee.
	CapacityStopGenerator = "generator_limited"
	// CapacityStopAborted: the cycle was stopped during a step.
	CapacityStopAborted = "aborted"
)

// What a step missed (CapacityStep.Miss).
const (
	MissSuccessRatio = "success_ratio"
	MissP99          = "p99"
	MissGenerator    = "generator_limited"
)

// CapacityDetail is what only the capacity cycle measures: per step, and the highest
// rate PIC sustained within its SLO.
type CapacityDetail struct {
	StartRateRPS        float64 `json:"start_rate_rps"`
	StepRateRPS         float64 `json:"step_rate_rps"`
	MaxRateRPS          float64 `json:"max_rate_rps"`
	StepDurationSeconds float64 `json:"step_duration_seconds"`
	Workers             int     `json:"workers"`
	// The SLO every step is held to.
	MinSuccessRatio float64 `json:"min_success_ratio"`
	MaxP99Seconds   float64 `json:"max_p99_seconds"`

	Steps []CapacityStep `json:"steps"`
	// MaxSustainedRPS is the offered rate of the highest step that met the SLO; 0 when
	// none did.
	MaxSustainedRPS float64 `json:"max_sustained_rps"`
	// KneeRPS is the offered rate of the step where PIC first missed the SLO; 0 when
	// it never did (the ceiling was reached, or picsoak fell behind first).
	KneeRPS float64 `json:"knee_rps"`
	// Stop is why the search ended: knee, ceiling, generator_limited or aborted.
	Stop string `json:"stop"`
	// Achievement is MaxSustainedRPS ÷ the enterprise target.
	Achievement float64 `json:"achievement_ratio"`
}

// CapacityStep is one step: an open-model run at OfferedRPS for the step duration.
type CapacityStep struct {
	Index      int     `json:"index"`
	OfferedRPS float64 `json:"offered_rps"`
	// AchievedRPS is the rate picsoak sent at: sent requests ÷ the time sending took.
	AchievedRPS float64 `json:"achieved_rps"`
	// ThroughputRPS is the rate of ok answers.
	ThroughputRPS float64 `json:"throughput_rps"`
	Requests      int64   `json:"requests"`
	SuccessRatio  float64 `json:"success_ratio"`
	P50Seconds    float64 `json:"p50_seconds"`
	P99Seconds    float64 `json:"p99_seconds"`
	LateRequests  int64   `json:"generator_late_requests"`
	MetSLO        bool    `json:"met_slo"`
	// Miss is what the step missed: success_ratio, p99 or generator_limited; empty
	// when it met the SLO.
	Miss string `json:"miss,omitempty"`
}

// capacity runs one open-model step per rate of cfg.StepRates, each for
// cfg.StepDuration, and stops at the first step that misses the SLO. A step where
// picsoak itself fell behind (more than 1% of its requests started late) and PIC's
// success ratio held ends the search too, but is the generator's limit, not PIC's
// knee: its latency counts the wait for a free worker.
func (c *cycle) capacity(ctx context.Context, cfg CapacitySpec) {
	d := &CapacityDetail{
		StartRateRPS: cfg.StartRate, StepRateRPS: cfg.StepRate, MaxRateRPS: cfg.MaxRate,
		StepDurationSeconds: cfg.StepDuration.Seconds(), Workers: cfg.Workers,
		MinSuccessRatio: cfg.MinSuccessRatio, MaxP99Seconds: cfg.MaxP99.Seconds(),
		Steps: []CapacityStep{}, Stop: CapacityStopCeiling,
	}
	c.res.Capacity = d
	c.res.TargetRPS = cfg.MaxRate
	ws := c.pacedWorkers(cfg.Workers, 0)
	stepRec := c.recorder(0)
	total := newRecorder(0, 0)
	var busy time.Duration
	for i, offered := range cfg.StepRates() {
		for _, r := range ws.recs {
			r.Reset()
		}
		run := c.paced(ctx, ws, offered, cfg.StepDuration)
		if ctx.Err() != nil {
			// A step cut short measured a rate for less than its duration: not judged.
			d.Stop = CapacityStopAborted
			break
		}
		stepRec.Reset()
		for _, r := range ws.recs {
			stepRec.Merge(r.recorder)
		}
		total.Merge(stepRec)
		busy += run.sendTime
		c.res.LateRequests += run.late
		c.res.GeneratorCPUShare = run.cpuShare
		c.res.addStalls(run.stalls)

		counts, lat := stepRec.Counts(), stepRec.Summary()
		st := CapacityStep{
			Index:         i,
			OfferedRPS:    offered,
			AchievedRPS:   rate(run.sent, run.sendTime),
			ThroughputRPS: rate(counts[OutcomeOK], run.sendTime),
			Requests:      counts.Total(),
			SuccessRatio:  counts.SuccessRatio(),
			P50Seconds:    lat.Quantile(0.5),
			P99Seconds:    lat.Quantile(0.99),
			LateRequests:  run.late,
		}
		// Errors are PIC's answers whoever set the pace; latency counts the wait for a
		// free worker, so a generator that fell behind makes p99 picsoak's.
		switch {
		case st.Requests == 0 || st.SuccessRatio < cfg.MinSuccessRatio:
			st.Miss = MissSuccessRatio
		case run.generatorLimited():
			st.Miss = MissGenerator
		case st.P99Seconds > cfg.MaxP99.Seconds():
			st.Miss = MissP99
		}
		st.MetSLO = st.Miss == ""
		d.Steps = append(d.Steps, st)
		if st.MetSLO {
			d.MaxSustainedRPS = offered
			continue
		}
		if st.Miss == MissGenerator {
			d.Stop = CapacityStopGenerator
		} else {
			d.Stop, d.KneeRPS = CapacityStopKnee, offered
		}
		break
	}
	c.res.fill(total, busy, c.runner.Plan.Endpoints)
	c.res.GeneratorLimited = d.Stop == CapacityStopGenerator
	if c.res.EnterpriseTargetRPS > 0 {
		d.Achievement = d.MaxSustainedRPS / c.res.EnterpriseTargetRPS
	}
	c.res.Achievement = d.Achievement
	c.capacityFindings(d, cfg)
}

func (c *cycle) capacityFindings(d *CapacityDetail, cfg CapacitySpec) {
	slo := "success ratio ≥ " + formatNumber(cfg.MinSuccessRatio) + " and p99 ≤ " + cfg.MaxP99.String()
	if d.MaxSustainedRPS > 0 {
		c.finding("PIC sustained %g req/s within its SLO (%s), %.2f%% of the enterprise target of %g req/s.",
			d.MaxSustainedRPS, slo, 100*d.Achievement, c.res.EnterpriseTargetRPS)
	} else if len(d.Steps) > 0 {
		c.finding("No step met the SLO (%s), not even the first at %g req/s.", slo, cfg.StartRate)
	}
	if len(d.Steps) == 0 {
		return
	}
	last := d.Steps[len(d.Steps)-1]
	switch d.Stop {
	case CapacityStopKnee:
		what := "success ratio " + formatNumber(round4(last.SuccessRatio)) + " under " + formatNumber(cfg.MinSuccessRatio)
		if last.Miss == MissP99 {
			what = "p99 " + Seconds(last.P99Seconds) + " over " + cfg.MaxP99.String()
		}
		c.finding("Knee at %g req/s: %s.", d.KneeRPS, what)
	case CapacityStopCeiling:
		c.finding("No knee up to the ceiling of %g req/s (PICSOAK_CAPACITY_MAX_RATE): PIC's capacity is higher.", cfg.MaxRate)
	case CapacityStopGenerator:
		advice := fmt.Sprintf("%d workers at a median latency of %s carry at most about %.0f req/s; raise PICSOAK_CAPACITY_WORKERS.",
			cfg.Workers, Seconds(last.P50Seconds), float64(cfg.Workers)/max(last.P50Seconds, 1e-6))
		if cpuBound(c.res.GeneratorCPUShare) {
			advice = cpuBoundAdvice(c.res.GeneratorCPUShare, "PICSOAK_CAPACITY_MAX_RATE")
		}
		c.finding("Generator-limited at %g req/s: %d of %d requests waited over %s for a free worker, so picsoak, not PIC, ended the search and no knee was found. %s",
			last.OfferedRPS, last.LateRequests, last.Requests, lateAfter, advice)
	}
	c.stallFinding()
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
