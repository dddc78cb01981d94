package soak_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

// overlapObserver fails the test if two cycles ever run at once.
type overlapObserver struct {
	soak.NopObserver
	t       *testing.T
	mu      sync.Mutex
	running int
	started []soak.Kind
	skipped map[soak.Kind]int
}

func (o *overlapObserver) CycleStarted(k soak.Kind) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.running++
	o.started = append(o.started, k)
	if o.running > 1 {
		o.t.Errorf("cycle %s started while another was running", k)
	}
}

func (o *overlapObserver) CycleFinished(*soak.Result) {
	o.mu.Lock()
	o.running--
	o.mu.Unlock()
}

func (o *overlapObserver) CycleSkipped(k soak.Kind) {
	o.mu.Lock()
	o.skipped[k]++
	o.mu.Unlock()
}

func TestSchedulerNeverOverlaps(t *testing.T) {
	p := soaktest.NewPIC(t, 2*time.Millisecond)
	// Both fall due every second, at the same instant; each takes ~1.2 s.
	r := picRunner(t, p, nil, "PICSOAK_SUSTAINED_SCHEDULE=@every 1s", "PICSOAK_SUSTAINED_DURATION=1200ms",
		"PICSOAK_STREAMS_SCHEDULE=@every 1s", "PICSOAK_STREAMS_REQUESTS=200", "PICSOAK_BURST_SCHEDULE=off")
	obs := &overlapObserver{t: t, skipped: map[soak.Kind]int{}}
	r.Observers = soak.Observers{obs}
	_, results, cancel, done := runScheduler(t, r)

	seen := map[soak.Kind]int{}
	deadline := time.After(20 * time.Second)
	for seen[soak.Sustained] < 2 || seen[soak.Streams] < 2 {
		select {
		case res := <-results:
			seen[res.Cycle]++
			if res.Verdict != soak.VerdictPass {
				t.Errorf("%s verdict %s, want pass", res.Cycle, res.Verdict)
			}
		case <-deadline:
			t.Fatalf("after 20s saw %v, want 2 sustained and 2 streams cycles", seen)
		}
	}
	cancel()
	<-done
	if seen[soak.Burst] != 0 {
		t.Errorf("burst ran %d times, want 0: its schedule is off", seen[soak.Burst])
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	// Run on start enqueues in Kinds order.
	if obs.started[0] != soak.Sustained || obs.started[1] != soak.Streams {
		t.Errorf("first cycles = %v, want sustained then streams", obs.started[:2])
	}
	// The sustained cycle outlasts its 1 s schedule, so some of its runs are skipped.
	if obs.skipped[soak.Sustained] == 0 {
		t.Errorf("skips = %v, want sustained runs skipped while it was still pending", obs.skipped)
	}
}

// lastResult is the scheduler's last result of kind.
func lastResult(s *soak.Scheduler, kind soak.Kind) *soak.Result {
	for _, st := range s.Status() {
		if st.Cycle == kind {
			return st.Last
		}
	}
	return nil
}

// panicTarget panics when a cycle asks for a sender.
type panicTarget struct{}

func (panicTarget) NewSender(int) soak.Sender { panic("target exploded") }

func TestPanickingCycleIsAbortedAndSchedulerGoesOn(t *testing.T) {
	p := soaktest.NewPIC(t, time.Millisecond)
	r := picRunner(t, p, nil, "PICSOAK_SUSTAINED_SCHEDULE=off", "PICSOAK_BURST_SCHEDULE=off")
	r.Target = panicTarget{}
	s, results, cancel, _ := runScheduler(t, r)
	defer cancel()
	var res *soak.Result
	select {
	case res = <-results:
	case <-time.After(10 * time.Second):
		t.Fatal("no result within 10s of a panicking cycle")
	}
	if res.Verdict != soak.VerdictAborted || res.AbortReason != "panic: target exploded" {
		t.Errorf("got verdict %s (%q), want aborted by the panic", res.Verdict, res.AbortReason)
	}
	// The scheduler survives: once it has filed the result (observers see it first),
	// the same cycle can be enqueued and runs again.
	for deadline := time.Now().Add(10 * time.Second); lastResult(s, soak.Streams) != res; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the scheduler did not file the panicked cycle's result within 10s")
		}
	}
	if !s.Enqueue(soak.Streams) {
		t.Fatal("Enqueue after the panic = false, want true")
	}
	select {
	case res = <-results:
		if res.Verdict != soak.VerdictAborted {
			t.Errorf("second run verdict %s, want aborted again", res.Verdict)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("scheduler stopped after a panic")
	}
}

func TestShutdownAbortsRunningCycle(t *testing.T) {
	p := soaktest.NewPIC(t, time.Millisecond)
	r := picRunner(t, p, func(c *config.Config) { c.Plan.Sustained.Duration = time.Minute })
	started := make(chan struct{})
	var once sync.Once
	r.Observers = soak.Observers{&stallObserver{onRequest: func(int64) { once.Do(func() { close(started) }) }}}
	_, results, cancel, done := runScheduler(t, r)
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of shutdown")
	}
	res := <-results
	if res.Cycle != soak.Sustained || res.Verdict != soak.VerdictAborted || res.Requests.Total() == 0 {
		t.Errorf("got %s %s with %d requests, want the running sustained cycle aborted with its partial numbers", res.Cycle, res.Verdict, res.Requests.Total())
	}
}

func TestInterval(t *testing.T) {
	for spec, want := range map[string]time.Duration{"@every 10m": 10 * time.Minute, "*/15 * * * *": 15 * time.Minute, "@hourly": time.Hour} {
		s := soaktest.Schedule(t, spec)
		if got := soak.Interval(s.Cron, time.Date(2026, 1, 1, 0, 7, 0, 0, time.UTC)); got != want {
			t.Errorf("Interval(%q) = %s, want %s", spec, got, want)
		}
	}
}

// startObserver reports each cycle start on a channel.
type startObserver struct {
	soak.NopObserver
	started chan soak.Kind
}

func (o startObserver) CycleStarted(k soak.Kind) { o.started <- k }

// TestSchedulerJittersStartsPerShard: shard i of n starts a scheduled cycle i/n of
// PICSOAK_SCHEDULE_JITTER after it falls due; shard 0 at once; a run asked for by
// hand at once whatever the shard; and shutdown does not wait for the jitter.
func TestSchedulerJittersStartsPerShard(t *testing.T) {
	tests := []struct {
		name     string
		shard    string
		jitter   time.Duration
		min, max time.Duration // window of the first start after Run, bounded for a busy CI
	}{
		{"shard 0 starts on time", "0/2", time.Second, 0, 900 * time.Millisecond},
		{"shard 1 of 2 waits half the jitter", "1/2", 2 * time.Second, time.Second, 10 * time.Second},
		{"no jitter, no wait", "1/2", 0, 0, 900 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := soaktest.NewPIC(t, time.Millisecond)
			r := picRunner(t, p, nil, "PICSOAK_SUSTAINED_SCHEDULE=off", "PICSOAK_BURST_SCHEDULE=off", "PICSOAK_STREAMS_REQUESTS=1",
				"PICSOAK_SHARD="+tt.shard, "PICSOAK_SCHEDULE_JITTER="+tt.jitter.String())
			obs := startObserver{started: make(chan soak.Kind, 4)}
			r.Observers = soak.Observers{obs}
			s := soak.NewScheduler(r)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			begin := time.Now()
			go func() { s.Run(ctx, true); close(done) }()
			defer func() { cancel(); <-done }()
			select {
			case <-obs.started:
			case <-time.After(20 * time.Second):
				t.Fatal("no cycle started within 20s")
			}
			if got := time.Since(begin); got < tt.min || got > tt.max {
				t.Errorf("first start after %s, want between %s and %s", got, tt.min, tt.max)
			}
		})
	}

	t.Run("by hand and shutdown", func(t *testing.T) {
		p := soaktest.NewPIC(t, time.Millisecond)
		r := picRunner(t, p, nil, "PICSOAK_SUSTAINED_SCHEDULE=off", "PICSOAK_BURST_SCHEDULE=off", "PICSOAK_STREAMS_REQUESTS=1",
			"PICSOAK_SHARD=1/2", "PICSOAK_SCHEDULE_JITTER=2h")
		obs := startObserver{started: make(chan soak.Kind, 4)}
		r.Observers = soak.Observers{obs}
		s := soak.NewScheduler(r)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(ctx, false); close(done) }()
		if !s.Enqueue(soak.Streams) {
			t.Fatal("Enqueue = false, want true")
		}
		select {
		case <-obs.started:
		case <-time.After(10 * time.Second):
			t.Fatal("a run asked for by hand did not start within 10s, want at once (no jitter)")
		}
		deadline := time.Now().Add(10 * time.Second)
		for s.Status()[soak.Streams].Last == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		// A scheduled run now waits an hour (1/2 of 2h) to start: shutdown must not.
		if !s.EnqueueScheduled(soak.Streams) {
			t.Fatal("enqueue after the first run = false, want true")
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return within 5s of shutdown while a start waited for its jitter")
		}
		select {
		case k := <-obs.started:
			t.Errorf("%s started during shutdown, want none", k)
		default:
		}
	})
}

// runScheduler starts r's scheduler with run-on-start and returns it, the channel its
// results arrive on, the function that stops it, and a channel closed when it has.
func runScheduler(t *testing.T, r *soak.Runner) (*soak.Scheduler, <-chan *soak.Result, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	results := make(chan *soak.Result, 16)
	r.Observers = append(r.Observers, resultObserver(results))
	s := soak.NewScheduler(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, true); close(done) }()
	return s, results, cancel, done
}

// resultObserver sends every finished result on its channel.
type resultObserver chan<- *soak.Result

func (o resultObserver) CycleStarted(soak.Kind)                              {}
func (o resultObserver) ObserveRequest(soak.Kind, soak.Reply, time.Duration) {}
func (o resultObserver) LateRequest(soak.Kind)                               {}
func (o resultObserver) CycleFinished(r *soak.Result)                        { o <- r }
func (o resultObserver) CycleSkipped(soak.Kind)                              {}
