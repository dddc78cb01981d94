package soak

import (
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/picsoak/picsoak/soak/redact"
)

// Verdict is a cycle's outcome against its thresholds.
type Verdict string

const (
	VerdictPass    Verdict = "pass"
	VerdictFail    Verdict = "fail"
	VerdictAborted Verdict = "aborted" // stopped before it finished; its numbers are partial
)

// Verdicts lists every verdict in label order.
var Verdicts = []Verdict{VerdictPass, VerdictFail, VerdictAborted}

// Result is everything one cycle measured. It is written to reports and exported as
// metrics; all durations are in seconds and all rates in requests per second.
type Result struct {
	Cycle           Kind      `json:"cycle"`
	Target          string    `json:"target"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationSeconds float64   `json:"duration_seconds"`
	Verdict         Verdict   `json:"verdict"`
	AbortReason     string    `json:"abort_reason,omitempty"`

	// Protocol is the HTTP version PIC's replies came in ("HTTP/1.1", "HTTP/2.0"; two
	// joined by ", " when they differed), "" when the target cannot tell or none came.
	Protocol string `json:"protocol,omitempty"`

	MinSuccessRatio float64 `json:"min_success_ratio"`
	// Thresholds are the cycle's thresholds against what it measured; empty for an
	// aborted cycle, which is not judged.
	Thresholds []ThresholdResult `json:"thresholds"`
	// TargetRPS is the arrival rate the cycle aimed for; 0 for closed-loop cycles, which
	// send as fast as PIC answers.
	TargetRPS     float64        `json:"target_rps"`
	Requests      OutcomeCounts  `json:"requests"`
	SuccessRatio  float64        `json:"success_ratio"`
	ThroughputRPS float64        `json:"throughput_rps"`
	Latency       LatencySummary `json:"latency"`
	// ServiceTime counts from each request's actual send (open-model cycles only):
	// the figure fortio and k6 report. Latency minus it is time spent waiting for the
	// generator, its workers and connections.
	ServiceTime *LatencySummary   `json:"service_time,omitempty"`
	Errors      map[string]string `json:"example_errors,omitempty"`
	// Codes counts requests by PIC's HTTP status, "none" when no reply came.
	Codes map[string]int64 `json:"codes,omitempty"`
	// Endpoints breaks the requests down by endpoint, in the plan's order.
	Endpoints []EndpointStat `json:"endpoints,omitempty"`
	// CPUsKeptAwake says idle CPUs polled during the cycle (PICSOAK_KEEP_CPUS_AWAKE),
	// so no latency includes a halted CPU waking up.
	CPUsKeptAwake bool `json:"cpus_kept_awake,omitempty"`

	// LateRequests started late because every worker was busy (sustained only).
	LateRequests int64 `json:"generator_late_requests"`
	// GeneratorLimited says picsoak, not PIC, set the pace: the numbers describe the
	// generator's limit and the load was lower than configured.
	GeneratorLimited bool `json:"generator_limited"`
	// GeneratorCPUShare is the share of the CPU picsoak may use (GOMAXPROCS) that it
	// kept busy while it sent (open-model cycles; the capacity cycle's last step), 0
	// when unknown. Near 1, picsoak's CPU and not its workers held a late run back.
	GeneratorCPUShare float64 `json:"generator_cpu_share,omitempty"`
	// GeneratorStalls counts the times picsoak's pacer woke over 2 ms later than due
	// (open-model cycles): picsoak, not PIC, held the requests due meanwhile, and their
	// latency includes that time. GeneratorLongestStallSeconds is the longest.
	GeneratorStalls              int64   `json:"generator_stalls,omitempty"`
	GeneratorLongestStallSeconds float64 `json:"generator_longest_stall_seconds,omitempty"`

	EnterpriseTargetRPS float64 `json:"enterprise_target_rps"`
	// Achievement is ThroughputRPS ÷ EnterpriseTargetRPS; for the capacity cycle, its
	// highest sustained rate ÷ EnterpriseTargetRPS.
	Achievement float64 `json:"enterprise_achievement_ratio"`

	Sustained *SustainedDetail `json:"sustained,omitempty"`
	Burst     *BurstDetail     `json:"burst,omitempty"`
	Streams   *StreamsDetail   `json:"streams,omitempty"`
	Capacity  *CapacityDetail  `json:"capacity,omitempty"`
	Resources *ResourceReport  `json:"resources,omitempty"`
	Findings  []string         `json:"findings"`

	hist *hdrhistogram.Histogram
}

// Histogram is the cycle's merged latency histogram in microseconds, nil for a result
// read back from a report. Callers must not modify it.
func (r *Result) Histogram() *hdrhistogram.Histogram { return r.hist }

// EndpointStat is one endpoint's share of a cycle.
type EndpointStat struct {
	Name         string           `json:"name"`
	Requests     OutcomeCounts    `json:"requests"`
	SuccessRatio float64          `json:"success_ratio"`
	P50Seconds   float64          `json:"p50_seconds"`
	P99Seconds   float64          `json:"p99_seconds"`
	Codes        map[string]int64 `json:"codes,omitempty"`
}

// fill copies a recorder's totals into r; endpoints are the plan's endpoint names.
func (r *Result) fill(rec *recorder, elapsed time.Duration, endpoints []string) {
	r.Requests = rec.Counts()
	r.SuccessRatio = r.Requests.SuccessRatio()
	r.Latency = rec.Summary()
	r.ServiceTime = rec.ServiceSummary()
	r.Errors = rec.Errors()
	r.Codes = rec.Codes()
	r.Endpoints = rec.Endpoints(endpoints)
	r.ThroughputRPS = rate(r.Requests.Total(), elapsed)
	r.hist = rec.Histogram()
}

// decide sets the verdict: pass when anything at all was measured and every
// threshold holds; each missed one is a finding. A capacity search pushes PIC past
// its limit on purpose, so it needs its first step to have met the SLO instead. An
// aborted cycle's partial numbers are not judged.
func (r *Result) decide(thresholds []Threshold) {
	if r.AbortReason != "" {
		r.Verdict = VerdictAborted
		return
	}
	held := r.judge(thresholds)
	measured := r.Requests.Total() > 0
	if r.Capacity != nil {
		measured = r.Capacity.MaxSustainedRPS > 0
	}
	r.Verdict = VerdictFail
	if measured && held {
		r.Verdict = VerdictPass
	}
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Spread describes how much a set of figures varies.
type Spread struct {
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	// CoV is the coefficient of variation, stddev ÷ mean: 0 means all equal.
	CoV float64 `json:"coefficient_of_variation"`
}

func spreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := Spread{Min: slices.Min(xs), Max: slices.Max(xs)}
	for _, x := range xs {
		s.Mean += x
	}
	s.Mean /= float64(len(xs))
	if s.Mean > 0 {
		var sq float64
		for _, x := range xs {
			sq += (x - s.Mean) * (x - s.Mean)
		}
		s.CoV = math.Sqrt(sq/float64(len(xs))) / s.Mean
	}
	return s
}

// jainIndex is Jain's fairness index (Σx)² ÷ (n·Σx²): 1 when all are equal, 1/n when one
// gets everything.
func jainIndex(xs []float64) float64 {
	var sum, sq float64
	for _, x := range xs {
		sum += x
		sq += x * x
	}
	if sq == 0 {
		return 0
	}
	return sum * sum / (float64(len(xs)) * sq)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// redact hides credentials in every free-text field of res. Run calls it on every
// result it returns, so nothing downstream (reports, metrics, the status page, the
// API) can print a credential from a request error.
func (res *Result) redact(r *redact.Redactor) {
	res.Target = r.String(res.Target)
	res.AbortReason = r.String(res.AbortReason)
	for k, e := range res.Errors {
		res.Errors[k] = r.String(e)
	}
	for i, f := range res.Findings {
		res.Findings[i] = r.String(f)
	}
	if res.Resources != nil {
		for i, m := range res.Resources.Missing {
			res.Resources.Missing[i] = r.String(m)
		}
	}
}
