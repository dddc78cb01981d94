package main

import (
	"testing"
	"time"
)

func TestHiccupsAccounting(t *testing.T) {
	var h hiccups
	for _, late := range []time.Duration{
		-20 * time.Microsecond, // woken early by a signal
		30 * time.Microsecond,  // an ordinary wake-up
		hiccupPeriod,           // not a stall: exactly the period late
		700 * time.Microsecond, // a stall, under a millisecond
		2500 * time.Microsecond,
	} {
		h.add(late)
	}
	h.Elapsed = 100 * time.Millisecond
	if h.Wakes != 5 || h.Over1ms != 1 || h.Worst != 2500*time.Microsecond {
		t.Errorf("wakes %d, over 1 ms %d, worst %v; want 5, 1, 2.5ms", h.Wakes, h.Over1ms, h.Worst)
	}
	if got, want := h.stalledShare(), 0.032; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("stalled share %v, want %v (3.2 ms of 100 ms)", got, want)
	}
	if got := h.over1msPerSecond(); got != 10 {
		t.Errorf("over 1 ms per second %v, want 10", got)
	}
}

func TestMeasureHiccupsSleepsInPeriods(t *testing.T) {
	const d = 20 * time.Millisecond
	h, err := measureHiccups(d)
	if err != nil {
		t.Fatal(err)
	}
	if h.Elapsed < d {
		t.Errorf("measured for %v, want at least %v", h.Elapsed, d)
	}
	// A meter sleeping a period at a time wakes at most 40 times in 20 ms (more only
	// if signals end sleeps early); one that did not sleep would count thousands.
	if h.Wakes < 1 || h.Wakes > 4*int(d/hiccupPeriod) {
		t.Errorf("%d wake-ups in %v of %v sleeps", h.Wakes, h.Elapsed, hiccupPeriod)
	}
}
