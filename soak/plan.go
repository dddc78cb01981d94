package soak

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Plan is everything the engine runs: every cycle's spec and the settings they share,
// parsed and validated (soak/config builds it), with this replica's share of the load
// already applied.
type Plan struct {
	Sustained SustainedSpec
	Burst     BurstSpec
	Streams   StreamsSpec
	Capacity  CapacitySpec

	// CycleTimeout is the deadline of one cycle; SettleTime the wait after it before
	// PIC's "after" resource sample.
	CycleTimeout time.Duration
	SettleTime   time.Duration
	// EnterpriseTargetRPS is the capacity goal results are compared with (req/s).
	EnterpriseTargetRPS float64
	// KeepCPUsAwake holds idle CPUs' wake-up latency at 0 while a cycle sends.
	KeepCPUsAwake bool
	// Shard is this replica's place among those sharing the load; ScheduleJitter
	// spreads their starts (Shard.Offset).
	Shard          Shard
	ScheduleJitter time.Duration
	// Endpoints names the target's endpoints, in the order a Reply's Endpoint counts
	// them; results break their requests down by them.
	Endpoints []string
	// Regression bounds how much worse than its baseline a cycle may be.
	Regression Tolerances
	// SLO is what PIC's requests are held to over time. The engine judges cycles, not
	// windows: the SLO is exported for the alert rules, which judge the windows.
	SLO SLO
}

// SLO is the service level PIC's requests are held to over Window: Availability of
// them ok, and LatencyObjective of them answered within LatencyThreshold.
type SLO struct {
	Availability     float64
	LatencyThreshold time.Duration
	LatencyObjective float64
	Window           time.Duration
}

// Schedule is when a cycle runs: a cron schedule, or none when the cycle is off.
type Schedule struct {
	Spec string        // as configured, e.g. "@every 10m" or "off"
	Cron cron.Schedule // nil when off
}

// Off says the cycle does not run on its own.
func (s Schedule) Off() bool { return s.Cron == nil }

// SustainedSpec is the constant-arrival-rate cycle (seed test 1.1).
type SustainedSpec struct {
	Schedule        Schedule
	Duration        time.Duration
	Rate            float64 // req/s, kept whatever PIC's latency
	Workers         int     // most requests in flight
	MinSuccessRatio float64
	// Thresholds must all hold for the cycle to pass; success>=MinSuccessRatio is one.
	Thresholds []Threshold
}

// BurstSpec is the spike cycle (seed test 1.2): Count bursts of Size requests, each
// as fast as Workers allow, Cooldown between them.
type BurstSpec struct {
	Schedule        Schedule
	Count, Size     int
	Workers         int
	Cooldown        time.Duration
	MinSuccessRatio float64
	Thresholds      []Threshold
}

// StreamsSpec is the independent sequential streams cycle (seed test 1.3): Count
// streams of Requests requests each, one after another.
type StreamsSpec struct {
	Schedule        Schedule
	Count, Requests int
	MinSuccessRatio float64
	Thresholds      []Threshold
}

// CapacitySpec is the stepped-rate cycle that looks for PIC's knee (the seed's
// "achievement rate"): each step is an open-model run at a constant rate, one step
// higher than the last, until a step misses the SLO (MinSuccessRatio, MaxP99) or the
// ceiling MaxRate is reached. It passes when its first step met the SLO and its
// Thresholds, over all its steps, hold.
type CapacitySpec struct {
	Schedule                     Schedule
	StartRate, StepRate, MaxRate float64 // req/s
	StepDuration                 time.Duration
	Workers                      int
	MinSuccessRatio              float64
	MaxP99                       time.Duration
	Thresholds                   []Threshold
}

// MaxCapacitySteps bounds the steps of a capacity cycle, and so the step label of
// its per-step metrics.
const MaxCapacitySteps = 100

// StepCount is how many steps the spec makes: from StartRate up by StepRate, with
// MaxRate as the last. It is 0 for an invalid spec and MaxCapacitySteps+1 for any
// count above MaxCapacitySteps.
func (c CapacitySpec) StepCount() int {
	if !(c.StartRate > 0 && c.StepRate > 0 && c.MaxRate >= c.StartRate) {
		return 0
	}
	// The tolerance keeps a ceiling that is on the grid from adding a step of its own.
	n := math.Ceil((c.MaxRate-c.StartRate)/c.StepRate-1e-9) + 1
	return int(min(n, MaxCapacitySteps+1))
}

// StepRates is the offered rate of every step, in order, at most MaxCapacitySteps+1.
func (c CapacitySpec) StepRates() []float64 {
	out := make([]float64, c.StepCount())
	for i := range out {
		out[i] = min(c.StartRate+float64(i)*c.StepRate, c.MaxRate)
	}
	return out
}

// Schedule returns kind's schedule.
func (p *Plan) Schedule(kind Kind) Schedule {
	switch kind {
	case Sustained:
		return p.Sustained.Schedule
	case Burst:
		return p.Burst.Schedule
	case Capacity:
		return p.Capacity.Schedule
	}
	return p.Streams.Schedule
}

// MinSuccessRatio returns kind's pass threshold of the success ratio.
func (p *Plan) MinSuccessRatio(kind Kind) float64 {
	switch kind {
	case Sustained:
		return p.Sustained.MinSuccessRatio
	case Burst:
		return p.Burst.MinSuccessRatio
	case Capacity:
		return p.Capacity.MinSuccessRatio
	}
	return p.Streams.MinSuccessRatio
}

// Thresholds returns what kind must hold to pass.
func (p *Plan) Thresholds(kind Kind) []Threshold {
	switch kind {
	case Sustained:
		return p.Sustained.Thresholds
	case Burst:
		return p.Burst.Thresholds
	case Capacity:
		return p.Capacity.Thresholds
	}
	return p.Streams.Thresholds
}

// TargetRPS is the arrival rate kind aims for: the sustained rate, the capacity
// search's ceiling, 0 for the closed-loop cycles.
func (p *Plan) TargetRPS(kind Kind) float64 {
	switch kind {
	case Sustained:
		return p.Sustained.Rate
	case Capacity:
		return p.Capacity.MaxRate
	}
	return 0
}

// MaxConcurrency is the most requests any cycle has in flight, which sizes the
// connection pool.
func (p *Plan) MaxConcurrency() int {
	return max(p.Sustained.Workers, p.Burst.Workers, p.Streams.Count, p.Capacity.Workers)
}

// Tolerances bound how much worse than its baseline a cycle may be before it counts
// as a regression: against an earlier run's results (picsoak run --baseline) and
// against the 7-day medians in the alert rules, which read them from the exported
// picsoak_regression_* gauges. Ratios are fractions of the baseline (0.10 = 10 %).
type Tolerances struct {
	// MaxThroughputDrop is the largest allowed relative throughput drop.
	MaxThroughputDrop float64 `json:"max_throughput_drop"`
	// MaxP99Rise is the largest allowed relative p99 rise.
	MaxP99Rise float64 `json:"max_p99_rise"`
	// P99Slack is an absolute p99 rise that never counts, whatever its ratio: a 2 ms p99
	// that becomes 3 ms is 50 % worse and still noise on a shared CI runner.
	P99Slack time.Duration `json:"p99_slack_ns"`
	// MaxSuccessDrop is the largest allowed drop of the success ratio, in absolute
	// terms (0.01 = one percentage point).
	MaxSuccessDrop float64 `json:"max_success_drop"`
}

// Validate reports tolerances that cannot mean anything.
func (t Tolerances) Validate() error {
	var bad []string
	if t.MaxThroughputDrop < 0 || t.MaxThroughputDrop > 1 {
		bad = append(bad, fmt.Sprintf("max throughput drop %g: want 0..1", t.MaxThroughputDrop))
	}
	if t.MaxP99Rise < 0 {
		bad = append(bad, fmt.Sprintf("max p99 rise %g: want ≥ 0", t.MaxP99Rise))
	}
	if t.P99Slack < 0 {
		bad = append(bad, fmt.Sprintf("p99 slack %s: want ≥ 0", t.P99Slack))
	}
	if t.MaxSuccessDrop < 0 || t.MaxSuccessDrop > 1 {
		bad = append(bad, fmt.Sprintf("max success drop %g: want 0..1", t.MaxSuccessDrop))
	}
	if bad != nil {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}
