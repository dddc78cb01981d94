package soak

import (
	"runtime"
	"strconv"
	"sync"
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

// recorder collects measurements. It is not safe for concurrent use: workers record
// into a sharedRecorder, and Merge combines recorders once the workers are done.
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
	// codes counts requests by HTTP status, 0 for no reply; endpoints split the
	// requests by endpoint when the plan has several (nil otherwise: the totals are
	// the one endpoint's).
	codes     statusCounts
	endpoints []endpointRecord
}

type segment struct {
	hist   *hdrhistogram.Histogram
	counts OutcomeCounts
}

type endpointRecord struct {
	segment
	codes statusCounts
}

// statusCounts counts requests by HTTP status: 100-999, or 0 for no reply.
type statusCounts [1000]int64

func (c *statusCounts) add(status int) {
	if status < 0 || status >= len(c) {
		status = 0
	}
	c[status]++
}

func (c *statusCounts) merge(from *statusCounts) {
	for i, n := range from {
		c[i] += n
	}
}

// labels returns the counts by label, "none" for no reply, nil when empty.
func (c *statusCounts) labels() map[string]int64 {
	var m map[string]int64
	for code, n := range c {
		if n == 0 {
			continue
		}
		if m == nil {
			m = map[string]int64{}
		}
		m[StatusLabel(code)] = n
	}
	return m
}

// StatusLabel is the code label of an HTTP status: the number, or "none" for 0 (no
// reply came).
func StatusLabel(status int) string {
	if status <= 0 {
		return "none"
	}
	return strconv.Itoa(status)
}

func newHistogram(digits int) *hdrhistogram.Histogram {
	return hdrhistogram.New(1, latencyMax, digits)
}

// newRecorder returns an empty recorder with the given number of segments, split by
// endpoint when endpoints > 1.
func newRecorder(segments, endpoints int) *recorder {
	r := &recorder{hist: newHistogram(latencyDigits)}
	for range segments {
		r.segments = append(r.segments, segment{hist: newHistogram(segmentDigits)})
	}
	r.splitEndpoints(endpoints)
	return r
}

func (r *recorder) splitEndpoints(n int) {
	if n > 1 && r.endpoints == nil {
		r.endpoints = make([]endpointRecord, n)
		for i := range r.endpoints {
			r.endpoints[i].hist = newHistogram(segmentDigits)
		}
	}
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

// Record adds one request. Its error is kept only if it is the first of its outcome,
// as an example for the report. seg < 0 or past the segments records into no segment.
func (r *recorder) Record(seg int, reply Reply, latency time.Duration) {
	v := toUnits(latency)
	o := reply.Outcome
	_ = r.hist.RecordValue(v) // cannot fail: v is clamped into range
	r.counts[o]++
	r.sum += latency
	if reply.Err != nil && r.firstErr[o] == nil {
		r.firstErr[o] = reply.Err
	}
	if seg >= 0 && seg < len(r.segments) {
		s := &r.segments[seg]
		_ = s.hist.RecordValue(v)
		s.counts[o]++
	}
	if e := reply.Endpoint; e >= 0 && e < len(r.endpoints) {
		ep := &r.endpoints[e]
		_ = ep.hist.RecordValue(v)
		ep.counts[o]++
		ep.codes.add(reply.Status)
	} else {
		r.codes.add(reply.Status)
	}
}

// sink is where a worker records each request: latency counts from the request's due
// time, service time from when it was actually sent.
type sink interface {
	record(seg int, reply Reply, latency, service time.Duration)
}

func (r *recorder) record(seg int, reply Reply, latency, service time.Duration) {
	r.Record(seg, reply, latency)
	r.RecordService(service)
}

// sharedRecorder is a recorder several workers record into, one request at a time.
type sharedRecorder struct {
	mu sync.Mutex
	*recorder
}

func (s *sharedRecorder) record(seg int, reply Reply, latency, service time.Duration) {
	s.mu.Lock()
	s.recorder.record(seg, reply, latency, service)
	s.mu.Unlock()
}

// sharedPerCore is how many shared recorders a cycle's workers spread over per core
// picsoak may use. A recorder's histograms take about half a megabyte however few
// requests they hold, so one per worker made memory follow the worker count (10,000
// workers: 4.6 GB of heap) instead of the work. Only GOMAXPROCS workers run at once
// and a record holds its lock for well under a microsecond, so two per core keep
// waiting for one rare; merging them at the cycle's end is as exact as merging one
// per worker.
const sharedPerCore = 2

// sharedFor returns the recorder of each of n workers: worker i records into
// shared[i%len(shared)].
func sharedFor(shared []*sharedRecorder, i int) *sharedRecorder { return shared[i%len(shared)] }

// sharedCount is how many shared recorders n workers get.
func sharedCount(n int) int { return max(1, min(n, sharedPerCore*runtime.GOMAXPROCS(0))) }

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

// Merge adds everything from into r. Both must have the same number of segments; r
// takes from's split by endpoint.
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
		r.segments[i].merge(&from.segments[i])
	}
	r.codes.merge(&from.codes)
	r.splitEndpoints(len(from.endpoints))
	for i := range from.endpoints {
		r.endpoints[i].merge(&from.endpoints[i].segment)
		r.endpoints[i].codes.merge(&from.endpoints[i].codes)
	}
}

func (s *segment) merge(from *segment) {
	s.hist.Merge(from.hist)
	for j, c := range from.counts {
		s.counts[j] += c
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
	r.codes = statusCounts{}
	for i := range r.endpoints {
		r.endpoints[i].hist.Reset()
		r.endpoints[i].counts = OutcomeCounts{}
		r.endpoints[i].codes = statusCounts{}
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

// Codes returns the requests by HTTP status label ("none" for no reply).
func (r *recorder) Codes() map[string]int64 {
	all := r.codes
	for i := range r.endpoints {
		all.merge(&r.endpoints[i].codes)
	}
	return all.labels()
}

// Endpoints breaks the requests down by endpoint, named by names (the plan's, in
// index order).
func (r *recorder) Endpoints(names []string) []EndpointStat {
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return "default"
	}
	if r.endpoints == nil {
		lat := r.Summary()
		return []EndpointStat{{Name: name(0), Requests: r.counts, SuccessRatio: r.counts.SuccessRatio(),
			P50Seconds: lat.Quantile(0.5), P99Seconds: lat.Quantile(0.99), Codes: r.codes.labels()}}
	}
	out := make([]EndpointStat, len(r.endpoints))
	for i := range r.endpoints {
		e := &r.endpoints[i]
		lat := summarize(e.hist, 0)
		out[i] = EndpointStat{Name: name(i), Requests: e.counts, SuccessRatio: e.counts.SuccessRatio(),
			P50Seconds: lat.Quantile(0.5), P99Seconds: lat.Quantile(0.99), Codes: e.codes.labels()}
	}
	return out
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
