package soak

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds from 1 µs to one hour; longer values are
// clamped to the hour (and still counted).
const (
	latencyUnit   = time.Microsecond
	latencyMax    = int64(time.Hour / latencyUnit)
	latencyDigits = 3 // 0.1 % resolution for the cycle's quantiles
	segmentDigits = 2 // 1 % is plenty to compare one third of a cycle with another
)

// Quantiles are the latency quantiles every summary reports; 1 is the maximum.
var Quantiles = []float64{0.5, 0.9, 0.95, 0.99, 0.999, 1}

// recorder collects one goroutine's measurements. It is not safe for concurrent use:
// each worker owns one, so recording needs no lock, and Merge combines them once the
// workers are done.
type recorder struct {
	hist     *hdrhistogram.Histogram
	counts   OutcomeCounts
	sum      time.Duration
	firstErr [numOutcomes]error
	// service times count from the actual send instead of the intended start (open
	// model only; nil elsewhere): latency minus service time is the generator's queueing.
	service    *hdrhistogram.Histogram
	serviceSum time.Duration
	// segments split the same requests by when they were due (sustained: thirds).
	segments []segment
}

type segment struct {
	hist   *hdrhistogram.Histogram
	counts OutcomeCounts
}

func newHistogram(digits int) *hdrhistogram.Histogram {
	return hdrhistogram.New(1, latencyMax, digits)
}

// newRecorder returns an empty recorder with the given number of segments.
func newRecorder(segments int) *recorder {
	r := &recorder{hist: newHistogram(latencyDigits)}
	for range segments {
		r.segments = append(r.segments, segment{hist: newHistogram(segmentDigits)})
	}
	return r
}

func toUnits(d time.Duration) int64 {
	v := int64(d / latencyUnit)
	switch {
	case v < 1:
		return 1
	case v > latencyMax:
		return latencyMax
	}
	return v
}

// Record adds one request. err is kept only if it is the first of its outcome, as an
// example for the report. seg < 0 or past the segments records into no segment.
func (r *recorder) Record(seg int, o Outcome, latency time.Duration, err error) {
	v := toUnits(latency)
	_ = r.hist.RecordValue(v) // cannot fail: v is clamped into range
	r.counts[o]++
	r.sum += latency
	if err != nil && r.firstErr[o] == nil {
		r.firstErr[o] = err
	}
	if seg >= 0 && seg < len(r.segments) {
		s := &r.segments[seg]
		_ = s.hist.RecordValue(v)
		s.counts[o]++
	}
}

// TrackService makes r keep service times too (see RecordService).
func (r *recorder) TrackService() {
	if r.service == nil {
		r.service = newHistogram(latencyDigits)
	}
}

// RecordService adds the service time of a request Record already counted: from the
// moment it was actually sent to its reply, as fortio and k6 measure. No-op unless
// TrackService was called.
func (r *recorder) RecordService(d time.Duration) {
	if r.service != nil {
		_ = r.service.RecordValue(toUnits(d))
		r.serviceSum += d
	}
}

// Merge adds everything from into r. Both must have the same number of segments.
func (r *recorder) Merge(from *recorder) {
	r.hist.Merge(from.hist)
	if from.service != nil {
		r.TrackService()
		r.service.Merge(from.service)
		r.serviceSum += from.serviceSum
	}
	for i, c := range from.counts {
		r.counts[i] += c
	}
	r.sum += from.sum
	for i, e := range from.firstErr {
		if r.firstErr[i] == nil {
			r.firstErr[i] = e
		}
	}
	for i := range r.segments {
		r.segments[i].hist.Merge(from.segments[i].hist)
		for j, c := range from.segments[i].counts {
			r.segments[i].counts[j] += c
		}
	}
}

// Reset empties r for reuse.
func (r *recorder) Reset() {
	r.hist.Reset()
	r.counts = OutcomeCounts{}
	r.sum = 0
	r.firstErr = [numOutcomes]error{}
	if r.service != nil {
		r.service.Reset()
		r.serviceSum = 0
	}
	for i := range r.segments {
		r.segments[i].hist.Reset()
		r.segments[i].counts = OutcomeCounts{}
	}
}

// Counts returns the requests per outcome.
func (r *recorder) Counts() OutcomeCounts { return r.counts }

// Summary computes the latency summary; this is the only place quantiles are computed.
func (r *recorder) Summary() LatencySummary { return summarize(r.hist, r.sum) }

// ServiceSummary summarizes the service times, nil unless TrackService was called.
func (r *recorder) ServiceSummary() *LatencySummary {
	if r.service == nil {
		return nil
	}
	s := summarize(r.service, r.serviceSum)
	return &s
}

// SegmentSummary summarizes segment i.
func (r *recorder) SegmentSummary(i int) (OutcomeCounts, LatencySummary) {
	s := r.segments[i]
	return s.counts, summarize(s.hist, 0)
}

// Errors returns the first error seen per outcome, keyed by outcome label.
func (r *recorder) Errors() map[string]string {
	m := map[string]string{}
	for i, e := range r.firstErr {
		if e != nil {
			m[Outcome(i).String()] = e.Error()
		}
	}
	return m
}

// Histogram exposes the merged histogram (µs) for plots. Callers must not modify it.
func (r *recorder) Histogram() *hdrhistogram.Histogram { return r.hist }

// LatencySummary describes a latency distribution in seconds.
type LatencySummary struct {
	Count     int64           `json:"count"`
	Sum       float64         `json:"sum_seconds"`
	Min       float64         `json:"min_seconds"`
	Mean      float64         `json:"mean_seconds"`
	Max       float64         `json:"max_seconds"`
	Quantiles []QuantileValue `json:"quantiles"`
}

// QuantileValue is one quantile of a latency distribution.
type QuantileValue struct {
	Quantile float64 `json:"quantile"`
	Seconds  float64 `json:"seconds"`
}

// Quantile returns the value at q, or 0 if q is not one of Quantiles.
func (s LatencySummary) Quantile(q float64) float64 {
	for _, v := range s.Quantiles {
		if v.Quantile == q {
			return v.Seconds
		}
	}
	return 0
}

func summarize(h *hdrhistogram.Histogram, sum time.Duration) LatencySummary {
	s := LatencySummary{Count: h.TotalCount(), Sum: sum.Seconds()}
	if s.Count == 0 {
		return s
	}
	// Dividing, not multiplying by 1e-6, keeps 4903 µs as 0.004903 s exactly as printed.
	perSecond := float64(time.Second / latencyUnit)
	s.Min = float64(h.Min()) / perSecond
	s.Mean = h.Mean() / perSecond
	s.Max = float64(h.Max()) / perSecond
	percentiles := make([]float64, len(Quantiles))
	for i, q := range Quantiles {
		percentiles[i] = q * 100
	}
	for i, v := range h.ValueAtPercentilesSlice(percentiles) {
		s.Quantiles = append(s.Quantiles, QuantileValue{Quantile: Quantiles[i], Seconds: float64(v) / perSecond})
	}
	return s
}
