package soak

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestSleeperNeverWakesEarly(t *testing.T) {
	for _, interval := range []time.Duration{50 * time.Microsecond, 300 * time.Microsecond, 3 * time.Millisecond} {
		s := newSleeper(interval)
		if wantFine := interval >= fineMin; (s.fine != nil) != wantFine && newFineTimer() != nil {
			t.Errorf("interval %s: fine timer %v, want %v", interval, s.fine != nil, wantFine)
		}
		start := time.Now()
		for i := 1; i <= 20; i++ {
			due := start.Add(time.Duration(i) * interval)
			if !s.until(context.Background(), due) {
				t.Fatalf("interval %s: until reported a done context", interval)
			}
			if early := time.Until(due); early > 0 {
				t.Fatalf("interval %s: woke %s before the due time", interval, early)
			}
		}
		s.close()
	}
}

func TestSleeperStopsForCancellation(t *testing.T) {
	s := newSleeper(time.Second)
	defer s.close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- s.until(ctx, time.Now().Add(time.Hour)) }()
	cancel()
	if <-done {
		t.Error("until reported a live context after cancellation")
	}
}

// BenchmarkSleeperLateness reports how late the pacer wakes (p50 and p90 over the
// run, µs) at 1 ms intervals with the runtime timer alone and with the fine timer.
func BenchmarkSleeperLateness(b *testing.B) {
	for _, fine := range []bool{false, true} {
		name := "runtime-timer"
		if fine {
			name = "fine-timer"
		}
		b.Run(name, func(b *testing.B) {
			s := newSleeper(time.Millisecond)
			defer s.close()
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
				due := start.Add(time.Duration(i) * time.Millisecond)
				s.until(context.Background(), due)
				late = append(late, time.Since(due))
			}
			slices.Sort(late)
			b.ReportMetric(float64(late[len(late)/2].Microseconds()), "p50-late-µs")
			b.ReportMetric(float64(late[len(late)*9/10].Microseconds()), "p90-late-µs")
		})
	}
}
