package soak

import (
	"context"
	"time"
)

// coarseMargin is how much of a wait the pacer leaves to its fine timer. Go's timers
// fire up to about a millisecond late when the process is idle (the runtime sleeps in
// epoll with millisecond timeouts), and the open model counts that lateness into every
// request's latency; a fine timer ends the wait within tens of microseconds.
const coarseMargin = 2 * time.Millisecond

// fineMin is the shortest interval between requests that gets the fine timer. Each
// of its wake-ups costs about as much CPU as a request (an idle core woken by a timer
// interrupt); above 1/fineMin req/s, replies arriving at that rate wake the runtime
// often enough that its own timer is late by about one inter-arrival anyway.
const fineMin = 200 * time.Microsecond

// sleeper waits until a due time: with a runtime timer for all but the last
// coarseMargin, which can be cancelled, then with a fine timer where the platform has
// one. Not safe for concurrent use.
type sleeper struct {
	coarse *time.Timer
	fine   *fineTimer // nil: the runtime timer does it all
}

// newSleeper returns a sleeper for waits of about interval each.
func newSleeper(interval time.Duration) *sleeper {
	s := &sleeper{coarse: time.NewTimer(time.Hour)}
	if interval >= fineMin {
		s.fine = newFineTimer()
	}
	return s
}

// until waits until due and reports whether ctx is still live. A fine wait is short
// and not interrupted by ctx.
func (s *sleeper) until(ctx context.Context, due time.Time) bool {
	wait := time.Until(due)
	if s.fine != nil {
		wait -= coarseMargin
	}
	if wait > 0 {
		s.coarse.Reset(wait)
		select {
		case <-s.coarse.C:
		case <-ctx.Done():
			return false
		}
	}
	if s.fine != nil {
		if wait := time.Until(due); wait > 0 && s.fine.sleep(wait) != nil {
			s.fine.close() // broken: the runtime timer takes over
			s.fine = nil
			return s.until(ctx, due)
		}
	}
	return ctx.Err() == nil
}

func (s *sleeper) close() {
	s.coarse.Stop()
	if s.fine != nil {
		s.fine.close()
	}
}
