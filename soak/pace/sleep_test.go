package pace

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestSleeperNeverWakesEarly(t *testing.T) {
	for _, interval := range []time.Duration{50 * time.Microsecond, 300 * time.Microsecond, 3 * time.Millisecond} {
		busy := NewInFlight()
		s := NewSleeper(interval, busy)
		start := time.Now()
		for i := 1; i <= 20; i++ {
			// Every other wait starts with a request in flight that ends during or
			// before it, so both timers and the hand-over between them are exercised.
			if i%2 == 0 {
				busy.Start()
				go busy.Done()
			}
			due := start.Add(time.Duration(i) * interval)
			if _, live := s.Until(context.Background(), due); !live {
				t.Fatalf("interval %s: until reported a done context", interval)
			}
			if early := time.Until(due); early > 0 {
				t.Fatalf("interval %s: woke %s before the due time", interval, early)
			}
		}
		s.Close()
	}
}

func TestSleeperUsesTheFineTimerWhenNoReplyWillWakeTheRuntime(t *testing.T) {
	for _, c := range []struct {
		interval time.Duration
		inFlight int
		want     bool
	}{
		{fineMin, 0, true},
		{fineMin, 3, true}, // replies come too rarely to wake the runtime in time
		{fineMin / 4, 0, true},
		{fineMin / 4, 1, false},
		{fineMin / 4, 3, false},
	} {
		busy := NewInFlight()
		for range c.inFlight {
			busy.Start()
		}
		s := NewSleeper(c.interval, busy)
		if got, want := s.fineNow(), c.want && runtime.GOOS == "linux"; got != want {
			t.Errorf("interval %s, %d in flight: fine timer %v, want %v", c.interval, c.inFlight, got, want)
		}
		s.Close()
	}
}

func TestInFlightSignalsWhenTheLastRequestEnds(t *testing.T) {
	f := NewInFlight()
	f.Start()
	f.Start()
	f.Done()
	select {
	case <-f.none:
		t.Fatal("signalled with a request still in flight")
	default:
	}
	f.Done()
	select {
	case <-f.none:
	default:
		t.Fatal("no signal when the last request ended")
	}
	// Signals nobody took coalesce instead of blocking the worker.
	for range 3 {
		f.Start()
		f.Done()
	}
	<-f.none
	select {
	case <-f.none:
		t.Fatal("more than one signal queued")
	default:
	}
}

func TestSleeperStopsForCancellation(t *testing.T) {
	s := NewSleeper(time.Second, nil)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() {
		_, live := s.Until(ctx, time.Now().Add(time.Hour))
		done <- live
	}()
	cancel()
	if <-done {
		t.Error("until reported a live context after cancellation")
	}
}

// BenchmarkSleeperLateness reports how late the pacer wakes (p50 and p90 over the
// run, µs) with the runtime timer alone and with the fine timer, at the 1 ms intervals
// of 1,000 req/s and the 50 µs of 20,000 req/s with nothing in flight.
func BenchmarkSleeperLateness(b *testing.B) {
	for _, interval := range []time.Duration{time.Millisecond, 50 * time.Microsecond} {
		for _, fine := range []bool{false, true} {
			name := "runtime-timer"
			if fine {
				name = "fine-timer"
			}
			b.Run(interval.String()+"/"+name, func(b *testing.B) {
				s := NewSleeper(interval, NewInFlight())
				defer s.Close()
				if !fine && s.fine != nil {
					s.fine.close()
					s.fine = nil
				}
				if fine && s.fine == nil {
					b.Skip("no fine timer on this platform")
				}
				var late []time.Duration
				start := time.Now()
				i := 0
				for b.Loop() {
					i++
					due := start.Add(time.Duration(i) * interval)
					s.Until(context.Background(), due)
					late = append(late, time.Since(due))
				}
				slices.Sort(late)
				b.ReportMetric(float64(late[len(late)/2].Microseconds()), "p50-late-µs")
				b.ReportMetric(float64(late[len(late)*9/10].Microseconds()), "p90-late-µs")
			})
		}
	}
}
