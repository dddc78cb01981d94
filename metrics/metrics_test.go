package metrics

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/picsoak/picsoak/soak"
)

func float(v float64) *float64 { return &v }

// testPlan is a plan as the default configuration makes it, but with burst's success
// ratio at 0.9 and two endpoints.
func testPlan() soak.Plan {
	latency := soak.Threshold{Metric: "p99", Op: "<=", Bound: 1}
	success := func(min float64) []soak.Threshold {
		return []soak.Threshold{{Metric: "success", Op: ">=", Bound: min}, latency}
	}
	return soak.Plan{
		Sustained: soak.SustainedSpec{Rate: 100, MinSuccessRatio: 0.95, Thresholds: success(0.95)},
		Burst:     soak.BurstSpec{MinSuccessRatio: 0.9, Thresholds: success(0.9)},
		Streams:   soak.StreamsSpec{MinSuccessRatio: 0.95, Thresholds: success(0.95)},
		Capacity:  soak.CapacitySpec{MaxRate: 50000, MinSuccessRatio: 0.95},
		Endpoints: []string{"write", "read"},
		SLO:       soak.SLO{Availability: 0.99, LatencyThreshold: 300 * time.Millisecond, LatencyObjective: 0.95, Window: 30 * 24 * time.Hour},
	}
}

// sampleResult is a finished burst cycle with every figure set.
func sampleResult() *soak.Result {
	return &soak.Result{
		Cycle:           soak.Burst,
		End:             time.Unix(1_800_000_000, 0),
		DurationSeconds: 12.5,
		Verdict:         soak.VerdictPass,
		SuccessRatio:    0.99,
		ThroughputRPS:   227,
		Latency: soak.LatencySummary{Count: 2500, Sum: 10, Quantiles: []soak.QuantileValue{
			{Quantile: 0.5, Seconds: 0.002}, {Quantile: 0.9, Seconds: 0.004}, {Quantile: 0.95, Seconds: 0.005},
			{Quantile: 0.99, Seconds: 0.01}, {Quantile: 0.999, Seconds: 0.02}, {Quantile: 1, Seconds: 0.05},
		}},
		Burst: &soak.BurstDetail{
			Bursts: []soak.BurstStat{
				{Index: 0, RPS: 220, DurationSeconds: 2.27, RecoverySeconds: 0.01, SuccessRatio: 1},
				{Index: 1, RPS: 234, DurationSeconds: 2.13, RecoverySeconds: -1, SuccessRatio: 0.98},
			},
			RPSSpread: soak.Spread{CoV: 0.03},
		},
		Resources: &soak.ResourceReport{
			Before:            &soak.ResourceSample{},
			After:             &soak.ResourceSample{ResidentMemoryBytes: float(64 << 20), Goroutines: float(40)},
			MemoryGrowthBytes: float(1 << 20),
			GoroutineGrowth:   float(2),
			CPUSeconds:        float(1.5),
		},
	}
}

func TestCycleFinishedExportsResult(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := New(reg, testPlan())
	e.SetInterval(soak.Burst, 10*time.Minute)
	e.CycleStarted(soak.Burst)
	e.ObserveRequest(soak.Burst, soak.Reply{Outcome: soak.OutcomeOK, Status: 200}, 3*time.Millisecond)
	e.ObserveRequest(soak.Burst, soak.Reply{Outcome: soak.OutcomeTimeout}, 5*time.Second)
	e.CycleFinished(sampleResult())

	want := `
# HELP picsoak_burst_recovery_seconds Time after each of the 20 slowest bursts until PIC answered at its pre-burst latency; -1 if not within the cool-down.
# TYPE picsoak_burst_recovery_seconds gauge
picsoak_burst_recovery_seconds{burst="0"} 0.01
picsoak_burst_recovery_seconds{burst="1"} -1
# HELP picsoak_cycle_latency_seconds Latency quantiles of the last finished cycle, from its HDR histogram.
# TYPE picsoak_cycle_latency_seconds summary
picsoak_cycle_latency_seconds{cycle="burst",quantile="0.5"} 0.002
picsoak_cycle_latency_seconds{cycle="burst",quantile="0.9"} 0.004
picsoak_cycle_latency_seconds{cycle="burst",quantile="0.95"} 0.005
picsoak_cycle_latency_seconds{cycle="burst",quantile="0.99"} 0.01
picsoak_cycle_latency_seconds{cycle="burst",quantile="0.999"} 0.02
picsoak_cycle_latency_seconds{cycle="burst",quantile="1"} 0.05
picsoak_cycle_latency_seconds_sum{cycle="burst"} 10
picsoak_cycle_latency_seconds_count{cycle="burst"} 2500
# HELP picsoak_cycle_min_success_ratio Configured pass threshold of the success ratio.
# TYPE picsoak_cycle_min_success_ratio gauge
picsoak_cycle_min_success_ratio{cycle="burst"} 0.9
picsoak_cycle_min_success_ratio{cycle="capacity"} 0.95
picsoak_cycle_min_success_ratio{cycle="streams"} 0.95
picsoak_cycle_min_success_ratio{cycle="sustained"} 0.95
# HELP picsoak_cycle_interval_seconds Time between scheduled runs of the cycle.
# TYPE picsoak_cycle_interval_seconds gauge
picsoak_cycle_interval_seconds{cycle="burst"} 600
# HELP picsoak_cycle_pass 1 if the last finished cycle passed, else 0.
# TYPE picsoak_cycle_pass gauge
picsoak_cycle_pass{cycle="burst"} 1
# HELP picsoak_cycle_in_progress 1 while the cycle runs.
# TYPE picsoak_cycle_in_progress gauge
picsoak_cycle_in_progress{cycle="burst"} 0
picsoak_cycle_in_progress{cycle="capacity"} 0
picsoak_cycle_in_progress{cycle="streams"} 0
picsoak_cycle_in_progress{cycle="sustained"} 0
# HELP picsoak_cycle_last_end_timestamp_seconds Unix time the last cycle finished.
# TYPE picsoak_cycle_last_end_timestamp_seconds gauge
picsoak_cycle_last_end_timestamp_seconds{cycle="burst"} 1.8e+09
# HELP picsoak_target_goroutines PIC's goroutines after the last cycle.
# TYPE picsoak_target_goroutines gauge
picsoak_target_goroutines{cycle="burst"} 40
# HELP picsoak_target_memory_growth_bytes PIC's resident memory after the last cycle minus before it.
# TYPE picsoak_target_memory_growth_bytes gauge
picsoak_target_memory_growth_bytes{cycle="burst"} 1.048576e+06
`
	names := []string{"picsoak_burst_recovery_seconds", "picsoak_cycle_latency_seconds", "picsoak_cycle_min_success_ratio",
		"picsoak_cycle_interval_seconds", "picsoak_cycle_pass", "picsoak_cycle_in_progress", "picsoak_cycle_last_end_timestamp_seconds",
		"picsoak_target_goroutines", "picsoak_target_memory_growth_bytes"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(e.requests[soak.Burst][0][soak.OutcomeTimeout]); got != 1 {
		t.Errorf("timeout requests = %g, want 1", got)
	}
	if got := testutil.ToFloat64(e.cycles.WithLabelValues("burst", "pass")); got != 1 {
		t.Errorf("burst passes = %g, want 1", got)
	}
}

func TestCapacityCycleExportsKneeAndSteps(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := New(reg, testPlan())
	res := &soak.Result{Cycle: soak.Capacity, Verdict: soak.VerdictPass, Capacity: &soak.CapacityDetail{
		Steps: []soak.CapacityStep{
			{Index: 0, OfferedRPS: 1000, AchievedRPS: 999.5, SuccessRatio: 1, P99Seconds: 0.004, MetSLO: true},
			{Index: 1, OfferedRPS: 2000, AchievedRPS: 1998, SuccessRatio: 0.8, P99Seconds: 0.25, Miss: soak.MissSuccessRatio},
		},
		MaxSustainedRPS: 1000, KneeRPS: 2000, Stop: soak.CapacityStopKnee, Achievement: 0.02,
	}}
	e.CycleFinished(res)
	want := `
# HELP picsoak_capacity_achievement_ratio Last capacity cycle's highest sustained rate ÷ the enterprise target (PICSOAK_ENTERPRISE_TARGET_RPS).
# TYPE picsoak_capacity_achievement_ratio gauge
picsoak_capacity_achievement_ratio 0.02
# HELP picsoak_capacity_knee_rps Offered rate (req/s) of the first step where PIC missed the SLO in the last capacity cycle; 0 when none did (ceiling reached or generator-limited).
# TYPE picsoak_capacity_knee_rps gauge
picsoak_capacity_knee_rps 2000
# HELP picsoak_capacity_max_sustained_rps Highest offered rate (req/s) PIC met the SLO at in the last capacity cycle; 0 when no step did.
# TYPE picsoak_capacity_max_sustained_rps gauge
picsoak_capacity_max_sustained_rps 1000
# HELP picsoak_capacity_step_offered_rps Arrival rate each step of the last capacity cycle offered.
# TYPE picsoak_capacity_step_offered_rps gauge
picsoak_capacity_step_offered_rps{step="0"} 1000
picsoak_capacity_step_offered_rps{step="1"} 2000
# HELP picsoak_capacity_step_p99_latency_seconds 99th percentile latency of each step of the last capacity cycle.
# TYPE picsoak_capacity_step_p99_latency_seconds gauge
picsoak_capacity_step_p99_latency_seconds{step="0"} 0.004
picsoak_capacity_step_p99_latency_seconds{step="1"} 0.25
# HELP picsoak_capacity_step_success_ratio Success ratio of each step of the last capacity cycle.
# TYPE picsoak_capacity_step_success_ratio gauge
picsoak_capacity_step_success_ratio{step="0"} 1
picsoak_capacity_step_success_ratio{step="1"} 0.8
`
	names := []string{"picsoak_capacity_achievement_ratio", "picsoak_capacity_knee_rps", "picsoak_capacity_max_sustained_rps",
		"picsoak_capacity_step_offered_rps", "picsoak_capacity_step_p99_latency_seconds", "picsoak_capacity_step_success_ratio"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// A later search with fewer steps leaves no stale step behind.
	res.Capacity.Steps = res.Capacity.Steps[:1]
	e.CycleFinished(res)
	if n := testutil.CollectAndCount(reg, "picsoak_capacity_step_achieved_rps"); n != 1 {
		t.Errorf("got %d step series after a one-step search, want 1", n)
	}
}

func TestAbortedCycleKeepsLastCompleteFigures(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := New(reg, testPlan())
	e.CycleFinished(sampleResult())
	aborted := sampleResult()
	aborted.Verdict, aborted.SuccessRatio = soak.VerdictAborted, 0.1
	e.CycleFinished(aborted)
	if got := testutil.ToFloat64(e.successRatio.WithLabelValues("burst")); got != 0.99 {
		t.Errorf("success ratio after an aborted cycle = %g, want the last complete 0.99", got)
	}
	if got := testutil.ToFloat64(e.cycles.WithLabelValues("burst", "aborted")); got != 1 {
		t.Errorf("aborted count = %g, want 1", got)
	}
}

func TestEveryCounterSeriesExistsFromStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg, testPlan())
	// 4 cycles × 2 endpoints × 5 outcomes and 4 × 3 verdicts, all at zero, so the
	// first increase counts.
	if n := testutil.CollectAndCount(reg, "picsoak_requests_total"); n != 40 {
		t.Errorf("picsoak_requests_total series = %d, want 40", n)
	}
	if n := testutil.CollectAndCount(reg, "picsoak_cycles_total"); n != 12 {
		t.Errorf("picsoak_cycles_total series = %d, want 12", n)
	}
}

func TestRequestDurationHasClassicAndNativeBuckets(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := New(reg, testPlan())
	e.ObserveRequest(soak.Sustained, soak.Reply{Outcome: soak.OutcomeOK}, 3*time.Millisecond)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "picsoak_request_duration_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		// The classic buckets and the latency SLO's threshold, 300ms, among them.
		var bounds []float64
		for _, b := range h.GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		if len(bounds) != len(RequestDurationBuckets)+1 || !slices.Contains(bounds, 0.3) || !slices.IsSorted(bounds) {
			t.Errorf("classic buckets %v, want the %d standard ones and the SLO's 0.3, sorted", bounds, len(RequestDurationBuckets))
		}
		if h.GetSchema() == 0 && len(h.GetPositiveSpan()) == 0 {
			t.Error("no native histogram data, want native buckets alongside the classic ones")
		}
		return
	}
	t.Fatal("picsoak_request_duration_seconds not gathered")
}

func BenchmarkObserveRequest(b *testing.B) {
	e := New(prometheus.NewRegistry(), testPlan())
	b.ReportAllocs()
	for b.Loop() {
		e.ObserveRequest(soak.Sustained, soak.Reply{Outcome: soak.OutcomeOK, Status: 200}, 3*time.Millisecond)
	}
}

func TestRegisterShard(t *testing.T) {
	tests := []struct {
		name  string
		shard soak.Shard
		want  string
	}{
		{"unsharded (the zero value)", soak.Shard{}, `picsoak_shard_info{shard="0",shards="1"} 1`},
		{"third of four", soak.Shard{Index: 2, Count: 4}, `picsoak_shard_info{shard="2",shards="4"} 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			RegisterShard(reg, tt.shard)
			want := `
# HELP picsoak_shard_info This replica's shard and the number of replicas sharing the configured load (PICSOAK_SHARD); always 1.
# TYPE picsoak_shard_info gauge
` + tt.want + "\n"
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "picsoak_shard_info"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestOpenModelCycleExportsServiceTimeAndGeneratorFiguresBesideLatency(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := New(reg, testPlan())
	e.CycleFinished(sampleResult()) // a burst cycle: closed loop, no service time
	sustained := &soak.Result{Cycle: soak.Sustained, Verdict: soak.VerdictPass, GeneratorCPUShare: 0.91, GeneratorStalls: 2, GeneratorLongestStallSeconds: 0.0284,
		Latency:     soak.LatencySummary{Count: 3000, Sum: 9, Quantiles: []soak.QuantileValue{{Quantile: 0.5, Seconds: 0.002}, {Quantile: 0.99, Seconds: 0.012}}},
		ServiceTime: &soak.LatencySummary{Count: 3000, Sum: 4.5, Quantiles: []soak.QuantileValue{{Quantile: 0.5, Seconds: 0.0015}, {Quantile: 0.99, Seconds: 0.003}}},
	}
	e.CycleFinished(sustained)
	want := `
# HELP picsoak_cycle_service_time_seconds Service time quantiles of the last finished open-model cycle (sustained, capacity): from each request's actual send, as fortio and k6 count latency. Latency minus service time is time requests waited for picsoak.
# TYPE picsoak_cycle_service_time_seconds summary
picsoak_cycle_service_time_seconds{cycle="sustained",quantile="0.5"} 0.0015
picsoak_cycle_service_time_seconds{cycle="sustained",quantile="0.99"} 0.003
picsoak_cycle_service_time_seconds_sum{cycle="sustained"} 4.5
picsoak_cycle_service_time_seconds_count{cycle="sustained"} 3000
# HELP picsoak_cycle_generator_cpu_share Share of the CPU picsoak may use (GOMAXPROCS) that it kept busy while the last open-model cycle sent (capacity: its last step); near 1, picsoak's CPU set the pace.
# TYPE picsoak_cycle_generator_cpu_share gauge
picsoak_cycle_generator_cpu_share{cycle="sustained"} 0.91
# HELP picsoak_cycle_generator_longest_stall_seconds Longest time picsoak's pacer woke over 2 ms later than due in the last open-model cycle, 0 if never: the requests due meanwhile waited for picsoak (its CPU busy or taken by the host), and their latency includes it.
# TYPE picsoak_cycle_generator_longest_stall_seconds gauge
picsoak_cycle_generator_longest_stall_seconds{cycle="sustained"} 0.0284
`
	names := []string{"picsoak_cycle_service_time_seconds", "picsoak_cycle_generator_cpu_share", "picsoak_cycle_generator_longest_stall_seconds"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// A later cycle without a stall clears the figure instead of repeating the old one.
	sustained.GeneratorStalls, sustained.GeneratorLongestStallSeconds = 0, 0
	e.CycleFinished(sustained)
	if got := testutil.ToFloat64(e.generatorStall.WithLabelValues("sustained")); got != 0 {
		t.Errorf("longest stall after a cycle without one = %v, want 0", got)
	}
	if n := testutil.CollectAndCount(reg, "picsoak_cycle_latency_seconds"); n != 2 {
		t.Errorf("latency summaries = %d, want one each for burst and sustained", n)
	}
}

// Every threshold's bound is exported from the start, whether each held after the
// cycle, and the SLO the rules read.
func TestThresholdsAndSLOAreExported(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := New(reg, testPlan())
	res := sampleResult()
	res.Thresholds = []soak.ThresholdResult{
		{Threshold: soak.Threshold{Metric: "success", Op: ">=", Bound: 0.9}, Value: float(0.99), Met: true},
		{Threshold: soak.Threshold{Metric: "p99", Op: "<=", Bound: 1}, Value: float(1.5), Met: false},
	}
	e.CycleFinished(res)
	want := `
# HELP picsoak_cycle_threshold_met 1 if the last finished cycle held the threshold, else 0.
# TYPE picsoak_cycle_threshold_met gauge
picsoak_cycle_threshold_met{cycle="burst",metric="p99",op="<="} 0
picsoak_cycle_threshold_met{cycle="burst",metric="success",op=">="} 1
# HELP picsoak_slo_objective_ratio Objective of each SLO: the share of requests that must be ok (availability) or answered within picsoak_slo_latency_threshold_seconds (latency) over the SLO window.
# TYPE picsoak_slo_objective_ratio gauge
picsoak_slo_objective_ratio{slo="availability"} 0.99
picsoak_slo_objective_ratio{slo="latency"} 0.95
# HELP picsoak_slo_latency_threshold_seconds Latency a request must be answered within to count as good for the latency SLO.
# TYPE picsoak_slo_latency_threshold_seconds gauge
picsoak_slo_latency_threshold_seconds 0.3
# HELP picsoak_slo_latency_bucket_info The le label (as bucket) of the picsoak_request_duration_seconds bucket at the latency SLO's threshold, as Prometheus 2 and 3 store it; always 1.
# TYPE picsoak_slo_latency_bucket_info gauge
picsoak_slo_latency_bucket_info{bucket="0.3"} 1
# HELP picsoak_slo_window_seconds Window the SLOs' error budget is counted over (PICSOAK_SLO_WINDOW).
# TYPE picsoak_slo_window_seconds gauge
picsoak_slo_window_seconds 2.592e+06
`
	names := []string{"picsoak_cycle_threshold_met", "picsoak_slo_objective_ratio", "picsoak_slo_latency_threshold_seconds", "picsoak_slo_latency_bucket_info", "picsoak_slo_window_seconds"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// Three cycles with two thresholds each; capacity has none.
	if n := testutil.CollectAndCount(reg, "picsoak_cycle_threshold"); n != 6 {
		t.Errorf("threshold bounds = %d series, want 6", n)
	}
	if got := testutil.ToFloat64(e.thresholdBound.WithLabelValues("burst", "success", ">=")); got != 0.9 {
		t.Errorf("burst's success bound = %g, want 0.9", got)
	}
}

// Requests count by endpoint and by the status PIC answered with, none without one.
func TestRequestsByEndpointAndStatus(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := New(reg, testPlan())
	e.ObserveRequest(soak.Sustained, soak.Reply{Endpoint: 1, Status: 200}, time.Millisecond)
	e.ObserveRequest(soak.Sustained, soak.Reply{Endpoint: 1, Status: 200}, time.Millisecond)
	e.ObserveRequest(soak.Sustained, soak.Reply{Outcome: soak.OutcomeHTTPError, Endpoint: 0, Status: 503}, time.Millisecond)
	e.ObserveRequest(soak.Sustained, soak.Reply{Outcome: soak.OutcomeConnError, Endpoint: 0}, time.Millisecond)
	want := `
# HELP picsoak_responses_total Requests sent to PIC by the HTTP status of its reply; code is none when no reply came.
# TYPE picsoak_responses_total counter
picsoak_responses_total{code="200",cycle="sustained",endpoint="read"} 2
picsoak_responses_total{code="503",cycle="sustained",endpoint="write"} 1
picsoak_responses_total{code="none",cycle="sustained",endpoint="write"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "picsoak_responses_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(e.requests[soak.Sustained][1][soak.OutcomeOK]); got != 2 {
		t.Errorf("read's ok requests = %g, want 2", got)
	}
	if n := testing.AllocsPerRun(100, func() { e.ObserveRequest(soak.Sustained, soak.Reply{Endpoint: 1, Status: 200}, time.Millisecond) }); n != 0 {
		t.Errorf("ObserveRequest allocates %v times per request, want 0", n)
	}
}

// A whole-second latency threshold's bucket is named both ways Prometheus stores le.
func TestLatencyBucketInfoNamesBothSpellings(t *testing.T) {
	reg := prometheus.NewRegistry()
	plan := testPlan()
	plan.SLO.LatencyThreshold = time.Second
	New(reg, plan)
	want := `
# HELP picsoak_slo_latency_bucket_info The le label (as bucket) of the picsoak_request_duration_seconds bucket at the latency SLO's threshold, as Prometheus 2 and 3 store it; always 1.
# TYPE picsoak_slo_latency_bucket_info gauge
picsoak_slo_latency_bucket_info{bucket="1"} 1
picsoak_slo_latency_bucket_info{bucket="1.0"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "picsoak_slo_latency_bucket_info"); err != nil {
		t.Error(err)
	}
}

// samples counts every sample the registry would expose.
func samples(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetSummary() != nil:
				n += len(m.GetSummary().GetQuantile()) + 2
			case m.GetHistogram() != nil:
				n += len(m.GetHistogram().GetBucket()) + 3
			default:
				n++
			}
		}
	}
	return n
}

// streamsResult is a streams cycle of n streams, stream i at 1000+i req/s.
func streamsResult(n int) *soak.Result {
	d := &soak.StreamsDetail{Count: n}
	for i := range n {
		d.Streams = append(d.Streams, soak.StreamStat{Index: i, ThroughputRPS: float64(1000 + i), P99Seconds: float64(i) / 1000})
	}
	return &soak.Result{Cycle: soak.Streams, Verdict: soak.VerdictPass, Streams: d}
}

// Per-stream series exist for the 20 slowest streams only, the rest are in the
// spread summaries: /metrics at 5,000 streams stays small and does not grow with
// the stream count.
func TestStreamSeriesAreBounded(t *testing.T) {
	counts := map[int]int{}
	for _, n := range []int{100, 5000} {
		reg := prometheus.NewRegistry()
		e := New(reg, testPlan())
		RegisterRuntime(reg, "test", "test")
		e.CycleFinished(streamsResult(n))
		counts[n] = samples(t, reg)
		if got := testutil.CollectAndCount(reg, "picsoak_streams_throughput_rps"); got != soak.SlowestShown {
			t.Errorf("%d streams: %d per-stream series, want %d", n, got, soak.SlowestShown)
		}
	}
	if counts[5000] >= 3000 || counts[5000] != counts[100] {
		t.Errorf("samples at 5,000 streams %d, at 100 %d: want under 3,000 and the same", counts[5000], counts[100])
	}
	reg := prometheus.NewRegistry()
	e := New(reg, testPlan())
	e.CycleFinished(streamsResult(5000))
	want := `
# HELP picsoak_streams_throughput_spread_rps Distribution of the per-stream req/s over every stream of the last streams cycle: quantile 0 is the slowest stream, 1 the fastest; count is the streams.
# TYPE picsoak_streams_throughput_spread_rps summary
picsoak_streams_throughput_spread_rps{quantile="0"} 1000
picsoak_streams_throughput_spread_rps{quantile="0.5"} 3499
picsoak_streams_throughput_spread_rps{quantile="0.9"} 5499
picsoak_streams_throughput_spread_rps{quantile="1"} 5999
picsoak_streams_throughput_spread_rps_sum 1.74975e+07
picsoak_streams_throughput_spread_rps_count 5000
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "picsoak_streams_throughput_spread_rps"); err != nil {
		t.Error(err)
	}
	// The exported streams are the slowest: 0 … 19.
	if got := testutil.ToFloat64(e.streamThroughput.WithLabelValues("19")); got != 1019 {
		t.Errorf("stream 19's series = %g, want 1019 (among the slowest)", got)
	}
}
