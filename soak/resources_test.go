package soak_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/httptarget"
	"github.com/picsoak/picsoak/soak/report"
	"github.com/picsoak/picsoak/soak/sample"
)

const exposition = `# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.048576e+07
# TYPE go_goroutines gauge
go_goroutines 42
# TYPE go_threads gauge
go_threads 7
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
`

// PIC's metrics endpoint answering garbage or nothing never fails a cycle; the report
// says what is missing.
func TestCycleSurvivesBrokenMetricsEndpoint(t *testing.T) {
	var broken atomic.Bool
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			io.WriteString(w, "garbage {{{")
			return
		}
		io.WriteString(w, exposition)
	}))
	t.Cleanup(metrics.Close)
	p := soaktest.NewPIC(t, time.Millisecond)

	r := picRunner(t, p, nil)
	r.Sampler = &sample.Metrics{URL: metrics.URL}
	res := r.Run(context.Background(), soak.Streams)
	rep := res.Resources
	if res.Verdict != soak.VerdictPass || rep.Before == nil || rep.After == nil || len(rep.Missing) != 0 {
		t.Fatalf("healthy endpoint: verdict %s, resources %+v; want pass with before and after", res.Verdict, rep)
	}
	if *rep.MemoryGrowthBytes != 0 || *rep.GoroutineGrowth != 0 || rep.SuspectedLeak {
		t.Errorf("growth %v/%v leak %v, want 0/0 false", *rep.MemoryGrowthBytes, *rep.GoroutineGrowth, rep.SuspectedLeak)
	}

	broken.Store(true)
	res = r.Run(context.Background(), soak.Streams)
	if res.Verdict != soak.VerdictPass || res.Resources.After != nil || len(res.Resources.Missing) == 0 {
		t.Errorf("broken endpoint: verdict %s, resources %+v; want pass with the samples reported missing", res.Verdict, res.Resources)
	}
	if !containsText(res.Findings, "PIC resource samples missing") {
		t.Errorf("findings %q, want the missing samples named", res.Findings)
	}

	metrics.Close()
	if res = r.Run(context.Background(), soak.Streams); res.Verdict != soak.VerdictPass || len(res.Resources.Missing) == 0 {
		t.Errorf("endpoint down: verdict %s, missing %v; want pass with the samples reported missing", res.Verdict, res.Resources.Missing)
	}
}

func TestLeakSuspicion(t *testing.T) {
	var goroutines atomic.Int64
	goroutines.Store(100)
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "# TYPE go_goroutines gauge\ngo_goroutines "+strconv.FormatInt(goroutines.Load(), 10)+"\n")
	}))
	t.Cleanup(metrics.Close)
	p := soaktest.NewPIC(t, time.Millisecond)
	r := picRunner(t, p, nil)
	r.Sampler = &sample.Metrics{URL: metrics.URL}
	r.Observers = soak.Observers{&stallObserver{onRequest: func(int64) { goroutines.Add(1) }}} // one leaked per request
	res := r.Run(context.Background(), soak.Streams)
	if !res.Resources.SuspectedLeak || *res.Resources.GoroutineGrowth != 80 {
		t.Errorf("leak %v growth %v, want suspected with 80 more goroutines", res.Resources.SuspectedLeak, *res.Resources.GoroutineGrowth)
	}
	if !containsText(res.Findings, "Suspected leak") {
		t.Errorf("findings %q, want the suspected leak", res.Findings)
	}
}

// A shutdown during the settle time before the after sample ends the cycle at once:
// the load was measured in full, and only the after sample is missing.
func TestShutdownDuringSettleTimeDoesNotWaitItOut(t *testing.T) {
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, exposition) }))
	t.Cleanup(metrics.Close)
	p := soaktest.NewPIC(t, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := soaktest.Config(t, p.URL(), "PICSOAK_TARGET_SETTLE_TIME=1h")
	r := soaktest.Runner(cfg, &cancelOnClose{Target: httptarget.New(cfg.Target, 4, "picsoak-test"), cancel: cancel})
	r.Sampler = &sample.Metrics{URL: metrics.URL}
	done := make(chan *soak.Result)
	go func() { done <- r.Run(ctx, soak.Streams) }()
	select {
	case res := <-done:
		if res.Requests.Total() != 80 || res.Resources.Before == nil || res.Resources.After != nil ||
			!containsText(res.Resources.Missing, "stopped during PICSOAK_TARGET_SETTLE_TIME") {
			t.Errorf("got %d requests, resources %+v; want 80 and the after sample missing for the shutdown", res.Requests.Total(), res.Resources)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run still waiting a minute after the shutdown: it sat out the hour of PICSOAK_TARGET_SETTLE_TIME")
	}
}

// cancelOnClose cancels the cycle's context when the runner closes the target's idle
// connections, the step between the load's end and the settle time: a SIGTERM then.
type cancelOnClose struct {
	*httptarget.Target
	cancel context.CancelFunc
}

func (c *cancelOnClose) CloseIdleConnections() {
	c.Target.CloseIdleConnections()
	c.cancel()
}

// Row 10: PIC's metrics endpoint breaks while a cycle runs (the test above covers it
// broken from the start). The cycle completes and passes, and the report says which
// samples are missing.
func TestCycleSurvivesMetricsEndpointBreakingMidCycle(t *testing.T) {
	tests := []struct {
		name string
		// brk breaks the endpoint; it runs on the first request of the cycle, after
		// the "before" sample.
		brk func(srv *httptest.Server, mode *atomic.Int32)
	}{
		// The endpoint goes away: connections are refused.
		{"goes down", func(srv *httptest.Server, _ *atomic.Int32) { srv.Close() }},
		// It answers, but not Prometheus text.
		{"answers garbage", func(_ *httptest.Server, mode *atomic.Int32) { mode.Store(modeGarbage) }},
		// It answers 500.
		{"answers 500", func(_ *httptest.Server, mode *atomic.Int32) { mode.Store(modeError) }},
		// It accepts and never answers: each sample waits out the client's timeout.
		{"hangs", func(_ *httptest.Server, mode *atomic.Int32) { mode.Store(modeHang) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := soaktest.NewPIC(t, 5*time.Millisecond)
			var mode atomic.Int32
			done := make(chan struct{})
			metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch mode.Load() {
				case modeGarbage:
					io.WriteString(w, "garbage {{{")
				case modeError:
					http.Error(w, "broken", http.StatusInternalServerError)
				case modeHang:
					select {
					case <-r.Context().Done():
					case <-done:
					}
				default:
					io.WriteString(w, exposition)
				}
			}))
			t.Cleanup(func() { close(done); metrics.Close() })
			client := &http.Client{Timeout: 300 * time.Millisecond}
			r := picRunner(t, p, nil)
			r.Sampler = &sample.Metrics{URL: metrics.URL, Client: client}
			r.SampleEvery = 20 * time.Millisecond
			var once sync.Once
			r.Observers = soak.Observers{&stallObserver{onRequest: func(int64) { once.Do(func() { tt.brk(metrics, &mode) }) }}}

			baseline := runtime.NumGoroutine()
			start := time.Now()
			res := r.Run(context.Background(), soak.Streams)
			// Streams of 20 sequential 5ms requests, plus at most one sampling timeout
			// for the after sample (the ones during the cycle are cut off by its end).
			if took, bound := time.Since(start), 5*time.Second; took > bound {
				t.Errorf("cycle took %s, want at most %s", took, bound)
			}
			rep := res.Resources
			if res.Verdict != soak.VerdictPass || res.Requests[soak.OutcomeOK] != 80 {
				t.Errorf("got verdict %s with outcomes %v, want pass with 80 ok", res.Verdict, res.Requests)
			}
			if rep == nil || rep.Before == nil || rep.After != nil || len(rep.Missing) == 0 {
				t.Fatalf("got resources %+v, want the before sample, no after sample, and the missing ones explained", rep)
			}
			if !containsText(res.Findings, "PIC resource samples missing") || !strings.Contains(report.Markdown(res), "PIC resource samples missing") {
				t.Errorf("findings %q, want the missing samples named in them and the report", res.Findings)
			}
			client.CloseIdleConnections()
			soaktest.WaitGoroutines(t, baseline)
		})
	}
}

// Modes of the metrics endpoint in TestCycleSurvivesMetricsEndpointBreakingMidCycle.
const (
	modeHealthy = iota
	modeGarbage
	modeError
	modeHang
)
