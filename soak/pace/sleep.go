package pace

import (
	"context"
	"sync/atomic"
	"time"
)

// coarseMargin is how much of a wait the pacer leaves to its fine timer. Go's timers
// fire up to about a millisecond late when the process is idle (the runtime sleeps in
// epoll with millisecond timeouts), and the open model counts that lateness into every
// request's latency; a fine timer ends the wait within tens of microseconds.
const coarseMargin = 2 * time.Millisecond

// fineMin is the shortest interval between requests for which the fine timer ends
// every wait; each of its wake-ups costs about as much CPU as a request (a timer
// interrupt and two system calls). At shorter intervals replies come back about as
// often as requests are due and each wakes the runtime, which then fires its own timer
// in time, so the fine timer ends only the waits during which nothing is in flight:
// then the runtime would sleep a whole millisecond, the requests due meanwhile would
// go out together, and their replies would queue behind each other.
const fineMin = 200 * time.Microsecond

// InFlight counts an open-model run's requests from hand-off to reply and tells the
// waiting pacer when the last one ends: from then on no reply will wake the runtime
// before its own, millisecond-late timer.
type InFlight struct {
	n    atomic.Int64
	none chan struct{} // buffered 1: a signal the pacer has not taken yet is enough
}

// NewInFlight returns a count of nothing in flight.
func NewInFlight() *InFlight { return &InFlight{none: make(chan struct{}, 1)} }

// Start counts a request handed to a worker.
func (f *InFlight) Start() { f.n.Add(1) }

// Done counts a request's reply; the last one in flight signals a waiting Sleeper.
func (f *InFlight) Done() {
	if f.n.Add(-1) == 0 {
		select {
		case f.none <- struct{}{}:
		default:
		}
	}
}

// Sleeper waits until a due time: with a runtime timer, which can be cancelled, for
// all but the last coarseMargin of a wait, then with a fine timer where the platform
// has one. Not safe for concurrent use.
type Sleeper struct {
	coarse *time.Timer
	fine   *fineTimer // nil: the runtime timer does it all
	// busy, when set, limits the fine timer to waits with nothing in flight.
	busy *InFlight
}

// NewSleeper returns a Sleeper for waits of about interval each between requests
// counted by busy.
func NewSleeper(interval time.Duration, busy *InFlight) *Sleeper {
	s := &Sleeper{coarse: time.NewTimer(time.Hour), fine: newFineTimer()}
	if interval < fineMin {
		s.busy = busy
	}
	return s
}

// Until waits until due and reports how much later than due it returned (0 when due
// had passed already: the caller was behind, not the sleep late) and whether ctx is
// still live. A fine wait is short and not interrupted by ctx.
func (s *Sleeper) Until(ctx context.Context, due time.Time) (overslept time.Duration, live bool) {
	slept := false
	for {
		wait := time.Until(due)
		if wait <= 0 {
			if slept {
				overslept = -wait
			}
			return overslept, ctx.Err() == nil
		}
		slept = true
		fine := s.fineNow()
		if fine && wait <= coarseMargin {
			if s.fine.sleep(wait) != nil {
				s.fine.close() // broken: the runtime timer takes over
				s.fine = nil
			}
			continue
		}
		var none <-chan struct{} // nil: never ready
		if fine {
			wait -= coarseMargin
		} else if s.fine != nil {
			none = s.busy.none // once nothing is in flight, the fine timer takes over
		}
		s.coarse.Reset(wait)
		select {
		case <-s.coarse.C:
		case <-none:
		case <-ctx.Done():
			return 0, false
		}
	}
}

// fineNow says whether the fine timer ends the current wait.
func (s *Sleeper) fineNow() bool {
	return s.fine != nil && (s.busy == nil || s.busy.n.Load() == 0)
}

// Close releases the timers.
func (s *Sleeper) Close() {
	s.coarse.Stop()
	if s.fine != nil {
		s.fine.close()
	}
}
