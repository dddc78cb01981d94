// Package metrics exports what picsoak measures as Prometheus metrics. It observes the
// engine through soak.Observer and registers only on the registry it is handed.
package metrics

import (
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/picsoak/picsoak/soak"
)

const namespace = "picsoak"

// RequestDurationBuckets are the classic buckets of picsoak_request_duration_seconds,
// which dashboards and alert rules use because every Prometheus keeps them.
var RequestDurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Buckets are RequestDurationBuckets with the latency SLO's threshold among them, so
// the share of requests within it is a bucket's count, exact.
func Buckets(sloThreshold time.Duration) []float64 {
	b := slices.Clone(RequestDurationBuckets)
	if t := sloThreshold.Seconds(); t > 0 && !slices.Contains(b, t) {
		b = append(b, t)
		slices.Sort(b)
	}
	return b
}

// Exporter implements soak.Observer and exports every picsoak metric.
type Exporter struct {
	// Per-request series are resolved once (by cycle, endpoint and outcome; by
	// status the first time it is seen), so the hot path is an atomic add with no
	// label lookup.
	requests  [len(soak.Kinds)][][len(soak.Outcomes)]prometheus.Counter
	duration  [len(soak.Kinds)][]prometheus.Observer
	responses [len(soak.Kinds)][]*statusCounters
	late      [len(soak.Kinds)]prometheus.Counter
	endpoints []string
	respVec   *prometheus.CounterVec

	thresholdBound, thresholdMet *prometheus.GaugeVec

	cycles       *prometheus.CounterVec
	skipped      *prometheus.CounterVec
	reportErrors prometheus.Counter
	inProgress   *prometheus.GaugeVec

	successRatio, minSuccessRatio   *prometheus.GaugeVec
	throughput, targetRPS           *prometheus.GaugeVec
	cycleDuration, pass, lastEnd    *prometheus.GaugeVec
	interval, generatorLimited      *prometheus.GaugeVec
	generatorCPUShare               *prometheus.GaugeVec
	generatorStall                  *prometheus.GaugeVec
	throughputChange, p99Change     *prometheus.GaugeVec
	burstRPS, burstDuration         *prometheus.GaugeVec
	burstRecovery, burstSuccess     *prometheus.GaugeVec
	burstRPSCoV                     prometheus.Gauge
	streamThroughput, streamP99     *prometheus.GaugeVec
	streamFairness, streamSlowest   prometheus.Gauge
	streamStarved                   prometheus.Gauge
	capacityMax, capacityKnee       prometheus.Gauge
	capacityAchievement             prometheus.Gauge
	stepOffered, stepAchieved       *prometheus.GaugeVec
	stepSuccess, stepP99            *prometheus.GaugeVec
	targetMemory, targetGoroutines  *prometheus.GaugeVec
	targetThreads, targetCPU        *prometheus.GaugeVec
	targetMemGrowth, targetGoGrowth *prometheus.GaugeVec
	targetAvailable, targetLeak     *prometheus.GaugeVec

	latency *lastLatency
	// serviceTime is latency's counterpart from each request's actual send, for the
	// open-model cycles only.
	serviceTime *lastLatency
	// spreads are the distributions over all streams or bursts of their figures: only
	// the soak.SlowestShown slowest are exported one by one, so /metrics does not grow
	// with PICSOAK_STREAMS_COUNT.
	streamRPSSpread, streamP99Spread, burstRPSSpread *lastSpread
}

// statusCounters are one cycle's and endpoint's responses by status (0: none).
type statusCounters [1000]atomic.Pointer[prometheus.Counter]

// New registers picsoak's metrics on reg, exports what plan configures (every
// threshold, the SLO, the target rates) and returns the exporter that feeds the rest.
func New(reg prometheus.Registerer, plan soak.Plan) *Exporter {
	f := factory{reg}
	cycle := []string{"cycle"}
	e := &Exporter{
		endpoints:      plan.Endpoints,
		thresholdBound: f.gaugeVec("cycle_threshold", "Bound of each configured threshold of the cycle, in base units (seconds, ratio, req/s): NAME OP VALUE of PICSOAK_<CYCLE>_THRESHOLDS and MIN_SUCCESS_RATIO.", "cycle", "metric", "op"),
		thresholdMet:   f.gaugeVec("cycle_threshold_met", "1 if the last finished cycle held the threshold, else 0.", "cycle", "metric", "op"),
		cycles:         f.counterVec("cycles_total", "Finished cycles by verdict (pass, fail, aborted).", "cycle", "verdict"),
		skipped:        f.counterVec("cycles_skipped_total", "Cycle runs skipped because the same cycle was still waiting or running.", cycle...),
		reportErrors:   f.counter("report_write_errors_total", "Cycle reports that could not be written."),
		inProgress:     f.gaugeVec("cycle_in_progress", "1 while the cycle runs.", cycle...),

		successRatio:      f.gaugeVec("cycle_success_ratio", "Share of the last finished cycle's requests that were ok.", cycle...),
		minSuccessRatio:   f.gaugeVec("cycle_min_success_ratio", "Configured pass threshold of the success ratio.", cycle...),
		throughput:        f.gaugeVec("cycle_throughput_rps", "Requests per second the last finished cycle completed.", cycle...),
		targetRPS:         f.gaugeVec("cycle_target_rps", "Arrival rate the cycle aims for; 0 for closed-loop cycles.", cycle...),
		cycleDuration:     f.gaugeVec("cycle_duration_seconds", "Wall time of the last finished cycle.", cycle...),
		pass:              f.gaugeVec("cycle_pass", "1 if the last finished cycle passed, else 0.", cycle...),
		lastEnd:           f.gaugeVec("cycle_last_end_timestamp_seconds", "Unix time the last cycle finished.", cycle...),
		interval:          f.gaugeVec("cycle_interval_seconds", "Time between scheduled runs of the cycle.", cycle...),
		generatorLimited:  f.gaugeVec("cycle_generator_limited", "1 if picsoak, not PIC, set the pace of the last cycle: its results understate PIC.", cycle...),
		generatorCPUShare: f.gaugeVec("cycle_generator_cpu_share", "Share of the CPU picsoak may use (GOMAXPROCS) that it kept busy while the last open-model cycle sent (capacity: its last step); near 1, picsoak's CPU set the pace.", cycle...),
		generatorStall:    f.gaugeVec("cycle_generator_longest_stall_seconds", "Longest time picsoak's pacer woke over 2 ms later than due in the last open-model cycle, 0 if never: the requests due meanwhile waited for picsoak (its CPU busy or taken by the host), and their latency includes it.", cycle...),
		throughputChange:  f.gaugeVec("sustained_throughput_change_ratio", "Last third's ok req/s ÷ first third's in the last sustained cycle.", cycle...),
		p99Change:         f.gaugeVec("sustained_p99_change_ratio", "Last third's p99 ÷ first third's in the last sustained cycle.", cycle...),

		burstRPS:      f.gaugeVec("burst_rps", "Requests per second of each of the 20 slowest bursts in the last burst cycle.", "burst"),
		burstDuration: f.gaugeVec("burst_duration_seconds", "Duration of each of the 20 slowest bursts in the last burst cycle.", "burst"),
		burstRecovery: f.gaugeVec("burst_recovery_seconds", "Time after each of the 20 slowest bursts until PIC answered at its pre-burst latency; -1 if not within the cool-down.", "burst"),
		burstSuccess:  f.gaugeVec("burst_success_ratio", "Success ratio of each of the 20 slowest bursts in the last burst cycle.", "burst"),
		burstRPSCoV:   f.gauge("burst_rps_coefficient_of_variation", "Spread of per-burst req/s (stddev ÷ mean) in the last burst cycle."),

		streamThroughput: f.gaugeVec("streams_throughput_rps", "Requests per second of each of the 20 slowest streams in the last streams cycle.", "stream"),
		streamP99:        f.gaugeVec("streams_p99_latency_seconds", "99th percentile latency of each of the 20 slowest streams in the last streams cycle.", "stream"),
		streamFairness:   f.gauge("streams_fairness_index", "Jain's fairness index over stream throughputs (1 = fair) in the last streams cycle."),
		streamSlowest:    f.gauge("streams_slowest_to_median_ratio", "Slowest stream's throughput ÷ the median stream's in the last streams cycle."),
		streamStarved:    f.gauge("streams_starved", "Streams under half the median throughput in the last streams cycle."),

		capacityMax:         f.gauge("capacity_max_sustained_rps", "Highest offered rate (req/s) PIC met the SLO at in the last capacity cycle; 0 when no step did."),
		capacityKnee:        f.gauge("capacity_knee_rps", "Offered rate (req/s) of the first step where PIC missed the SLO in the last capacity cycle; 0 when none did (ceiling reached or generator-limited)."),
		capacityAchievement: f.gauge("capacity_achievement_ratio", "Last capacity cycle's highest sustained rate ÷ the enterprise target (PICSOAK_ENTERPRISE_TARGET_RPS)."),
		stepOffered:         f.gaugeVec("capacity_step_offered_rps", "Arrival rate each step of the last capacity cycle offered.", "step"),
		stepAchieved:        f.gaugeVec("capacity_step_achieved_rps", "Rate picsoak actually sent at in each step of the last capacity cycle.", "step"),
		stepSuccess:         f.gaugeVec("capacity_step_success_ratio", "Success ratio of each step of the last capacity cycle.", "step"),
		stepP99:             f.gaugeVec("capacity_step_p99_latency_seconds", "99th percentile latency of each step of the last capacity cycle.", "step"),

		targetMemory:     f.gaugeVec("target_resident_memory_bytes", "PIC's resident memory after the last cycle.", cycle...),
		targetGoroutines: f.gaugeVec("target_goroutines", "PIC's goroutines after the last cycle.", cycle...),
		targetThreads:    f.gaugeVec("target_threads", "PIC's OS threads after the last cycle.", cycle...),
		targetCPU:        f.gaugeVec("target_cpu_seconds", "CPU time PIC used during the last cycle.", cycle...),
		targetMemGrowth:  f.gaugeVec("target_memory_growth_bytes", "PIC's resident memory after the last cycle minus before it.", cycle...),
		targetGoGrowth:   f.gaugeVec("target_goroutine_growth", "PIC's goroutines after the last cycle minus before it.", cycle...),
		targetAvailable:  f.gaugeVec("target_resources_available", "1 if PIC's resource usage could be sampled before and after the last cycle.", cycle...),
		targetLeak:       f.gaugeVec("target_suspected_leak", "1 if PIC's memory or goroutines grew in the last cycle and did not return.", cycle...),

		latency: &lastLatency{desc: prometheus.NewDesc(namespace+"_cycle_latency_seconds",
			"Latency quantiles of the last finished cycle, from its HDR histogram.", cycle, nil), last: map[soak.Kind]soak.LatencySummary{}},
		serviceTime: &lastLatency{desc: prometheus.NewDesc(namespace+"_cycle_service_time_seconds",
			"Service time quantiles of the last finished open-model cycle (sustained, capacity): from each request's actual send, as fortio and k6 count latency. Latency minus service time is time requests waited for picsoak.", cycle, nil), last: map[soak.Kind]soak.LatencySummary{}},
	}
	requests := f.counterVec("requests_total", "Requests sent to PIC, by how they ended.", "cycle", "endpoint", "outcome")
	e.respVec = f.counterVec("responses_total", "Requests sent to PIC by the HTTP status of its reply; code is none when no reply came.", "cycle", "endpoint", "code")
	late := f.counterVec("generator_late_requests_total", "Requests that started late because every worker was busy.", cycle...)
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace:                       namespace,
		Name:                            "request_duration_seconds",
		Help:                            "Request latency; in the open-model cycles counted from each request's intended start.",
		Buckets:                         Buckets(plan.SLO.LatencyThreshold),
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}, []string{"cycle", "endpoint"})
	e.streamRPSSpread = newSpread(namespace+"_streams_throughput_spread_rps", "Distribution of the per-stream req/s over every stream of the last streams cycle: quantile 0 is the slowest stream, 1 the fastest; count is the streams.")
	e.streamP99Spread = newSpread(namespace+"_streams_p99_latency_spread_seconds", "Distribution of the per-stream p99 latency over every stream of the last streams cycle: quantile 1 is the worst stream's.")
	e.burstRPSSpread = newSpread(namespace+"_burst_rps_spread", "Distribution of the per-burst req/s over every burst of the last burst cycle: quantile 0 is the slowest burst.")
	reg.MustRegister(duration, e.latency, e.serviceTime, e.streamRPSSpread, e.streamP99Spread, e.burstRPSSpread)
	registerSLO(f, plan.SLO)
	registerRegression(f, plan.Regression)
	if len(e.endpoints) == 0 {
		e.endpoints = []string{"default"}
	}
	for _, k := range soak.Kinds {
		for _, ep := range e.endpoints {
			var byOutcome [len(soak.Outcomes)]prometheus.Counter
			for _, o := range soak.Outcomes {
				byOutcome[o] = requests.WithLabelValues(k.String(), ep, o.String())
			}
			e.requests[k] = append(e.requests[k], byOutcome)
			e.duration[k] = append(e.duration[k], duration.WithLabelValues(k.String(), ep))
			e.responses[k] = append(e.responses[k], new(statusCounters))
		}
		e.late[k] = late.WithLabelValues(k.String())
		e.minSuccessRatio.WithLabelValues(k.String()).Set(plan.MinSuccessRatio(k))
		e.targetRPS.WithLabelValues(k.String()).Set(plan.TargetRPS(k))
		for _, t := range plan.Thresholds(k) {
			e.thresholdBound.WithLabelValues(k.String(), t.Metric, t.Op).Set(t.Bound)
		}
		e.skipped.WithLabelValues(k.String())
		e.inProgress.WithLabelValues(k.String())
		// Zero series exist from the start, so rate() and increase() see the first one.
		for _, v := range soak.Verdicts {
			e.cycles.WithLabelValues(k.String(), string(v))
		}
	}
	return e
}

// registerSLO exports the SLO the alert rules judge PIC's requests against, so the
// rules read the objectives instead of copying them.
func registerSLO(f factory, slo soak.SLO) {
	if slo.LatencyThreshold <= 0 {
		return
	}
	objective := f.gaugeVec("slo_objective_ratio", "Objective of each SLO: the share of requests that must be ok (availability) or answered within picsoak_slo_latency_threshold_seconds (latency) over the SLO window.", "slo")
	objective.WithLabelValues("availability").Set(slo.Availability)
	objective.WithLabelValues("latency").Set(slo.LatencyObjective)
	f.gauge("slo_latency_threshold_seconds", "Latency a request must be answered within to count as good for the latency SLO.").Set(slo.LatencyThreshold.Seconds())
	f.gauge("slo_window_seconds", "Window the SLOs' error budget is counted over (PICSOAK_SLO_WINDOW).").Set(slo.Window.Seconds())
	// The bucket of picsoak_request_duration_seconds whose bound is the threshold, by
	// its le label: rules pick it with label_replace. Prometheus 2 stores le as the
	// text exposition writes it ("1"), Prometheus 3 normalises it to a float ("1.0"):
	// both spellings are exported, and a rule's join matches whichever is stored.
	info := f.gaugeVec("slo_latency_bucket_info", "The le label (as bucket) of the picsoak_request_duration_seconds bucket at the latency SLO's threshold, as Prometheus 2 and 3 store it; always 1.", "bucket")
	le := strconv.FormatFloat(slo.LatencyThreshold.Seconds(), 'g', -1, 64)
	info.WithLabelValues(le).Set(1)
	if !strings.ContainsAny(le, ".e") {
		info.WithLabelValues(le + ".0").Set(1)
	}
}

// registerRegression exports the regression tolerances the alert rules compare each
// cycle with its 7-day baseline by, the ones picsoak run --baseline uses too.
func registerRegression(f factory, t soak.Tolerances) {
	f.gauge("regression_max_throughput_drop_ratio", "Largest throughput drop against the baseline that is no regression, as a fraction of it (PICSOAK_REGRESSION_MAX_THROUGHPUT_DROP).").Set(t.MaxThroughputDrop)
	f.gauge("regression_max_p99_rise_ratio", "Largest p99 rise against the baseline that is no regression, as a fraction of it (PICSOAK_REGRESSION_MAX_P99_RISE).").Set(t.MaxP99Rise)
	f.gauge("regression_p99_slack_seconds", "p99 rises against the baseline smaller than this are never a regression (PICSOAK_REGRESSION_P99_SLACK).").Set(t.P99Slack.Seconds())
	f.gauge("regression_max_success_drop_ratio", "Largest success-ratio drop against the baseline that is no regression, absolute (PICSOAK_REGRESSION_MAX_SUCCESS_DROP).").Set(t.MaxSuccessDrop)
}

// RegisterRuntime registers picsoak's own Go and process collectors and
// picsoak_build_info.
func RegisterRuntime(reg prometheus.Registerer, version, revision string) {
	RegisterBuildInfo(reg, version, revision)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// RegisterBuildInfo registers picsoak_build_info alone: what a pushed batch run
// carries of its process, whose Go and process figures end with it.
func RegisterBuildInfo(reg prometheus.Registerer, version, revision string) {
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   namespace,
		Name:        "build_info",
		Help:        "picsoak's version, revision and Go version; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	})
	info.Set(1)
	reg.MustRegister(info)
}

// RegisterShard registers picsoak_shard_info{shard="i",shards="n"} 1, so dashboards
// and alerts can tell the replicas that share one load (PICSOAK_SHARD) apart.
func RegisterShard(reg prometheus.Registerer, s soak.Shard) {
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   namespace,
		Name:        "shard_info",
		Help:        "This replica's shard and the number of replicas sharing the configured load (PICSOAK_SHARD); always 1.",
		ConstLabels: prometheus.Labels{"shard": strconv.Itoa(s.Index), "shards": strconv.Itoa(max(s.Count, 1))},
	})
	info.Set(1)
	reg.MustRegister(info)
}

// SetInterval exports kind's schedule interval (0 when the cycle is off).
func (e *Exporter) SetInterval(kind soak.Kind, interval time.Duration) {
	e.interval.WithLabelValues(kind.String()).Set(interval.Seconds())
}

// ReportWriteFailed counts a report that could not be written.
func (e *Exporter) ReportWriteFailed() { e.reportErrors.Inc() }

// CycleStarted implements soak.Observer.
func (e *Exporter) CycleStarted(kind soak.Kind) { e.inProgress.WithLabelValues(kind.String()).Set(1) }

// ObserveRequest implements soak.Observer.
func (e *Exporter) ObserveRequest(kind soak.Kind, r soak.Reply, latency time.Duration) {
	ep := r.Endpoint
	if ep < 0 || ep >= len(e.endpoints) {
		ep = 0
	}
	e.requests[kind][ep][r.Outcome].Inc()
	e.duration[kind][ep].Observe(latency.Seconds())
	status := r.Status
	if status < 0 || status >= len(statusCounters{}) {
		status = 0
	}
	c := e.responses[kind][ep][status].Load()
	if c == nil {
		// The first reply with this status: resolve its series once, as the others.
		counter := e.respVec.WithLabelValues(kind.String(), e.endpoints[ep], soak.StatusLabel(status))
		c = &counter
		e.responses[kind][ep][status].Store(c)
	}
	(*c).Inc()
}

// LateRequest implements soak.Observer.
func (e *Exporter) LateRequest(kind soak.Kind) { e.late[kind].Inc() }

// CycleSkipped implements soak.Observer.
func (e *Exporter) CycleSkipped(kind soak.Kind) { e.skipped.WithLabelValues(kind.String()).Inc() }

// CycleFinished implements soak.Observer.
func (e *Exporter) CycleFinished(r *soak.Result) {
	k := r.Cycle.String()
	e.inProgress.WithLabelValues(k).Set(0)
	e.cycles.WithLabelValues(k, string(r.Verdict)).Inc()
	e.lastEnd.WithLabelValues(k).Set(float64(r.End.UnixNano()) / 1e9)
	e.cycleDuration.WithLabelValues(k).Set(r.DurationSeconds)
	// An aborted cycle's partial numbers would read as a regression; keep the last
	// complete cycle's figures instead.
	if r.Verdict == soak.VerdictAborted {
		return
	}
	e.successRatio.WithLabelValues(k).Set(r.SuccessRatio)
	e.throughput.WithLabelValues(k).Set(r.ThroughputRPS)
	e.pass.WithLabelValues(k).Set(boolFloat(r.Verdict == soak.VerdictPass))
	e.generatorLimited.WithLabelValues(k).Set(boolFloat(r.GeneratorLimited))
	if r.GeneratorCPUShare > 0 {
		e.generatorCPUShare.WithLabelValues(k).Set(r.GeneratorCPUShare)
	}
	for _, t := range r.Thresholds {
		e.thresholdMet.WithLabelValues(k, t.Metric, t.Op).Set(boolFloat(t.Met))
	}
	e.latency.set(r.Cycle, r.Latency)
	if r.ServiceTime != nil { // an open-model cycle
		e.serviceTime.set(r.Cycle, *r.ServiceTime)
		e.generatorStall.WithLabelValues(k).Set(r.GeneratorLongestStallSeconds)
	}

	if d := r.Sustained; d != nil {
		e.throughputChange.WithLabelValues(k).Set(d.ThroughputChange)
		e.p99Change.WithLabelValues(k).Set(d.P99Change)
	}
	if d := r.Burst; d != nil {
		resetAll(e.burstRPS, e.burstDuration, e.burstRecovery, e.burstSuccess)
		rps := make([]float64, len(d.Bursts))
		for i, b := range d.Bursts {
			rps[i] = b.RPS
		}
		e.burstRPSSpread.set(rps)
		for _, b := range d.Slowest(soak.SlowestShown) {
			i := strconv.Itoa(b.Index)
			e.burstRPS.WithLabelValues(i).Set(b.RPS)
			e.burstDuration.WithLabelValues(i).Set(b.DurationSeconds)
			e.burstRecovery.WithLabelValues(i).Set(b.RecoverySeconds)
			e.burstSuccess.WithLabelValues(i).Set(b.SuccessRatio)
		}
		e.burstRPSCoV.Set(d.RPSSpread.CoV)
	}
	if d := r.Streams; d != nil {
		resetAll(e.streamThroughput, e.streamP99)
		rps, p99 := make([]float64, len(d.Streams)), make([]float64, len(d.Streams))
		for i, s := range d.Streams {
			rps[i], p99[i] = s.ThroughputRPS, s.P99Seconds
		}
		e.streamRPSSpread.set(rps)
		e.streamP99Spread.set(p99)
		for _, s := range d.Slowest(soak.SlowestShown) {
			i := strconv.Itoa(s.Index)
			e.streamThroughput.WithLabelValues(i).Set(s.ThroughputRPS)
			e.streamP99.WithLabelValues(i).Set(s.P99Seconds)
		}
		e.streamFairness.Set(d.Fairness)
		e.streamSlowest.Set(d.Starvation)
		e.streamStarved.Set(float64(len(d.Starved)))
	}
	if d := r.Capacity; d != nil {
		e.capacityMax.Set(d.MaxSustainedRPS)
		e.capacityKnee.Set(d.KneeRPS)
		e.capacityAchievement.Set(d.Achievement)
		resetAll(e.stepOffered, e.stepAchieved, e.stepSuccess, e.stepP99)
		// Steps are at most soak.MaxCapacitySteps, so the label is bounded.
		for _, st := range d.Steps {
			i := strconv.Itoa(st.Index)
			e.stepOffered.WithLabelValues(i).Set(st.OfferedRPS)
			e.stepAchieved.WithLabelValues(i).Set(st.AchievedRPS)
			e.stepSuccess.WithLabelValues(i).Set(st.SuccessRatio)
			e.stepP99.WithLabelValues(i).Set(st.P99Seconds)
		}
	}
	e.setResources(k, r.Resources)
}

func (e *Exporter) setResources(k string, rep *soak.ResourceReport) {
	if rep == nil {
		return
	}
	e.targetAvailable.WithLabelValues(k).Set(boolFloat(rep.Before != nil && rep.After != nil))
	e.targetLeak.WithLabelValues(k).Set(boolFloat(rep.SuspectedLeak))
	set := func(v *prometheus.GaugeVec, f *float64) {
		if f != nil {
			v.WithLabelValues(k).Set(*f)
		} else {
			v.DeleteLabelValues(k)
		}
	}
	if a := rep.After; a != nil {
		set(e.targetMemory, a.ResidentMemoryBytes)
		set(e.targetGoroutines, a.Goroutines)
		set(e.targetThreads, a.Threads)
	}
	set(e.targetCPU, rep.CPUSeconds)
	set(e.targetMemGrowth, rep.MemoryGrowthBytes)
	set(e.targetGoGrowth, rep.GoroutineGrowth)
}

// resetAll drops every series of the per-burst, per-stream or per-step gauges, so a
// shorter new result leaves no stale index behind.
func resetAll(vecs ...*prometheus.GaugeVec) {
	for _, v := range vecs {
		v.Reset()
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// lastLatency exports each cycle's last latency quantiles as a const summary, computed
// once at cycle end and snapshotted under a lock at scrape time.
type lastLatency struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	last map[soak.Kind]soak.LatencySummary
}

func (l *lastLatency) set(k soak.Kind, s soak.LatencySummary) {
	l.mu.Lock()
	l.last[k] = s
	l.mu.Unlock()
}

func (l *lastLatency) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *lastLatency) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, s := range l.last {
		q := make(map[float64]float64, len(s.Quantiles))
		for _, v := range s.Quantiles {
			q[v.Quantile] = v.Seconds
		}
		ch <- prometheus.MustNewConstSummary(l.desc, uint64(s.Count), s.Sum, q, k.String())
	}
}

// spreadQuantiles are the points a spread summary reports: min, median, p90, max.
var spreadQuantiles = []float64{0, 0.5, 0.9, 1}

// lastSpread exports the distribution of one figure over the streams or bursts of
// the last cycle as a const summary (exact order statistics), bounded whatever their
// number; nothing until a cycle set it.
type lastSpread struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	q    map[float64]float64
	n    int
	sum  float64
}

func newSpread(name, help string) *lastSpread {
	return &lastSpread{desc: prometheus.NewDesc(name, help, nil, nil)}
}

// set takes the figures of the last cycle.
func (l *lastSpread) set(values []float64) {
	sorted := slices.Sorted(slices.Values(values))
	q := make(map[float64]float64, len(spreadQuantiles))
	var sum float64
	for _, v := range sorted {
		sum += v
	}
	if len(sorted) > 0 {
		for _, p := range spreadQuantiles {
			// Nearest rank: the value at or above p of them.
			i := int(math.Ceil(p*float64(len(sorted)))) - 1
			q[p] = sorted[max(i, 0)]
		}
	}
	l.mu.Lock()
	l.q, l.n, l.sum = q, len(sorted), sum
	l.mu.Unlock()
}

func (l *lastSpread) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *lastSpread) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.q != nil {
		ch <- prometheus.MustNewConstSummary(l.desc, uint64(l.n), l.sum, l.q)
	}
}

type factory struct{ reg prometheus.Registerer }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}
