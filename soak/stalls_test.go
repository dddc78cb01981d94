package soak

import (
	"slices"
	"testing"
	"time"
)

func TestStallsCountOnlyOversleepsPastStallMin(t *testing.T) {
	var s stalls
	for _, overslept := range []time.Duration{0, time.Millisecond, stallMin, stallMin + time.Microsecond, 30 * time.Millisecond, 5 * time.Millisecond} {
		s.note(overslept)
	}
	if s.count != 3 || s.longest != 30*time.Millisecond {
		t.Errorf("stalls %d, longest %v; want 3, 30ms", s.count, s.longest)
	}
	// A capacity cycle's steps add up; the longest is the longest of any step.
	var res Result
	res.addStalls(s)
	res.addStalls(stalls{count: 2, longest: 40 * time.Millisecond})
	res.addStalls(stalls{})
	if res.GeneratorStalls != 5 || res.GeneratorLongestStallSeconds != 0.04 {
		t.Errorf("cycle stalls %d, longest %gs; want 5, 0.04s", res.GeneratorStalls, res.GeneratorLongestStallSeconds)
	}
}

func TestSlowestStreamsAndBursts(t *testing.T) {
	s := &StreamsDetail{Streams: []StreamStat{{Index: 0, ThroughputRPS: 5}, {Index: 1, ThroughputRPS: 2}, {Index: 2, ThroughputRPS: 9}, {Index: 3, ThroughputRPS: 2}}}
	var got []int
	for _, st := range s.Slowest(3) {
		got = append(got, st.Index)
	}
	if want := []int{1, 3, 0}; !slices.Equal(got, want) {
		t.Errorf("slowest streams %v, want %v", got, want)
	}
	if s.Streams[0].Index != 0 || len(s.Slowest(10)) != 4 {
		t.Errorf("Slowest reordered the detail or cut too much")
	}
	b := &BurstDetail{Bursts: []BurstStat{{Index: 0, RPS: 100}, {Index: 1, RPS: 50}}}
	if got := b.Slowest(1); len(got) != 1 || got[0].Index != 1 {
		t.Errorf("slowest burst %+v, want burst 1", got)
	}
}
