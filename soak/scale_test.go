package soak_test

import (
	"context"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
)

// instantTarget answers every request at once, in process: what remains of a cycle's
// memory is the engine's own (its workers' recorders), not connections'.
type instantTarget struct{}

func (instantTarget) NewSender(int) soak.Sender { return instantTarget{} }

func (instantTarget) Send(context.Context) soak.Reply {
	return soak.Reply{Outcome: soak.OutcomeOK, Status: 200}
}

// heapAtTenThousandWorkers is the bound: with one recorder per worker, 10,000
// workers held 4.6 GB of heap.
const heapAtTenThousandWorkers = 256 << 20

// TestHeapAtTenThousandWorkers runs a sustained and a burst cycle with 10,000 workers
// each and checks that the heap in use rose by at most 256 MiB over the cycle and the
// result it returned, and that every request sent was counted.
func TestHeapAtTenThousandWorkers(t *testing.T) {
	const workers = 10_000
	cfg := soaktest.Config(t, "http://127.0.0.1:1/")
	cfg.Plan.Sustained.Workers, cfg.Plan.Sustained.Rate, cfg.Plan.Sustained.Duration = workers, 20_000, time.Second
	cfg.Plan.Burst.Workers, cfg.Plan.Burst.Size, cfg.Plan.Burst.Count, cfg.Plan.Burst.Cooldown = workers, 2*workers, 1, 0
	r := soaktest.Runner(cfg, instantTarget{})
	for _, kind := range []soak.Kind{soak.Sustained, soak.Burst} {
		var heap soaktest.HeapPeak
		heap.Start()
		res := r.Run(context.Background(), kind)
		rose := heap.Stop()
		t.Logf("%s: %d requests, heap in use rose by %.1f MiB at most", kind, res.Requests.Total(), float64(rose)/(1<<20))
		if rose > heapAtTenThousandWorkers {
			t.Errorf("%s with %d workers: heap in use rose by %d MiB, want at most %d MiB", kind, workers, rose>>20, heapAtTenThousandWorkers>>20)
		}
		want := int64(2 * workers)
		if kind == soak.Sustained {
			want = res.Sustained.Sent
		}
		if res.Requests.Total() != want || res.Latency.Count != want {
			t.Errorf("%s: counted %d requests and %d latencies, want the %d sent", kind, res.Requests.Total(), res.Latency.Count, want)
		}
	}
}
