package soak_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/report"
)

// limitedPIC is a stand-in for PIC with a capacity: a token bucket refilled at rps
// (holding at most burst tokens) admits requests; one that finds the bucket empty is
// answered 503, or, when delay > 0, answered ok after delay as if it had queued.
func limitedPIC(t *testing.T, rps float64, burst int, delay time.Duration) *httptest.Server {
	var mu sync.Mutex
	tokens, last := float64(burst), time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		now := time.Now()
		tokens = min(float64(burst), tokens+now.Sub(last).Seconds()*rps)
		last = now
		admitted := tokens >= 1
		if admitted {
			tokens--
		}
		mu.Unlock()
		switch {
		case admitted:
		case delay > 0:
			time.Sleep(delay)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func capacityRunner(t *testing.T, url string, edit func(*soak.CapacitySpec)) *soak.Runner {
	cfg := soaktest.Config(t, url)
	cfg.Plan.Capacity = soak.CapacitySpec{
		Schedule: soaktest.Schedule(t, "off"), StartRate: 100, StepRate: 100, MaxRate: 500, StepDuration: time.Second,
		Workers: 100, MinSuccessRatio: 0.95, MaxP99: 100 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg.Plan.Capacity)
	}
	return newRunner(t, cfg)
}

func TestCapacityFindsTheKnee(t *testing.T) {
	tests := []struct {
		name string
		// PIC's capacity is 250 req/s; what it does past it.
		delay    time.Duration
		wantMiss string
	}{
		// Requests over the capacity are refused: the success ratio falls at 300 req/s
		// (about 1 in 6 refused).
		{"refuses over capacity", 0, soak.MissSuccessRatio},
		// Requests over the capacity queue for 400ms: every answer is ok, but p99 goes
		// past the 100ms SLO at 300 req/s.
		{"queues over capacity", 400 * time.Millisecond, soak.MissP99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := limitedPIC(t, 250, 20, tt.delay)
			res := capacityRunner(t, srv.URL, nil).Run(context.Background(), soak.Capacity)
			d := res.Capacity
			if d == nil {
				t.Fatalf("got no capacity detail, want one; findings %v", res.Findings)
			}
			var offered []float64
			for _, s := range d.Steps {
				offered = append(offered, s.OfferedRPS)
			}
			if want := []float64{100, 200, 300}; !slices.Equal(offered, want) {
				t.Fatalf("got steps at %v req/s, want %v (stop at the first step over 250 req/s); steps %+v", offered, want, d.Steps)
			}
			if d.Stop != soak.CapacityStopKnee || d.KneeRPS != 300 || d.MaxSustainedRPS != 200 {
				t.Errorf("got stop %q, knee %g, max sustained %g; want knee, 300, 200", d.Stop, d.KneeRPS, d.MaxSustainedRPS)
			}
			if knee := d.Steps[2]; knee.Miss != tt.wantMiss || knee.MetSLO {
				t.Errorf("got knee step miss %q (met %v), want %q; step %+v", knee.Miss, knee.MetSLO, tt.wantMiss, knee)
			}
			for _, s := range d.Steps[:2] {
				if !s.MetSLO || s.Requests != int64(s.OfferedRPS) || s.LateRequests != 0 {
					t.Errorf("got step %+v, want the SLO met with %g requests and none late", s, s.OfferedRPS)
				}
			}
			if res.Verdict != soak.VerdictPass || res.GeneratorLimited {
				t.Errorf("got verdict %s, generator-limited %v; want pass, false", res.Verdict, res.GeneratorLimited)
			}
			if want := 200.0 / 50000; d.Achievement != want || res.Achievement != want {
				t.Errorf("got achievement %g (result %g), want %g", d.Achievement, res.Achievement, want)
			}
			if got, want := res.Requests.Total(), int64(600); got != want {
				t.Errorf("got %d requests in the result, want %d (every step's)", got, want)
			}
			md := report.Markdown(res)
			for _, want := range []string{
				"Highest sustained rate within the SLO: **200 req/s**, 0.40% of the enterprise target of 50000 req/s",
				"Knee: **300 req/s**",
				"| 2 | 200 req/s |",
				"| 3 | 300 req/s |",
			} {
				if !strings.Contains(md, want) {
					t.Errorf("report lacks %q:\n%s", want, md)
				}
			}
		})
	}
}

// With a single worker and 20ms answers picsoak can send 50 req/s; at 100 req/s its
// own queue, not PIC, sets the latency, and that must not be reported as PIC's knee.
func TestCapacityGeneratorLimitedIsNotTheKnee(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(20 * time.Millisecond) }))
	t.Cleanup(srv.Close)
	res := capacityRunner(t, srv.URL, func(c *soak.CapacitySpec) {
		c.StartRate, c.StepRate, c.MaxRate, c.Workers, c.MaxP99 = 10, 90, 1000, 1, 500*time.Millisecond
	}).Run(context.Background(), soak.Capacity)
	d := res.Capacity
	if len(d.Steps) != 2 || !d.Steps[0].MetSLO || d.Steps[1].Miss != soak.MissGenerator || d.Steps[1].LateRequests == 0 {
		t.Fatalf("got steps %+v, want 10 req/s met and 100 req/s generator-limited with late requests", d.Steps)
	}
	if d.Stop != soak.CapacityStopGenerator || d.KneeRPS != 0 || d.MaxSustainedRPS != 10 || !res.GeneratorLimited {
		t.Errorf("got stop %q, knee %g, max sustained %g, generator-limited %v; want generator_limited, 0, 10, true", d.Stop, d.KneeRPS, d.MaxSustainedRPS, res.GeneratorLimited)
	}
	if res.LateRequests != d.Steps[1].LateRequests {
		t.Errorf("got %d late requests in the result, want the step's %d", res.LateRequests, d.Steps[1].LateRequests)
	}
	md := report.Markdown(res)
	for _, want := range []string{"Knee: not found. picsoak's generator fell behind first", "| generator-limited |", "Generator-limited at 100 req/s", "raise PICSOAK_CAPACITY_WORKERS"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}

	// The same search with picsoak's CPU saturated: more workers would not help.
	r := capacityRunner(t, srv.URL, func(c *soak.CapacitySpec) {
		c.StartRate, c.StepRate, c.MaxRate, c.Workers, c.MaxP99 = 10, 90, 1000, 1, 500*time.Millisecond
	})
	r.ProcessCPU = busyCPU()
	res = r.Run(context.Background(), soak.Capacity)
	if res.Capacity.Stop != soak.CapacityStopGenerator || !containsText(res.Findings, "lower PICSOAK_CAPACITY_MAX_RATE") || containsText(res.Findings, "raise PICSOAK_CAPACITY_WORKERS") {
		t.Errorf("stop %q, findings %q; want generator_limited put down to picsoak's CPU", res.Capacity.Stop, res.Findings)
	}
}

func TestCapacityCeilingAndFailure(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		edit        func(*soak.CapacitySpec)
		wantSteps   []float64
		wantStop    string
		wantVerdict soak.Verdict
	}{
		// A healthy PIC meets the SLO up to the ceiling, which is a step of its own
		// when the steps do not land on it.
		{"ceiling", http.StatusOK, func(c *soak.CapacitySpec) { c.StartRate, c.StepRate, c.MaxRate = 100, 150, 300 }, []float64{100, 250, 300}, soak.CapacityStopCeiling, soak.VerdictPass},
		// A PIC that fails every request misses the SLO at the first step: the cycle fails.
		{"first step fails", http.StatusInternalServerError, func(c *soak.CapacitySpec) { c.StartRate, c.StepRate, c.MaxRate = 100, 150, 300 }, []float64{100}, soak.CapacityStopKnee, soak.VerdictFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tt.status) }))
			t.Cleanup(srv.Close)
			// The SLO's latency is generous: only the success ratio and the ceiling decide here.
			res := capacityRunner(t, srv.URL, func(c *soak.CapacitySpec) { tt.edit(c); c.StepDuration, c.MaxP99 = 500*time.Millisecond, time.Second }).Run(context.Background(), soak.Capacity)
			var offered []float64
			for _, s := range res.Capacity.Steps {
				offered = append(offered, s.OfferedRPS)
			}
			if !slices.Equal(offered, tt.wantSteps) || res.Capacity.Stop != tt.wantStop || res.Verdict != tt.wantVerdict {
				t.Errorf("got steps %v, stop %q, verdict %s; want %v, %q, %s; steps %+v", offered, res.Capacity.Stop, res.Verdict, tt.wantSteps, tt.wantStop, tt.wantVerdict, res.Capacity.Steps)
			}
		})
	}
}

func TestCapacityStepRates(t *testing.T) {
	tests := []struct {
		name string
		cfg  soak.CapacitySpec
		want []float64
	}{
		// The ceiling on the grid is the last step, not repeated.
		{"on the grid", soak.CapacitySpec{StartRate: 100, StepRate: 100, MaxRate: 300}, []float64{100, 200, 300}},
		// A ceiling between steps is a step of its own.
		{"ceiling between steps", soak.CapacitySpec{StartRate: 100, StepRate: 150, MaxRate: 300}, []float64{100, 250, 300}},
		// Start at the ceiling: one step.
		{"one step", soak.CapacitySpec{StartRate: 5, StepRate: 1, MaxRate: 5}, []float64{5}},
		// Fractions that do not add up exactly still land on the ceiling once.
		{"fractions", soak.CapacitySpec{StartRate: 0.1, StepRate: 0.1, MaxRate: 0.3}, []float64{0.1, 0.2, 0.3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.StepRates()
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if d := got[i] - tt.want[i]; d > 1e-9 || d < -1e-9 {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// A capacity result aims at its ceiling and achieves its highest sustained rate, in
// the report as in picsoak_cycle_target_rps; the achievement is the one figure both
// the result and its capacity detail carry.
func TestCapacityResultAimsAtTheCeiling(t *testing.T) {
	srv := limitedPIC(t, 1e6, 1000, 0)
	res := capacityRunner(t, srv.URL, func(c *soak.CapacitySpec) {
		c.StartRate, c.StepRate, c.MaxRate, c.StepDuration = 100, 100, 200, 300*time.Millisecond
	}).Run(context.Background(), soak.Capacity)
	if res.TargetRPS != 200 {
		t.Errorf("target rate %g, want the ceiling 200", res.TargetRPS)
	}
	if want := res.Capacity.MaxSustainedRPS / res.EnterpriseTargetRPS; res.Capacity.MaxSustainedRPS != 200 || res.Achievement != want || res.Capacity.Achievement != want {
		t.Errorf("achievement %g (detail %g), max sustained %g; want both %g", res.Achievement, res.Capacity.Achievement, res.Capacity.MaxSustainedRPS, want)
	}
	if md := report.Markdown(res); !strings.Contains(md, "| target rate | 200 req/s |") {
		t.Errorf("report lacks the target rate:\n%s", md)
	}
}
