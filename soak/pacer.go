package soak

import (
	"math"
	"time"
)

// ConstantPacer spaces requests evenly at Rate per second. It is pure arithmetic on
// elapsed time, so the schedule never drifts however late one request starts, and it
// is testable without a clock.
type ConstantPacer struct {
	Rate float64 // requests per second, > 0
}

// Due is when request i (from 0) is intended to start, as an offset from the start.
func (p ConstantPacer) Due(i int64) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / p.Rate)
}

// Hits is how many requests are due within d: those with Due(i) < d.
func (p ConstantPacer) Hits(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()*p.Rate - 1e-9))
}
