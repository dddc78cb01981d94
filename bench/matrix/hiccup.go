package main

import (
	"errors"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// hiccupPeriod is how long the hiccup meter sleeps at a time: short enough to see
// stalls of a fraction of a millisecond, long enough to cost its core little.
const hiccupPeriod = 500 * time.Microsecond

// hiccups is what the hiccup meter saw on one core: a thread sleeping hiccupPeriod
// at a time and noting how late it woke (the idea of jHiccup). On an otherwise idle
// core the lateness is the platform's (the host running something else on the
// vCPU, a timer interrupt delivered late), and a generator on that core can only
// report such a stall as part of the target's latency.
type hiccups struct {
	Wakes   int           // sleeps measured
	Over1ms int           // wake-ups more than 1 ms late
	Stalled time.Duration // the lateness of wake-ups more than hiccupPeriod late, summed
	Elapsed time.Duration
	Worst   time.Duration
}

func (h *hiccups) add(late time.Duration) {
	h.Wakes++
	if late > time.Millisecond {
		h.Over1ms++
	}
	if late > hiccupPeriod {
		h.Stalled += late
	}
	h.Worst = max(h.Worst, late)
}

// stalledShare is the share of the time the core was stalled for longer than
// hiccupPeriod: about the share of an even load's requests a stall delays.
func (h hiccups) stalledShare() float64 { return h.Stalled.Seconds() / h.Elapsed.Seconds() }

func (h hiccups) over1msPerSecond() float64 { return float64(h.Over1ms) / h.Elapsed.Seconds() }

// measureHiccups runs the hiccup meter on the calling thread for d. It sleeps with
// clock_nanosleep, not a Go timer: the runtime's own timers wake up to a millisecond
// late when the process is idle, which would be the meter's hiccup, not the core's.
func measureHiccups(d time.Duration) (hiccups, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var h hiccups
	start := time.Now()
	for time.Since(start) < d {
		due := time.Now().Add(hiccupPeriod)
		ts := unix.NsecToTimespec(int64(hiccupPeriod))
		// EINTR (the runtime's preemption signal) ends a sleep early; early is no hiccup.
		if err := unix.ClockNanosleep(unix.CLOCK_MONOTONIC, 0, &ts, nil); err != nil && !errors.Is(err, unix.EINTR) {
			return h, err
		}
		h.add(time.Since(due))
	}
	h.Elapsed = time.Since(start)
	return h, nil
}
