package soak

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestRecorderQuantilesAndMerge(t *testing.T) {
	a, b := newRecorder(2), newRecorder(2)
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
		r.Record(i*2/1001, o, time.Duration(i)*time.Millisecond, nil)
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
	r := newRecorder(0)
	r.Record(-1, OutcomeConnError, time.Millisecond, errors.New("first"))
	r.Record(-1, OutcomeConnError, time.Millisecond, errors.New("second"))
	if got := r.Errors()["conn_error"]; got != "first" {
		t.Errorf("got %q, want first", got)
	}
}

func TestRecorderClampsOutOfRange(t *testing.T) {
	r := newRecorder(0)
	r.Record(-1, OutcomeOK, 0, nil)
	r.Record(-1, OutcomeOK, 2*time.Hour, nil)
	s := r.Summary()
	if s.Count != 2 || s.Max < 3599 || s.Min <= 0 {
		t.Errorf("got count %d min %g max %g, want 2 values clamped into [1µs, 1h]", s.Count, s.Min, s.Max)
	}
}

func TestRecordAllocatesNothing(t *testing.T) {
	r := newRecorder(thirds)
	r.TrackService()
	record := func() {
		r.Record(1, OutcomeOK, 3*time.Millisecond, nil)
		r.RecordService(2 * time.Millisecond)
	}
	if n := testing.AllocsPerRun(1000, record); n != 0 {
		t.Errorf("Record and RecordService allocate %v times per call, want 0", n)
	}
}

func BenchmarkRecorderRecord(b *testing.B) {
	r := newRecorder(thirds)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r.Record(i%thirds, OutcomeOK, time.Duration(i%5000)*time.Microsecond, nil)
	}
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
	a, b := newRecorder(0), newRecorder(0)
	b.TrackService()
	a.RecordService(time.Second) // a does not track: ignored
	for i := 1; i <= 100; i++ {
		b.Record(-1, OutcomeOK, time.Duration(i)*time.Millisecond, nil)
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
