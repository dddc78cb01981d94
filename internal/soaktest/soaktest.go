// Package soaktest holds what the tests of several packages share: the small, fast
// configuration the engine's tests run, a stand-in PIC whose latency and status can
// change while a cycle runs, and checks that a cycle left no goroutine behind and what
// it cost the heap. Only tests import it. It imports no HTTP target, so
// soak/httptarget's own tests can use it too.
package soaktest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

// StreamHeader is httptarget.StreamHeader, which PIC reads the stream index from
// (httptarget's tests check the two agree).
const StreamHeader = "X-Picsoak-Stream"

// Config returns a valid configuration with small, fast cycles against url; environ
// adds or overrides variables.
func Config(t testing.TB, url string, environ ...string) config.Config {
	t.Helper()
	c, err := config.Load(append([]string{
		"PICSOAK_TARGET_URL=" + url,
		"PICSOAK_TARGET_SETTLE_TIME=0s",
		"PICSOAK_SUSTAINED_DURATION=2s", "PICSOAK_SUSTAINED_RATE=100",
		"PICSOAK_BURST_COUNT=3", "PICSOAK_BURST_SIZE=60", "PICSOAK_BURST_WORKERS=10", "PICSOAK_BURST_COOLDOWN=200ms",
		"PICSOAK_STREAMS_COUNT=4", "PICSOAK_STREAMS_REQUESTS=20",
		"PICSOAK_CAPACITY_START_RATE=50", "PICSOAK_CAPACITY_STEP_RATE=50", "PICSOAK_CAPACITY_MAX_RATE=100",
		"PICSOAK_CAPACITY_STEP_DURATION=500ms", "PICSOAK_CAPACITY_WORKERS=10",
	}, environ...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Runner returns a runner of cfg's plan against target, which tests build with
// httptarget.New(cfg.Target, …).
func Runner(cfg config.Config, target soak.Target) *soak.Runner {
	return &soak.Runner{Plan: cfg.Plan, Target: target, TargetName: cfg.Target.Name(), Redactor: cfg.Redactor}
}

// Schedule parses a cron spec (or off) as the configuration would.
func Schedule(t testing.TB, spec string) soak.Schedule {
	t.Helper()
	return Config(t, "http://127.0.0.1:1/", "PICSOAK_SUSTAINED_SCHEDULE="+spec).Plan.Sustained.Schedule
}

// PIC is a stand-in for PIC whose latency and status can be changed while a cycle
// runs. It answers every request "ok".
type PIC struct {
	Server  *httptest.Server
	Latency atomic.Int64 // nanoseconds
	Status  atomic.Int64
	Hits    atomic.Int64
	// SlowStream, when ≥ 0, is the stream index answered SlowStreamBy later.
	SlowStream   atomic.Int64
	SlowStreamBy time.Duration
}

// NewPIC starts a PIC answering after latency; the test's end stops it.
func NewPIC(t testing.TB, latency time.Duration) *PIC {
	p := &PIC{}
	p.Latency.Store(int64(latency))
	p.Status.Store(http.StatusOK)
	p.SlowStream.Store(-1)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Hits.Add(1)
		d := time.Duration(p.Latency.Load())
		if s, err := strconv.Atoi(r.Header.Get(StreamHeader)); err == nil && int64(s) == p.SlowStream.Load() {
			d += p.SlowStreamBy
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(int(p.Status.Load()))
		io.WriteString(w, "ok")
	}))
	t.Cleanup(p.Server.Close)
	return p
}

// URL is where p listens.
func (p *PIC) URL() string { return p.Server.URL }

// WaitGoroutines polls until no more goroutines run than baseline, so a fault that
// strands a goroutine per request fails here instead of months into a soak.
func WaitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("got %d goroutines 10s after the cycle, want at most the %d before it:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// HeapPeak samples the heap in use every 10ms from Start until Stop.
type HeapPeak struct {
	base, peak uint64
	done       chan struct{}
	wg         sync.WaitGroup
}

// Start collects garbage and begins sampling.
func (h *HeapPeak) Start() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.base, h.peak = m.HeapInuse, m.HeapInuse
	h.done = make(chan struct{})
	h.wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				h.peak = max(h.peak, m.HeapInuse)
			}
		}
	})
}

// Stop returns how far the heap in use rose above where it was at Start.
func (h *HeapPeak) Stop() uint64 {
	close(h.done)
	h.wg.Wait()
	return h.peak - h.base
}
