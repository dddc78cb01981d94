package soak

import (
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
