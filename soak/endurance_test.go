package soak_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

// enduranceCycles is how many cycles TestEndurance runs in one process: enough for a
// leak of one goroutine, one descriptor or a few KiB per cycle to stand out from noise.
const enduranceCycles = 1200

// TestEndurance runs many tiny cycles of every kind against one PIC, as the daemon does
// for months, and checks that nothing accumulates: goroutines, heap in use after a
// collection, and open file descriptors, compared between the first and the last tenth
// of the run. It runs in CI as it is (about 20 s with -race).
func TestEndurance(t *testing.T) {
	p := soaktest.NewPIC(t, 0)
	r := picRunner(t, p, func(c *config.Config) {
		c.Plan.Sustained.Duration, c.Plan.Sustained.Rate, c.Plan.Sustained.Workers = 10*time.Millisecond, 200, 2 // 2 requests
		c.Plan.Burst.Count, c.Plan.Burst.Size, c.Plan.Burst.Workers, c.Plan.Burst.Cooldown = 1, 2, 2, 0
		c.Plan.Streams.Count, c.Plan.Streams.Requests = 1, 2
	})
	kinds := []soak.Kind{soak.Sustained, soak.Burst, soak.Streams}
	const every = 10 // cycles per sample
	var goroutines, fds, heap []float64
	ctx := context.Background()
	for i := range enduranceCycles {
		res := r.Run(ctx, kinds[i%len(kinds)])
		if res.Verdict != soak.VerdictPass {
			t.Fatalf("cycle %d (%s): got verdict %s with %v, want pass", i, res.Cycle, res.Verdict, res.Requests)
		}
		if i%every == every-1 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			goroutines = append(goroutines, float64(runtime.NumGoroutine()))
			fds = append(fds, float64(openFDs(t)))
			heap = append(heap, float64(m.HeapInuse))
		}
	}
	// The server side of the last connection may still be closing; a leak does not go
	// away by waiting.
	noGrowth(t, "goroutines", goroutines, 5)
	noGrowth(t, "open file descriptors", fds, 5)
	noGrowth(t, "heap in use (bytes)", heap, 2<<20)
}

// noGrowth compares the lowest value of the last tenth of samples with the highest of
// the first tenth: a trend shows as a last tenth that never comes back down to where the
// run started, while one-off spikes (a collection that had not finished, a connection
// still closing) do not count.
func noGrowth(t *testing.T, what string, samples []float64, tolerance float64) {
	t.Helper()
	tenth := max(1, len(samples)/10)
	first, last := slices.Max(samples[:tenth]), slices.Min(samples[len(samples)-tenth:])
	t.Logf("%s: first tenth up to %.0f, last tenth from %.0f", what, first, last)
	if last > first+tolerance {
		t.Errorf("%s grew over %d cycles: got %.0f in the last tenth, want at most %.0f (the first tenth's %.0f + %.0f)",
			what, enduranceCycles, last, first+tolerance, first, tolerance)
	}
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(fmt.Errorf("counting open file descriptors: %w", err))
	}
	return len(entries)
}
