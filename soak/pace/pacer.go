// Package pace owns the timing of picsoak's open-model cycles: when each request is
// due (pure arithmetic on elapsed time, testable without a clock), the sleeper that
// waits for it without the runtime's millisecond lateness (a timerfd on Linux), the
// hold on idle CPUs' wake-up latency, and the CPU time picsoak itself has used. It
// holds every system call the engine's timing needs, so the engine needs none.
package pace

import (
	"math"
	"time"
)

// Constant spaces requests evenly at Rate per second. It is pure arithmetic on
// elapsed time, so the schedule never drifts however late one request starts.
type Constant struct {
	Rate float64 // requests per second, > 0
}

// Due is when request i (from 0) is intended to start, as an offset from the start.
func (p Constant) Due(i int64) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / p.Rate)
}

// Hits is how many requests are due within d: those with Due(i) < d.
func (p Constant) Hits(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()*p.Rate - 1e-9))
}
