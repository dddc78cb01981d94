package soak

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// StreamsDetail is what only the streams cycle measures.
type StreamsDetail struct {
	Count    int          `json:"count"`
	Requests int          `json:"requests_per_stream"`
	Streams  []StreamStat `json:"streams"`
	// Fairness is Jain's index over the streams' throughputs: 1 is perfectly fair,
	// 1/Count is one stream getting everything.
	Fairness float64 `json:"fairness_index"`
	// Starvation is the slowest stream's throughput ÷ the median stream's.
	Starvation float64 `json:"slowest_to_median_ratio"`
	// Starved lists streams under StarvedBelow × the median throughput.
	Starved      []int   `json:"starved_streams"`
	StarvedBelow float64 `json:"starved_below_ratio"`
}

// StreamStat is one stream.
type StreamStat struct {
	Index           int     `json:"index"`
	Requests        int64   `json:"requests"`
	DurationSeconds float64 `json:"duration_seconds"`
	ThroughputRPS   float64 `json:"throughput_rps"`
	SuccessRatio    float64 `json:"success_ratio"`
	MeanSeconds     float64 `json:"mean_seconds"`
	P50Seconds      float64 `json:"p50_seconds"`
	P99Seconds      float64 `json:"p99_seconds"`
}

// starvedBelow: a stream running at under half the median stream's throughput is starved.
const starvedBelow = 0.5

// streams runs cfg.Count independent streams, each sending its cfg.Requests requests
// one after another on its own connection, and compares them. Streams carry their
// index among every shard's streams (shard.Stream), in requests and in the result.
func (c *cycle) streams(ctx context.Context, cfg StreamsSpec, shard Shard) {
	shared := c.sharedRecorders(cfg.Count, 0)
	recs := make([]*streamRecorder, cfg.Count)
	durations := make([]time.Duration, cfg.Count)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range recs {
		rec := &streamRecorder{shared: sharedFor(shared, i), own: segment{hist: newHistogram(segmentDigits)}}
		recs[i] = rec
		sender := c.target.NewSender(shard.Stream(i))
		wg.Go(func() {
			begin := time.Now()
			for range cfg.Requests {
				if _, _, ok := c.send(ctx, sender, rec, -1, time.Time{}); !ok {
					break
				}
			}
			durations[i] = time.Since(begin)
		})
	}
	wg.Wait()
	c.res.fill(mergeRecorders(shared), time.Since(start), c.runner.Plan.Endpoints)

	d := &StreamsDetail{Count: cfg.Count, Requests: cfg.Requests, StarvedBelow: starvedBelow, Starved: []int{}}
	throughputs := make([]float64, cfg.Count)
	for i, rec := range recs {
		counts, lat := rec.own.counts, summarize(rec.own.hist, rec.sum)
		throughputs[i] = rate(counts.Total(), durations[i])
		d.Streams = append(d.Streams, StreamStat{
			Index:           shard.Stream(i),
			Requests:        counts.Total(),
			DurationSeconds: durations[i].Seconds(),
			ThroughputRPS:   throughputs[i],
			SuccessRatio:    counts.SuccessRatio(),
			MeanSeconds:     lat.Mean,
			P50Seconds:      lat.Quantile(0.5),
			P99Seconds:      lat.Quantile(0.99),
		})
	}
	d.Fairness = jainIndex(throughputs)
	med := median(throughputs)
	slowest := 0
	for i, t := range throughputs {
		if t < throughputs[slowest] {
			slowest = i
		}
		if med > 0 && t < starvedBelow*med {
			d.Starved = append(d.Starved, shard.Stream(i))
		}
	}
	if med > 0 {
		d.Starvation = throughputs[slowest] / med
	}
	c.res.Streams = d
	if c.res.Requests.Total() == 0 {
		return
	}
	c.finding("Fairness (Jain's index over %d stream throughputs) is %.3f; the slowest stream, %d, ran at %.2f× the median stream's %.1f req/s.",
		cfg.Count, d.Fairness, shard.Stream(slowest), d.Starvation, med)
	if len(d.Starved) > 0 {
		c.finding("Starved streams (under %.0f%% of the median throughput): %v.", 100*starvedBelow, d.Starved)
	} else {
		c.finding("No stream starved: every stream ran at %.0f%% or more of the median throughput.", 100*starvedBelow)
	}
}

// streamRecorder records one stream's requests into the recorder its stream shares,
// for the cycle's figures, and keeps the stream's own counts, mean and quantiles at
// 1 % resolution: enough to compare streams, at an eighth of a full recorder's memory.
type streamRecorder struct {
	shared *sharedRecorder
	own    segment
	sum    time.Duration
}

func (s *streamRecorder) record(seg int, reply Reply, latency, service time.Duration) {
	s.shared.record(seg, reply, latency, service)
	_ = s.own.hist.RecordValue(toUnits(latency))
	s.own.counts[reply.Outcome]++
	s.sum += latency
}

// SlowestShown is how many of a cycle's slowest streams and bursts the exported
// per-stream and per-burst series and the status page show one by one; the reports
// list them all.
const SlowestShown = 20

// Slowest returns the n streams of lowest throughput, slowest first (ties in index
// order): the ones the exported per-stream series and the status page show, so both
// stay bounded however many streams ran.
func (d *StreamsDetail) Slowest(n int) []StreamStat {
	out := slices.Clone(d.Streams)
	slices.SortStableFunc(out, func(a, b StreamStat) int { return cmp.Compare(a.ThroughputRPS, b.ThroughputRPS) })
	return out[:min(n, len(out))]
}
