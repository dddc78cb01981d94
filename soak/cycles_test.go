package soak_test

import (
	"context"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/httptarget"
	"github.com/picsoak/picsoak/soak/report"
)

func TestSustainedAchievesRate(t *testing.T) {
	p := soaktest.NewPIC(t, time.Millisecond)
	r := picRunner(t, p, func(c *config.Config) { c.Plan.Sustained.Rate = 200; c.Plan.Sustained.Duration = 3 * time.Second })
	res := r.Run(context.Background(), soak.Sustained)
	if res.Verdict != soak.VerdictPass {
		t.Fatalf("verdict = %s, want pass; findings %v", res.Verdict, res.Findings)
	}
	d := res.Sustained
	if d.Planned != 600 || d.Sent != 600 || res.Requests.Total() != 600 || p.Hits.Load() != 600 {
		t.Errorf("planned %d, sent %d, measured %d, PIC saw %d; want 600 each", d.Planned, d.Sent, res.Requests.Total(), p.Hits.Load())
	}
	if math.Abs(d.AchievedRateRPS-200)/200 > 0.02 {
		t.Errorf("achieved rate = %.2f req/s, want 200 within 2%%", d.AchievedRateRPS)
	}
	if math.Abs(res.ThroughputRPS-200)/200 > 0.02 {
		t.Errorf("throughput = %.2f req/s, want 200 within 2%%", res.ThroughputRPS)
	}
	// 10 workers for 200 req/s of 1 ms requests are never all busy; a few requests may
	// still wait out a scheduling hiccup of this shared machine, not more.
	if res.GeneratorLimited {
		t.Errorf("late = %d of %d, generator limited; want it not limited with 1ms latency and 10 workers", res.LateRequests, d.Sent)
	}
	if d.FirstThird.Requests != 200 || d.LastThird.Requests != 200 {
		t.Errorf("thirds = %d and %d requests, want 200 each", d.FirstThird.Requests, d.LastThird.Requests)
	}
}

func TestSustainedShowsInjectedLatency(t *testing.T) {
	p := soaktest.NewPIC(t, 30*time.Millisecond)
	res := picRunner(t, p, nil).Run(context.Background(), soak.Sustained)
	if p50 := res.Latency.Quantile(0.5); p50 < 0.030 || p50 > 0.060 {
		t.Errorf("p50 = %gs, want the injected 30ms (30-60ms)", p50)
	}
	if res.Latency.Min < 0.030 {
		t.Errorf("min = %gs, want at least the injected 30ms", res.Latency.Min)
	}
	if st := res.ServiceTime; st == nil || st.Min < 0.030 || st.Max > res.Latency.Max {
		t.Errorf("service time = %+v, want at least the injected 30ms and at most the latency max %gs", st, res.Latency.Max)
	}
	if md := report.Markdown(res); !strings.Contains(md, "Service time, from each request's actual send") {
		t.Errorf("report has no service-time line:\n%s", md)
	}
}

// A stall of PIC holds every worker; the requests due during the stall must still show
// their full wait, counted from when they were due (coordinated omission).
func TestSustainedStallShowsInP99(t *testing.T) {
	p := soaktest.NewPIC(t, time.Millisecond)
	r := picRunner(t, p, func(c *config.Config) {
		c.Plan.Sustained.Duration = 3 * time.Second
		c.Plan.Sustained.Rate = 100
		c.Plan.Sustained.Workers = 2
	})
	var stalled atomic.Bool
	obs := &stallObserver{onRequest: func(n int64) {
		// After 100 requests (about 1 s in), PIC stalls for one second, once.
		if n == 100 && stalled.CompareAndSwap(false, true) {
			p.Latency.Store(int64(time.Second))
			time.AfterFunc(time.Second, func() { p.Latency.Store(int64(time.Millisecond)) })
		}
	}}
	r.Observers = soak.Observers{obs}
	res := r.Run(context.Background(), soak.Sustained)
	// ~100 requests fell due during the stall; they waited 0-1 s from their due time.
	// Without the correction only the 2 stalled requests would show it, under p99.
	if p99 := res.Latency.Quantile(0.99); p99 < 0.8 {
		t.Errorf("p99 = %gs, want ≥ 0.8s: the stall must show (coordinated omission)", p99)
	}
	if p50 := res.Latency.Quantile(0.5); p50 > 0.5 {
		t.Errorf("p50 = %gs, want the healthy majority under 0.5s", p50)
	}
	if res.LateRequests == 0 {
		t.Errorf("late requests = 0, want the requests due during the stall counted late")
	}
	// Counted from the actual send, only the few requests PIC held show the stall: the
	// waiting was the generator's queue, which service time leaves out.
	if st := res.ServiceTime; st == nil || st.Count != res.Latency.Count || st.Quantile(0.9) > 0.1 {
		t.Errorf("service time = %+v, want every request counted and p90 under 100ms while latency p90 is %gs", st, res.Latency.Quantile(0.9))
	}
}

func TestSustainedGeneratorLimited(t *testing.T) {
	// 2 workers × (1 / 50 ms) = 40 req/s of capacity against a 100 req/s schedule.
	p := soaktest.NewPIC(t, 50*time.Millisecond)
	r := picRunner(t, p, func(c *config.Config) { c.Plan.Sustained.Workers = 2 })
	res := r.Run(context.Background(), soak.Sustained)
	if !res.GeneratorLimited {
		t.Errorf("generator limited = false with %d late of %d, want true", res.LateRequests, res.Sustained.Sent)
	}
	if res.LateRequests < res.Sustained.Sent/2 {
		t.Errorf("late = %d of %d, want most", res.LateRequests, res.Sustained.Sent)
	}
	// Two workers waiting on PIC leave picsoak's CPU nearly idle: the workers are the limit.
	if !containsText(res.Findings, "Generator-limited") || !containsText(res.Findings, "Raise PICSOAK_SUSTAINED_WORKERS (now 2)") {
		t.Errorf("findings %q, want one saying the generator was the limit and to raise the workers", res.Findings)
	}
	if res.GeneratorCPUShare <= 0 || soak.CPUBound(res.GeneratorCPUShare) {
		t.Errorf("generator CPU share = %g, want measured and under %g", res.GeneratorCPUShare, soak.CPUBoundShare)
	}
	// Every request still went out: the open model never drops the schedule.
	if res.Sustained.Sent != res.Sustained.Planned {
		t.Errorf("sent %d of %d planned, want all", res.Sustained.Sent, res.Sustained.Planned)
	}
}

// busyCPU reads picsoak's CPU time as if every CPU it may use were busy from now on.
func busyCPU() func() (time.Duration, bool) {
	start := time.Now()
	return func() (time.Duration, bool) { return time.Since(start) * time.Duration(runtime.GOMAXPROCS(0)), true }
}

// A generator whose CPU is saturated is not helped by more workers, and the finding
// must not send the user to raise them.
func TestSustainedGeneratorLimitedByItsCPU(t *testing.T) {
	p := soaktest.NewPIC(t, 50*time.Millisecond)
	r := picRunner(t, p, func(c *config.Config) { c.Plan.Sustained.Workers = 2 })
	r.ProcessCPU = busyCPU()
	res := r.Run(context.Background(), soak.Sustained)
	if !res.GeneratorLimited || res.GeneratorCPUShare < 0.95 {
		t.Fatalf("generator limited %v, CPU share %g; want true and about 1", res.GeneratorLimited, res.GeneratorCPUShare)
	}
	if !containsText(res.Findings, "waited for picsoak's CPU") || !containsText(res.Findings, "more workers would not help") || containsText(res.Findings, "Raise PICSOAK_SUSTAINED_WORKERS") {
		t.Errorf("findings %q, want the CPU named as the limit and no advice to raise the workers", res.Findings)
	}
}

// A stall of the whole process, as when the host pauses picsoak's VM, holds the
// requests due meanwhile: the report must put that time down to picsoak.
func TestSustainedReportsPicsoaksOwnStall(t *testing.T) {
	p := soaktest.NewPIC(t, time.Millisecond)
	r := picRunner(t, p, nil)
	const pause = 100 * time.Millisecond
	var pauser *exec.Cmd
	r.Observers = soak.Observers{&stallObserver{onRequest: func(n int64) {
		if n == 50 { // a quarter into the cycle
			pauser = exec.Command("sh", "-c", `kill -STOP "$1"; sleep "$2"; kill -CONT "$1"`, "sh", strconv.Itoa(os.Getpid()), strconv.FormatFloat(pause.Seconds(), 'f', -1, 64))
			if err := pauser.Start(); err != nil {
				t.Errorf("starting the pause: %v", err)
			}
		}
	}}}
	res := r.Run(context.Background(), soak.Sustained)
	if pauser == nil {
		t.Fatal("the pause never started")
	}
	if err := pauser.Wait(); err != nil {
		t.Fatalf("the pause: %v", err)
	}
	// The pacer was asleep or about to be (it sleeps all but microseconds of each
	// 10 ms interval), so the pause made one wait end at least the pause late, less
	// the part of the interval it would have slept anyway.
	if res.GeneratorStalls < 1 || res.GeneratorLongestStallSeconds < (pause-10*time.Millisecond).Seconds() {
		t.Errorf("stalls %d, longest %gs; want at least one of about %v", res.GeneratorStalls, res.GeneratorLongestStallSeconds, pause)
	}
	if !containsText(res.Findings, "picsoak itself stalled") {
		t.Errorf("findings %q, want one putting the stall down to picsoak", res.Findings)
	}
	if res.Sustained.Sent != res.Sustained.Planned {
		t.Errorf("sent %d of %d planned, want all: the open model catches up", res.Sustained.Sent, res.Sustained.Planned)
	}
}

func TestSustainedDetectsDegradation(t *testing.T) {
	p := soaktest.NewPIC(t, time.Millisecond)
	r := picRunner(t, p, func(c *config.Config) { c.Plan.Sustained.Duration = 3 * time.Second })
	r.Observers = soak.Observers{&stallObserver{onRequest: func(n int64) {
		if n == 200 { // from the last third on, PIC answers in 20 ms
			p.Latency.Store(int64(20 * time.Millisecond))
		}
	}}}
	res := r.Run(context.Background(), soak.Sustained)
	if d := res.Sustained; !d.Degraded || d.LastThird.P99Seconds < 0.020 || d.P99Change <= soak.DegradedP99Ratio {
		t.Errorf("degraded = %v, last third p99 %gs, change %.2f×; want degraded, ≥ 20ms, > %g×", d.Degraded, d.LastThird.P99Seconds, d.P99Change, soak.DegradedP99Ratio)
	}
}

func TestBurstCountsMatchWhatWasSent(t *testing.T) {
	p := soaktest.NewPIC(t, 2*time.Millisecond)
	// A long cool-down gives the recovery probes time to see the pre-burst latency
	// again even on a busy machine.
	r := picRunner(t, p, func(c *config.Config) { c.Plan.Burst.Cooldown = time.Second })
	res := r.Run(context.Background(), soak.Burst)
	if res.Verdict != soak.VerdictPass {
		t.Fatalf("verdict = %s, want pass; findings %v", res.Verdict, res.Findings)
	}
	d := res.Burst
	if len(d.Bursts) != 3 {
		t.Fatalf("bursts = %d, want 3", len(d.Bursts))
	}
	if res.Requests.Total() != 180 {
		t.Errorf("requests = %d, want 3 × 60", res.Requests.Total())
	}
	if got, want := p.Hits.Load(), 180+d.ProbeRequests; got != want {
		t.Errorf("PIC saw %d requests, want 180 + %d probes", got, d.ProbeRequests)
	}
	var sum float64
	for i, b := range d.Bursts {
		if b.Index != i || b.Requests != 60 || b.SuccessRatio != 1 {
			t.Errorf("burst %d = %+v, want index %d, 60 requests, all ok", i, b, i)
		}
		if want := float64(b.Requests) / b.DurationSeconds; math.Abs(b.RPS-want) > 1e-6*want {
			t.Errorf("burst %d rps = %g, want requests/duration = %g", i, b.RPS, want)
		}
		// 10 workers × 2 ms each: about 5000 req/s at best, so a burst takes ≥ 12 ms.
		if b.DurationSeconds < 0.012 {
			t.Errorf("burst %d took %gs, want ≥ 12ms", i, b.DurationSeconds)
		}
		if b.RecoverySeconds < 0 || b.RecoverySeconds > 1 {
			t.Errorf("burst %d recovery = %gs, want within the 1s cool-down", i, b.RecoverySeconds)
		}
		sum += b.RPS
	}
	if math.Abs(d.RPSSpread.Mean-sum/3) > 1e-9 {
		t.Errorf("rps mean = %g, want %g", d.RPSSpread.Mean, sum/3)
	}
}

func TestBurstRecoveryMissing(t *testing.T) {
	p := soaktest.NewPIC(t, time.Millisecond)
	r := picRunner(t, p, func(c *config.Config) { c.Plan.Burst.Count = 1 })
	r.Observers = soak.Observers{&stallObserver{onRequest: func(n int64) {
		if n == 60 { // the burst's last request; afterwards PIC stays slow
			p.Latency.Store(int64(30 * time.Millisecond))
		}
	}}}
	res := r.Run(context.Background(), soak.Burst)
	if got := res.Burst.Bursts[0].RecoverySeconds; got != -1 {
		t.Errorf("recovery = %g, want -1 (not recovered within the cool-down)", got)
	}
	if !containsText(res.Findings, "did not recover") {
		t.Errorf("findings %q, want one saying PIC did not recover", res.Findings)
	}
}

func TestStreamsDetectStarvedStream(t *testing.T) {
	p := soaktest.NewPIC(t, time.Millisecond)
	p.SlowStreamBy = 15 * time.Millisecond
	r := picRunner(t, p, nil)

	fair := r.Run(context.Background(), soak.Streams).Streams
	p.SlowStream.Store(2)
	res := r.Run(context.Background(), soak.Streams)
	d := res.Streams

	if res.Requests.Total() != 80 {
		t.Errorf("requests = %d, want 4 × 20", res.Requests.Total())
	}
	for _, s := range d.Streams {
		if s.Requests != 20 {
			t.Errorf("stream %d sent %d, want 20", s.Index, s.Requests)
		}
	}
	if len(d.Starved) != 1 || d.Starved[0] != 2 {
		t.Errorf("starved = %v, want [2]", d.Starved)
	}
	if d.Starvation >= soak.StarvedBelow {
		t.Errorf("slowest/median = %g, want < %g", d.Starvation, soak.StarvedBelow)
	}
	if len(fair.Starved) != 0 || fair.Fairness < 0.9 {
		t.Errorf("without a slow stream: starved %v, fairness %g; want none and ≥ 0.9", fair.Starved, fair.Fairness)
	}
	if d.Fairness >= fair.Fairness-0.05 {
		t.Errorf("fairness with a slow stream = %g, want clearly under %g", d.Fairness, fair.Fairness)
	}
	if s := d.Streams[2]; s.P50Seconds < 0.015 {
		t.Errorf("slow stream p50 = %g, want ≥ 15ms", s.P50Seconds)
	}
}

func TestFailingTargetFailsVerdict(t *testing.T) {
	p := soaktest.NewPIC(t, 0)
	p.Status.Store(http.StatusServiceUnavailable)
	res := picRunner(t, p, nil).Run(context.Background(), soak.Streams)
	if res.Verdict != soak.VerdictFail || res.Requests[soak.OutcomeHTTPError] != 80 || res.SuccessRatio != 0 {
		t.Errorf("verdict %s, http errors %d, ratio %g; want fail, 80, 0", res.Verdict, res.Requests[soak.OutcomeHTTPError], res.SuccessRatio)
	}
	if res.Errors["http_error"] != "unexpected status 503 Service Unavailable" {
		t.Errorf("example error = %q, want the 503", res.Errors["http_error"])
	}
}

func TestCycleDeadlineAborts(t *testing.T) {
	p := soaktest.NewPIC(t, time.Millisecond)
	r := picRunner(t, p, func(c *config.Config) { c.Plan.CycleTimeout = 300 * time.Millisecond })
	start := time.Now()
	res := r.Run(context.Background(), soak.Sustained)
	if res.Verdict != soak.VerdictAborted || !containsText([]string{res.AbortReason}, "deadline") {
		t.Errorf("verdict %s (%q), want aborted by the deadline", res.Verdict, res.AbortReason)
	}
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Errorf("aborted cycle took %s, want it to stop near its 300ms deadline", el)
	}
	if res.Requests.Total() == 0 {
		t.Errorf("aborted result has no requests, want what was measured before the deadline")
	}
}

func containsText(lines []string, sub string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, sub) })
}

// stallObserver calls onRequest with the running count of measured requests.
type stallObserver struct {
	soak.NopObserver
	n         atomic.Int64
	onRequest func(n int64)
}

func (s *stallObserver) ObserveRequest(soak.Kind, soak.Reply, time.Duration) {
	s.onRequest(s.n.Add(1))
}

// TestShardedStreamsKeepGlobalIndexes: shard 1 of 3 of 7 streams runs streams 1 and 4,
// and says so to PIC and in its result.
func TestShardedStreamsKeepGlobalIndexes(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get(httptarget.StreamHeader)]++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	r := newRunner(t, soaktest.Config(t, srv.URL, "PICSOAK_STREAMS_COUNT=7", "PICSOAK_STREAMS_REQUESTS=3", "PICSOAK_SHARD=1/3"))
	res := r.Run(context.Background(), soak.Streams)

	mu.Lock()
	defer mu.Unlock()
	if want := map[string]int{"1": 3, "4": 3}; !maps.Equal(seen, want) {
		t.Errorf("requests by %s header: got %v, want %v", httptarget.StreamHeader, seen, want)
	}
	var got []int
	for _, s := range res.Streams.Streams {
		got = append(got, s.Index)
	}
	if want := []int{1, 4}; !slices.Equal(got, want) {
		t.Errorf("result stream indexes: got %v, want %v", got, want)
	}
}

// Every threshold is judged at the cycle's end: a PIC answering every request 200
// after 30 ms fails p99<=20ms and passes p99<=2s, and each figure of each cycle kind
// is measured.
func TestThresholdsDecideTheVerdict(t *testing.T) {
	p := soaktest.NewPIC(t, 30*time.Millisecond)
	for _, tc := range []struct {
		kind       soak.Kind
		thresholds string
		pass       bool
		missed     []string
	}{
		{soak.Streams, "p99<=20ms", false, []string{"p99<=20ms"}},
		{soak.Streams, "p99<=2s,mean<1s,max<=2s,fairness>=0.5,rps>0", true, nil},
		{soak.Sustained, "p50<20ms,rate>=0.9,p99.9<=5s", false, []string{"p50<20ms"}},
		{soak.Burst, "recovery<=1ms,success>=0.99", false, []string{"recovery<=1ms"}},
	} {
		r := picRunner(t, p, nil, "PICSOAK_"+strings.ToUpper(tc.kind.String())+"_THRESHOLDS="+tc.thresholds)
		res := r.Run(context.Background(), tc.kind)
		var missed []string
		for _, m := range res.Missed() {
			missed = append(missed, m.String())
			if !containsText(res.Findings, "Threshold "+m.String()+" missed") {
				t.Errorf("%s %s: findings %q, want one for the missed %s", tc.kind, tc.thresholds, res.Findings, m)
			}
		}
		if (res.Verdict == soak.VerdictPass) != tc.pass || !slices.Equal(missed, tc.missed) {
			t.Errorf("%s %s: verdict %s, missed %v; want pass %v, missed %v; thresholds %+v", tc.kind, tc.thresholds, res.Verdict, missed, tc.pass, tc.missed, res.Thresholds)
		}
		// The success ratio is always among them, measured.
		if !slices.ContainsFunc(res.Thresholds, func(th soak.ThresholdResult) bool { return th.Metric == "success" && th.Value != nil }) {
			t.Errorf("%s: thresholds %+v, want the success ratio among them, measured", tc.kind, res.Thresholds)
		}
		for _, th := range res.Thresholds {
			if th.Value == nil && th.Note == "" {
				t.Errorf("%s: threshold %s has neither a value nor a note", tc.kind, th)
			}
		}
	}
}

// A PIC answering every request 200 after 1.5 s fails by default: p99<=1s.
func TestSlowPICFailsTheDefaultLatencyThreshold(t *testing.T) {
	p := soaktest.NewPIC(t, 1500*time.Millisecond)
	res := picRunner(t, p, nil, "PICSOAK_STREAMS_COUNT=2", "PICSOAK_STREAMS_REQUESTS=2").Run(context.Background(), soak.Streams)
	if res.Verdict != soak.VerdictFail || res.SuccessRatio != 1 || len(res.Missed()) != 1 || res.Missed()[0].String() != "p99<=1s" {
		t.Errorf("verdict %s, success %g, missed %v; want fail on p99<=1s alone", res.Verdict, res.SuccessRatio, res.Missed())
	}
}
