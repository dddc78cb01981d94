package soak

import "time"

// What the engine's external tests (package soak_test, which run cycles against a
// real HTTP PIC) read of its internals.

var CPUBound = cpuBound

const (
	CPUBoundShare    = cpuBoundShare
	DegradedP99Ratio = degradedP99Ratio
	StarvedBelow     = starvedBelow
	WarmUpDials      = warmUpDials
)

var Interval = interval

// SetWarmUpFor sets how long a warm-up may start dials, until the test ends.
func SetWarmUpFor(t interface{ Cleanup(func()) }, d time.Duration) {
	old := warmUpFor
	warmUpFor = d
	t.Cleanup(func() { warmUpFor = old })
}

// EnqueueScheduled asks for a run of kind as its schedule would: after this shard's
// part of the schedule jitter.
func (s *Scheduler) EnqueueScheduled(kind Kind) bool { return s.enqueue(kind, s.offset) }
