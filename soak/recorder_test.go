package soak

import (
	"errors"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRecorderQuantilesAndMerge(t *testing.T) {
	a, b := newRecorder(2, 0), newRecorder(2, 0)
	// 1..1000 ms split over two recorders, as two workers would.
	for i := 1; i <= 1000; i++ {
		r := a
		if i%2 == 0 {
			r = b
		}
		o := OutcomeOK
		if i%100 == 0 {
			o = OutcomeHTTPError
		}
		r.Record(i*2/1001, Reply{Outcome: o}, time.Duration(i)*time.Millisecond)
	}
	a.Merge(b)
	s := a.Summary()
	if s.Count != 1000 {
		t.Fatalf("count = %d, want 1000", s.Count)
	}
	want := map[float64]float64{0.5: 0.5, 0.9: 0.9, 0.99: 0.99, 0.999: 0.999, 1: 1.0}
	for q, w := range want {
		// HDR with 3 significant digits is exact to 0.1 %.
		if got := s.Quantile(q); math.Abs(got-w) > w*0.001 {
			t.Errorf("quantile %g = %g s, want %g s within 0.1%%", q, got, w)
		}
	}
	if got, want := s.Sum, 500.5; math.Abs(got-want) > 1e-9 {
		t.Errorf("sum = %g s, want %g s", got, want)
	}
	if c := a.Counts(); c[OutcomeOK] != 990 || c[OutcomeHTTPError] != 10 {
		t.Errorf("counts = %v, want 990 ok and 10 http_error", c)
	}
	first, _ := a.SegmentSummary(0)
	second, _ := a.SegmentSummary(1)
	if first.Total()+second.Total() != 1000 || first.Total() == 0 {
		t.Errorf("segments = %d + %d, want both used and 1000 in all", first.Total(), second.Total())
	}
}

func TestRecorderKeepsFirstErrorPerOutcome(t *testing.T) {
	r := newRecorder(0, 0)
	r.Record(-1, Reply{Outcome: OutcomeConnError, Err: errors.New("first")}, time.Millisecond)
	r.Record(-1, Reply{Outcome: OutcomeConnError, Err: errors.New("second")}, time.Millisecond)
	if got := r.Errors()["conn_error"]; got != "first" {
		t.Errorf("got %q, want first", got)
	}
}

func TestRecorderClampsOutOfRange(t *testing.T) {
	r := newRecorder(0, 0)
	r.Record(-1, Reply{Outcome: OutcomeOK}, 0)
	r.Record(-1, Reply{Outcome: OutcomeOK}, 2*time.Hour)
	s := r.Summary()
	if s.Count != 2 || s.Max < 3599 || s.Min <= 0 {
		t.Errorf("got count %d min %g max %g, want 2 values clamped into [1µs, 1h]", s.Count, s.Min, s.Max)
	}
}

func TestRecordAllocatesNothing(t *testing.T) {
	r := newRecorder(thirds, 0)
	r.TrackService()
	shared := &sharedRecorder{recorder: newRecorder(thirds, 0)}
	stream := &streamRecorder{shared: shared, own: segment{hist: newHistogram(segmentDigits)}}
	for name, s := range map[string]sink{"recorder": r, "shared recorder": shared, "stream recorder": stream} {
		record := func() { s.record(1, Reply{Outcome: OutcomeOK}, 3*time.Millisecond, 2*time.Millisecond) }
		if n := testing.AllocsPerRun(1000, record); n != 0 {
			t.Errorf("%s: record allocates %v times per call, want 0", name, n)
		}
	}
}

// Workers share a few recorders; merged, they must hold exactly what one recorder per
// worker would.
func TestSharedRecordersMergeExactly(t *testing.T) {
	const workers, each = 64, 500
	shared := make([]*sharedRecorder, sharedCount(workers))
	for i := range shared {
		shared[i] = &sharedRecorder{recorder: newRecorder(thirds, 2)}
		shared[i].TrackService()
	}
	own := make([]*recorder, workers)
	var wg sync.WaitGroup
	for w := range workers {
		own[w] = newRecorder(thirds, 2)
		own[w].TrackService()
		rec := sharedFor(shared, w)
		wg.Go(func() {
			for i := range each {
				reply := Reply{Outcome: Outcome(i % int(numOutcomes)), Endpoint: i % 2, Status: 200 + i%3}
				latency := time.Duration(1+w*each+i) * 7 * time.Microsecond
				rec.record(i%thirds, reply, latency, latency/2)
				own[w].record(i%thirds, reply, latency, latency/2)
			}
		})
	}
	wg.Wait()
	want := newRecorder(thirds, 0)
	for _, r := range own {
		want.Merge(r)
	}
	got := mergeRecorders(shared)
	if !reflect.DeepEqual(got.Summary(), want.Summary()) || !reflect.DeepEqual(*got.ServiceSummary(), *want.ServiceSummary()) {
		t.Errorf("shared recorders merged: %+v, want %+v as from one recorder per worker", got.Summary(), want.Summary())
	}
	if got.Counts() != want.Counts() || !reflect.DeepEqual(got.Codes(), want.Codes()) ||
		!reflect.DeepEqual(got.Endpoints([]string{"a", "b"}), want.Endpoints([]string{"a", "b"})) {
		t.Errorf("shared recorders merged: counts %v codes %v, want %v %v", got.Counts(), got.Codes(), want.Counts(), want.Codes())
	}
	for seg := range thirds {
		gc, gl := got.SegmentSummary(seg)
		wc, wl := want.SegmentSummary(seg)
		if gc != wc || !reflect.DeepEqual(gl, wl) {
			t.Errorf("segment %d: %v %+v, want %v %+v", seg, gc, gl, wc, wl)
		}
	}
	if got.Summary().Count != workers*each {
		t.Errorf("merged %d requests, want %d", got.Summary().Count, workers*each)
	}
}

func BenchmarkRecorderRecord(b *testing.B) {
	r := newRecorder(thirds, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.Record(i%thirds, Reply{Outcome: OutcomeOK}, time.Duration(i%5000)*time.Microsecond)
	}
}

// BenchmarkSharedRecorderRecord records from GOMAXPROCS goroutines at once, each into
// its worker's shared recorder as a cycle's workers do: the lock's cost against
// BenchmarkRecorderRecord's.
func BenchmarkSharedRecorderRecord(b *testing.B) {
	shared := make([]*sharedRecorder, sharedCount(1<<20))
	for i := range shared {
		shared[i] = &sharedRecorder{recorder: newRecorder(thirds, 0)}
	}
	var worker atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rec := sharedFor(shared, int(worker.Add(1)))
		i := 0
		for pb.Next() {
			i++
			rec.record(i%thirds, Reply{Outcome: OutcomeOK}, time.Duration(i%5000)*time.Microsecond, 0)
		}
	})
}

func TestSpreadAndFairness(t *testing.T) {
	if got := jainIndex([]float64{5, 5, 5, 5}); got != 1 {
		t.Errorf("jain(equal) = %g, want 1", got)
	}
	if got := jainIndex([]float64{1, 0, 0, 0}); got != 0.25 {
		t.Errorf("jain(one takes all) = %g, want 0.25", got)
	}
	s := spreadOf([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	if s.Mean != 5 || s.CoV != 0.4 || s.Min != 2 || s.Max != 9 {
		t.Errorf("spread = %+v, want mean 5, cov 0.4, min 2, max 9", s)
	}
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("median = %g, want 2.5", got)
	}
}

func TestRecorderServiceTimeMergesAndResets(t *testing.T) {
	a, b := newRecorder(0, 0), newRecorder(0, 0)
	b.TrackService()
	a.RecordService(time.Second) // a does not track: ignored
	for i := 1; i <= 100; i++ {
		b.Record(-1, Reply{Outcome: OutcomeOK}, time.Duration(i)*time.Millisecond)
		b.RecordService(time.Duration(i) * time.Microsecond)
	}
	if a.ServiceSummary() != nil {
		t.Fatal("an untracked recorder reports service times")
	}
	a.Merge(b)
	s := a.ServiceSummary()
	if s == nil || s.Count != 100 || s.Max != 100e-6 || math.Abs(s.Sum-5050e-6) > 1e-12 {
		t.Fatalf("merged service time = %+v, want 100 values of 1-100µs summing to 5.05ms", s)
	}
	a.Reset()
	if s := a.ServiceSummary(); s == nil || s.Count != 0 || s.Sum != 0 {
		t.Errorf("after reset: %+v, want an empty service summary", s)
	}
}

// A recorder splits by endpoint only when the plan has several, counts every status,
// and its merge keeps both exact.
func TestRecorderSplitsByEndpointAndCountsStatuses(t *testing.T) {
	a, b := newRecorder(0, 2), newRecorder(0, 2)
	for i := range 100 {
		a.Record(-1, Reply{Endpoint: i % 2, Status: 200}, time.Duration(1+i%2)*time.Millisecond)
	}
	b.Record(-1, Reply{Outcome: OutcomeHTTPError, Endpoint: 1, Status: 503}, 9*time.Millisecond)
	b.Record(-1, Reply{Outcome: OutcomeConnError, Endpoint: 0}, 5*time.Millisecond)
	total := newRecorder(0, 0)
	total.Merge(a)
	total.Merge(b)
	if got := total.Codes(); len(got) != 3 || got["200"] != 100 || got["503"] != 1 || got["none"] != 1 {
		t.Errorf("codes %v, want 100 of 200, one 503, one none", got)
	}
	eps := total.Endpoints([]string{"write", "read"})
	if len(eps) != 2 || eps[0].Name != "write" || eps[0].Requests.Total() != 51 || eps[0].Codes["none"] != 1 ||
		eps[1].Name != "read" || eps[1].Requests[OutcomeHTTPError] != 1 || math.Abs(eps[1].P50Seconds-0.002) > 0.00005 || eps[1].Codes["503"] != 1 {
		t.Errorf("endpoints %+v, want write's 51 requests with the one unanswered and read's with the 503, p50 2ms", eps)
	}
	// One endpoint: no split, the totals are its figures.
	one := newRecorder(0, 1)
	one.Record(-1, Reply{Status: 204}, time.Millisecond)
	if one.endpoints != nil {
		t.Errorf("one endpoint: got a split, want none")
	}
	if eps := one.Endpoints([]string{"default"}); len(eps) != 1 || eps[0].Requests.Total() != 1 || eps[0].Codes["204"] != 1 {
		t.Errorf("one endpoint: got %+v, want its one request", eps)
	}
}
