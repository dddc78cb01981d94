package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/picsoak/picsoak/soak"
)

// ScheduleOff disables a cycle when used as its schedule.
const ScheduleOff = "off"

// planVars are the daemon-wide settings of every cycle.
type planVars struct {
	CycleTimeout        time.Duration `env:"CYCLE_TIMEOUT" envDefault:"10m" help:"deadline of one cycle; a cycle still running then is aborted"`
	EnterpriseTargetRPS float64       `env:"ENTERPRISE_TARGET_RPS" envDefault:"50000" help:"capacity goal the reports compare throughput against (req/s)"`
	Shard               string        `env:"SHARD" envDefault:"0/1" help:"i/n: this replica runs shard i of n that share the configured load (rates ÷ n, burst sizes and streams split between them); 0/1 runs all of it"`
	ScheduleJitter      time.Duration `env:"SCHEDULE_JITTER" envDefault:"0s" help:"shard i of n starts each cycle i/n of this after it falls due, so replicas do not start together"`
	KeepCPUsAwake       bool          `env:"KEEP_CPUS_AWAKE" envDefault:"false" help:"true makes idle CPUs poll instead of halting while a cycle runs (holds /dev/cpu_dma_latency at 0; needs write access to it, i.e. root): on a VM a halted CPU can take milliseconds to wake, and tail latency would report that as PIC's. Machine-wide while held, and it costs power"`
}

// sustainedVars is the constant-arrival-rate cycle (seed test 1.1).
type sustainedVars struct {
	Schedule        string        `env:"SCHEDULE" envDefault:"@every 10m" help:"cron spec (robfig/cron) or off"`
	Duration        time.Duration `env:"DURATION" envDefault:"30s" help:"length of the cycle"`
	Rate            float64       `env:"RATE" envDefault:"100" help:"arrival rate (req/s), kept whatever PIC's latency"`
	Workers         int           `env:"WORKERS" envDefault:"10" help:"most requests in flight; each worker connects to PIC before the cycle's clock starts"`
	MinSuccessRatio float64       `env:"MIN_SUCCESS_RATIO" envDefault:"0.95" help:"pass threshold, 0..1: the threshold success>=X"`
	Thresholds      string        `env:"THRESHOLDS" envDefault:"p99<=1s" help:"more thresholds that must all hold, k6-style NAME OP VALUE separated by commas, or none: p50 p90 p95 p99 p99.9 max mean (durations), success, rps, rate (0..1, achieved ÷ configured rate)"`
}

// burstVars is the spike cycle (seed test 1.2).
type burstVars struct {
	Schedule        string        `env:"SCHEDULE" envDefault:"@every 10m" help:"cron spec (robfig/cron) or off"`
	Count           int           `env:"COUNT" envDefault:"5" help:"number of bursts"`
	Size            int           `env:"SIZE" envDefault:"500" help:"requests per burst"`
	Workers         int           `env:"WORKERS" envDefault:"50" help:"concurrent workers per burst"`
	Cooldown        time.Duration `env:"COOLDOWN" envDefault:"2s" help:"pause between bursts, used to measure recovery"`
	MinSuccessRatio float64       `env:"MIN_SUCCESS_RATIO" envDefault:"0.90" help:"pass threshold, 0..1: the threshold success>=X"`
	Thresholds      string        `env:"THRESHOLDS" envDefault:"p99<=1s" help:"more thresholds that must all hold, as for sustained; recovery (the slowest burst's recovery, a duration) instead of rate"`
}

// streamsVars is the independent sequential streams cycle (seed test 1.3).
type streamsVars struct {
	Schedule        string  `env:"SCHEDULE" envDefault:"@every 10m" help:"cron spec (robfig/cron) or off"`
	Count           int     `env:"COUNT" envDefault:"10" help:"number of streams"`
	Requests        int     `env:"REQUESTS" envDefault:"100" help:"requests per stream, sent one after another"`
	MinSuccessRatio float64 `env:"MIN_SUCCESS_RATIO" envDefault:"0.95" help:"pass threshold, 0..1: the threshold success>=X"`
	Thresholds      string  `env:"THRESHOLDS" envDefault:"p99<=1s" help:"more thresholds that must all hold, as for sustained; fairness (Jain's index of the streams' throughputs, 0..1) instead of rate"`
}

// capacityVars is the stepped-rate search for PIC's knee.
type capacityVars struct {
	Schedule        string        `env:"SCHEDULE" envDefault:"off" help:"cron spec (robfig/cron) or off; off by default, for the search loads PIC to its limit"`
	StartRate       float64       `env:"START_RATE" envDefault:"1000" help:"arrival rate of the first step (req/s)"`
	StepRate        float64       `env:"STEP_RATE" envDefault:"1000" help:"rate added at each step (req/s)"`
	StepDuration    time.Duration `env:"STEP_DURATION" envDefault:"10s" help:"length of each step"`
	MaxRate         float64       `env:"MAX_RATE" envDefault:"50000" help:"ceiling: the last step runs at this rate (req/s)"`
	Workers         int           `env:"WORKERS" envDefault:"200" help:"most requests in flight; each worker connects to PIC before the first step starts"`
	MinSuccessRatio float64       `env:"MIN_SUCCESS_RATIO" envDefault:"0.95" help:"a step under this success ratio, 0..1, misses the SLO"`
	MaxP99          time.Duration `env:"MAX_P99" envDefault:"100ms" help:"a step whose p99 latency is above this misses the SLO"`
	Thresholds      string        `env:"THRESHOLDS" help:"thresholds over all the steps that must hold besides the first step's SLO, as for sustained"`
}

// regressionVars bound how much worse than its baseline a cycle may be, for
// `picsoak run --baseline` and the alert rules alike.
type regressionVars struct {
	MaxThroughputDrop float64       `env:"MAX_THROUGHPUT_DROP" envDefault:"0.3" help:"largest throughput drop against the baseline that is no regression, as a fraction of it (0..1)"`
	MaxP99Rise        float64       `env:"MAX_P99_RISE" envDefault:"1" help:"largest p99 rise against the baseline that is no regression, as a fraction of it (1: the p99 may double)"`
	P99Slack          time.Duration `env:"P99_SLACK" envDefault:"1ms" help:"p99 rises smaller than this are never a regression, whatever their ratio"`
	MaxSuccessDrop    float64       `env:"MAX_SUCCESS_DROP" envDefault:"0.01" help:"largest success-ratio drop against the baseline that is no regression, absolute (0.01 = one point)"`
}

// sloVars are the service levels PIC's requests are held to over time.
type sloVars struct {
	Availability float64 `env:"AVAILABILITY" envDefault:"0.99" help:"share of requests that must be ok over the SLO window, above 0 and under 1 (the error budget is the rest)"`
	Latency      string  `env:"LATENCY" envDefault:"1s@0.99" help:"DURATION@OBJECTIVE: the share of requests that must be answered within DURATION over the SLO window"`
	Window       string  `env:"WINDOW" envDefault:"30d" help:"the SLO window the error budget is counted over, e.g. 28d or 30d (the burn-rate alerts scale to it)"`
}

// plan checks the cycles' variables and builds the engine's plan against the named
// endpoints, with this replica's share of the load applied.
func (p *problems) plan(v vars, endpoints []string) soak.Plan {
	pv := v.plan
	p.check(pv.CycleTimeout > 0, "PICSOAK_CYCLE_TIMEOUT", pv.CycleTimeout, "want a duration > 0")
	p.check(pv.EnterpriseTargetRPS > 0, "PICSOAK_ENTERPRISE_TARGET_RPS", pv.EnterpriseTargetRPS, "want a number > 0")
	shard, err := parseShard(pv.Shard)
	if err != nil {
		p.add("PICSOAK_SHARD", "PICSOAK_SHARD=%q: %v", pv.Shard, err)
	}
	p.check(pv.ScheduleJitter >= 0, "PICSOAK_SCHEDULE_JITTER", pv.ScheduleJitter, "want a duration >= 0")
	plan := soak.Plan{
		Endpoints:           endpoints,
		CycleTimeout:        pv.CycleTimeout,
		SettleTime:          v.target.SettleTime,
		EnterpriseTargetRPS: pv.EnterpriseTargetRPS,
		KeepCPUsAwake:       pv.KeepCPUsAwake,
		ScheduleJitter:      pv.ScheduleJitter,
	}

	s := v.sustained
	p.check(s.Duration > 0, "PICSOAK_SUSTAINED_DURATION", s.Duration, "want a duration > 0")
	p.check(s.Rate > 0, "PICSOAK_SUSTAINED_RATE", s.Rate, "want a rate > 0 (req/s)")
	p.check(s.Workers >= 1, "PICSOAK_SUSTAINED_WORKERS", s.Workers, "want at least 1")
	p.ratio("PICSOAK_SUSTAINED_MIN_SUCCESS_RATIO", s.MinSuccessRatio)
	plan.Sustained = soak.SustainedSpec{
		Schedule: p.schedule("PICSOAK_SUSTAINED_SCHEDULE", s.Schedule),
		Duration: s.Duration, Rate: s.Rate, Workers: s.Workers, MinSuccessRatio: s.MinSuccessRatio,
	}
	plan.Sustained.Thresholds, plan.Sustained.MinSuccessRatio = p.thresholds(soak.Sustained, "PICSOAK_SUSTAINED_", s.Thresholds, s.MinSuccessRatio)

	b := v.burst
	p.check(b.Count >= 1, "PICSOAK_BURST_COUNT", b.Count, "want at least 1")
	p.check(b.Size >= 1, "PICSOAK_BURST_SIZE", b.Size, "want at least 1")
	p.check(b.Workers >= 1, "PICSOAK_BURST_WORKERS", b.Workers, "want at least 1")
	p.check(b.Cooldown >= 0, "PICSOAK_BURST_COOLDOWN", b.Cooldown, "want a duration >= 0")
	p.ratio("PICSOAK_BURST_MIN_SUCCESS_RATIO", b.MinSuccessRatio)
	plan.Burst = soak.BurstSpec{
		Schedule: p.schedule("PICSOAK_BURST_SCHEDULE", b.Schedule),
		Count:    b.Count, Size: b.Size, Workers: b.Workers, Cooldown: b.Cooldown,
	}
	plan.Burst.Thresholds, plan.Burst.MinSuccessRatio = p.thresholds(soak.Burst, "PICSOAK_BURST_", b.Thresholds, b.MinSuccessRatio)

	st := v.streams
	p.check(st.Count >= 1, "PICSOAK_STREAMS_COUNT", st.Count, "want at least 1")
	p.check(st.Requests >= 1, "PICSOAK_STREAMS_REQUESTS", st.Requests, "want at least 1")
	p.ratio("PICSOAK_STREAMS_MIN_SUCCESS_RATIO", st.MinSuccessRatio)
	plan.Streams = soak.StreamsSpec{
		Schedule: p.schedule("PICSOAK_STREAMS_SCHEDULE", st.Schedule),
		Count:    st.Count, Requests: st.Requests,
	}
	plan.Streams.Thresholds, plan.Streams.MinSuccessRatio = p.thresholds(soak.Streams, "PICSOAK_STREAMS_", st.Thresholds, st.MinSuccessRatio)

	ca := v.capacity
	p.check(ca.StartRate > 0, "PICSOAK_CAPACITY_START_RATE", ca.StartRate, "want a rate > 0 (req/s)")
	p.check(ca.StepRate > 0, "PICSOAK_CAPACITY_STEP_RATE", ca.StepRate, "want a rate > 0 (req/s)")
	p.check(ca.StepDuration > 0, "PICSOAK_CAPACITY_STEP_DURATION", ca.StepDuration, "want a duration > 0")
	if p.parsed("PICSOAK_CAPACITY_START_RATE") {
		p.check(ca.MaxRate >= ca.StartRate, "PICSOAK_CAPACITY_MAX_RATE", ca.MaxRate, "want a rate >= PICSOAK_CAPACITY_START_RATE ("+strconv.FormatFloat(ca.StartRate, 'g', -1, 64)+")")
	}
	p.check(ca.Workers >= 1, "PICSOAK_CAPACITY_WORKERS", ca.Workers, "want at least 1")
	p.ratio("PICSOAK_CAPACITY_MIN_SUCCESS_RATIO", ca.MinSuccessRatio)
	p.check(ca.MaxP99 > 0, "PICSOAK_CAPACITY_MAX_P99", ca.MaxP99, "want a duration > 0")
	plan.Capacity = soak.CapacitySpec{
		Schedule:  p.schedule("PICSOAK_CAPACITY_SCHEDULE", ca.Schedule),
		StartRate: ca.StartRate, StepRate: ca.StepRate, StepDuration: ca.StepDuration, MaxRate: ca.MaxRate,
		Workers: ca.Workers, MinSuccessRatio: ca.MinSuccessRatio, MaxP99: ca.MaxP99,
	}
	// The capacity cycle's success ratio is its steps' SLO, not a threshold of the
	// whole search, which pushes PIC past its limit on purpose.
	plan.Capacity.Thresholds, _ = p.thresholds(soak.Capacity, "PICSOAK_CAPACITY_", ca.Thresholds, -1)
	rates := p.parsed("PICSOAK_CAPACITY_START_RATE", "PICSOAK_CAPACITY_STEP_RATE", "PICSOAK_CAPACITY_MAX_RATE", "PICSOAK_CAPACITY_STEP_DURATION", "PICSOAK_CYCLE_TIMEOUT")
	if rates && ca.StartRate > 0 && ca.StepRate > 0 && ca.StepDuration > 0 && ca.MaxRate >= ca.StartRate {
		n := plan.Capacity.StepCount()
		p.check(n <= soak.MaxCapacitySteps, "PICSOAK_CAPACITY_STEP_RATE", ca.StepRate,
			fmt.Sprintf("want at most %d steps from PICSOAK_CAPACITY_START_RATE to PICSOAK_CAPACITY_MAX_RATE", soak.MaxCapacitySteps))
		if total := time.Duration(n) * ca.StepDuration; n <= soak.MaxCapacitySteps && total > pv.CycleTimeout && pv.CycleTimeout > 0 {
			p.add("PICSOAK_CAPACITY_STEP_DURATION", "PICSOAK_CAPACITY_STEP_DURATION=%s: %d steps take %s, want them within PICSOAK_CYCLE_TIMEOUT (%s)", ca.StepDuration, n, total, pv.CycleTimeout)
		}
	}
	plan.SLO = p.slo(v.slo)
	plan.Regression = p.regression(v.regression)
	return forShard(plan, shard)
}

// forShard returns the part of plan that shard runs, so that the n replicas together
// send exactly what is configured. Arrival rates (sustained, and every capacity rate,
// so the steps stay the same steps) are divided by n; burst sizes and stream counts
// are split in whole requests and streams with the remainder going to the lowest
// shards, and a shard left with no burst request or no stream has that cycle off.
// Worker caps, durations, thresholds and the enterprise target are per replica and
// stay as configured: dashboards sum the replicas' rates and achievements.
func forShard(plan soak.Plan, shard soak.Shard) soak.Plan {
	plan.Shard = shard
	n := float64(max(shard.Count, 1))
	plan.Sustained.Rate /= n
	plan.Capacity.StartRate /= n
	plan.Capacity.StepRate /= n
	plan.Capacity.MaxRate /= n
	if plan.Burst.Size = share(shard, plan.Burst.Size); plan.Burst.Size == 0 {
		plan.Burst.Schedule = soak.Schedule{Spec: ScheduleOff}
	}
	if plan.Streams.Count = share(shard, plan.Streams.Count); plan.Streams.Count == 0 {
		plan.Streams.Schedule = soak.Schedule{Spec: ScheduleOff}
	}
	return plan
}

// share is shard's part of total whole units (requests, streams): total ÷ n, the
// remainder going one each to the lowest shards, so the parts sum to total.
func share(s soak.Shard, total int) int {
	n := max(s.Count, 1)
	q := total / n
	if s.Index < total%n {
		q++
	}
	return q
}

var errShard = errors.New("want i/n with 0 <= i < n, such as 0/3 for the first of three replicas")

// parseShard parses "i/n" with 0 <= i < n.
func parseShard(s string) (soak.Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return soak.Shard{}, errShard
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil || i < 0 || i >= n {
		return soak.Shard{}, errShard
	}
	return soak.Shard{Index: i, Count: n}, nil
}

// cronParser accepts the standard 5 fields and descriptors such as @every 5m and @hourly.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// schedule parses the schedule in key, adding a problem when it is neither a cron
// spec nor off.
func (p *problems) schedule(key, spec string) soak.Schedule {
	s, err := parseSchedule(spec)
	if err != nil {
		p.add(key, "%s=%q: %v", key, spec, err)
	}
	return s
}

// parseSchedule parses a cycle schedule; "off" has no cron schedule.
func parseSchedule(spec string) (s soak.Schedule, err error) {
	s.Spec = spec
	if spec == ScheduleOff {
		return s, nil
	}
	// robfig/cron v3.0.1 panics on a time-zone prefix with nothing after it
	// ("CRON_TZ="); found by FuzzLoad.
	defer func() {
		if p := recover(); p != nil {
			s, err = soak.Schedule{Spec: spec}, fmt.Errorf("want a cron spec such as '@every 10m' or 'CRON_TZ=UTC */15 * * * *', or off (unparseable: %v)", p)
		}
	}()
	s.Cron, err = cronParser.Parse(spec)
	if err != nil {
		return soak.Schedule{Spec: spec}, fmt.Errorf("want a cron spec such as '@every 10m' or '*/15 * * * *', or off (%v)", err)
	}
	return s, nil
}

// thresholds parses prefix+THRESHOLDS for kind. minSuccess, unless negative, is
// PICSOAK_<CYCLE>_MIN_SUCCESS_RATIO: the threshold success>=minSuccess, first, unless
// THRESHOLDS bounds success from below itself, which then takes its place. It returns
// the thresholds and the success ratio they require (minSuccess's or its stand-in's).
func (p *problems) thresholds(kind soak.Kind, prefix, spec string, minSuccess float64) ([]soak.Threshold, float64) {
	key := prefix + "THRESHOLDS"
	var out []soak.Threshold
	seen := map[string]bool{}
	// An empty variable takes the default, so "none" is how to say there are none.
	if strings.TrimSpace(spec) == "none" {
		spec = ""
	}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		t, err := parseThreshold(kind, part)
		if err != nil {
			p.add(key, "%s=%q: %q: %v", key, spec, part, err)
			continue
		}
		if seen[t.Metric+t.Op] {
			p.add(key, "%s=%q: %s%s is bounded twice; want each figure and operator once", key, spec, t.Metric, t.Op)
			continue
		}
		seen[t.Metric+t.Op] = true
		out = append(out, t)
	}
	if minSuccess < 0 {
		return out, minSuccess
	}
	for _, t := range out {
		if t.Metric == "success" && (t.Op == ">=" || t.Op == ">") {
			return out, t.Bound
		}
	}
	return append([]soak.Threshold{{Metric: "success", Op: ">=", Bound: minSuccess}}, out...), minSuccess
}

// thresholdOps are the operators, in the order they are tried.
var thresholdOps = []string{"<=", ">=", "<", ">"}

// parseThreshold parses one NAME OP VALUE of kind.
func parseThreshold(kind soak.Kind, s string) (soak.Threshold, error) {
	var t soak.Threshold
	var bound string
	for i := 0; i < len(s) && t.Op == ""; i++ {
		for _, op := range thresholdOps {
			if strings.HasPrefix(s[i:], op) {
				t.Metric, t.Op, bound = strings.TrimSpace(s[:i]), op, strings.TrimSpace(s[i+len(op):])
				break
			}
		}
	}
	figures := strings.Join(kind.Figures(), " ")
	switch {
	case t.Op == "":
		return t, fmt.Errorf("want NAME OP VALUE with OP one of < <= > >=, such as p99<=250ms or success>=0.99")
	case !soak.Sustained.HasFigure(t.Metric) && !soak.Burst.HasFigure(t.Metric) && !soak.Streams.HasFigure(t.Metric):
		return t, fmt.Errorf("unknown figure %q; want one of %s", t.Metric, figures)
	case !kind.HasFigure(t.Metric):
		return t, fmt.Errorf("the %s cycle has no %s; want one of %s", kind, t.Metric, figures)
	}
	if t.Duration() {
		d, err := time.ParseDuration(bound)
		if err != nil || d < 0 {
			return t, fmt.Errorf("want a duration such as 250ms or 1s after %s", t.Op)
		}
		t.Bound = d.Seconds()
		return t, nil
	}
	v, err := strconv.ParseFloat(bound, 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return t, fmt.Errorf("want a number after %s", t.Op)
	case t.Metric == "rps" && v < 0:
		return t, fmt.Errorf("want a rate of 0 or more (req/s)")
	case t.Metric != "rps" && (v < 0 || v > 1):
		return t, fmt.Errorf("want a ratio from 0 to 1, such as 0.99")
	}
	t.Bound = v
	return t, nil
}

// slo checks the SLO variables.
func (p *problems) slo(v sloVars) soak.SLO {
	s := soak.SLO{Availability: v.Availability}
	p.check(v.Availability > 0 && v.Availability < 1, "PICSOAK_SLO_AVAILABILITY", v.Availability, "want an objective above 0 and under 1, such as 0.99 or 0.999")
	d, o, ok := strings.Cut(v.Latency, "@")
	threshold, err1 := time.ParseDuration(d)
	objective, err2 := strconv.ParseFloat(o, 64)
	if !ok || err1 != nil || err2 != nil || threshold <= 0 || !(objective > 0 && objective < 1) {
		p.add("PICSOAK_SLO_LATENCY", "PICSOAK_SLO_LATENCY=%q: want DURATION@OBJECTIVE with a duration > 0 and an objective above 0 and under 1, such as 1s@0.99 or 250ms@0.999", v.Latency)
	}
	s.LatencyThreshold, s.LatencyObjective = threshold, objective
	window, err := parseWindow(v.Window)
	if err != nil || window < time.Hour {
		p.add("PICSOAK_SLO_WINDOW", "PICSOAK_SLO_WINDOW=%q: want a window of an hour or more, such as 28d, 30d or 720h", v.Window)
	}
	s.Window = window
	return s
}

// parseWindow parses a duration that may count in days, as Prometheus's do: 30d.
func parseWindow(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 3650 {
			return 0, errors.New("bad days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// regression checks the regression tolerances.
func (p *problems) regression(v regressionVars) soak.Tolerances {
	p.ratio("PICSOAK_REGRESSION_MAX_THROUGHPUT_DROP", v.MaxThroughputDrop)
	p.check(v.MaxP99Rise >= 0, "PICSOAK_REGRESSION_MAX_P99_RISE", v.MaxP99Rise, "want a fraction of 0 or more, such as 1 for a p99 that may double")
	p.check(v.P99Slack >= 0, "PICSOAK_REGRESSION_P99_SLACK", v.P99Slack, "want a duration >= 0")
	p.ratio("PICSOAK_REGRESSION_MAX_SUCCESS_DROP", v.MaxSuccessDrop)
	return soak.Tolerances{MaxThroughputDrop: v.MaxThroughputDrop, MaxP99Rise: v.MaxP99Rise, P99Slack: v.P99Slack, MaxSuccessDrop: v.MaxSuccessDrop}
}
