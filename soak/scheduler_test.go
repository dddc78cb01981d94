package soak

import (
	"context"
	"sync"
	"testing"
	"time"
)

// overlapObserver fails the test if two cycles ever run at once.
type overlapObserver struct {
	NopObserver
	t       *testing.T
	mu      sync.Mutex
	running int
	started []Kind
	skipped map[Kind]int
}

func (o *overlapObserver) CycleStarted(k Kind) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.running++
	o.started = append(o.started, k)
	if o.running > 1 {
		o.t.Errorf("cycle %s started while another was running", k)
	}
}

func (o *overlapObserver) CycleFinished(*Result) {
	o.mu.Lock()
	o.running--
	o.mu.Unlock()
}

func (o *overlapObserver) CycleSkipped(k Kind) {
	o.mu.Lock()
	o.skipped[k]++
	o.mu.Unlock()
}

func TestSchedulerNeverOverlaps(t *testing.T) {
	p := newPIC(t, 2*time.Millisecond)
	r := p.runner(t, func(c *Config) {
		// Both fall due every second, at the same instant; each takes ~1.2 s.
		c.Sustained.Schedule, c.Sustained.Duration = "@every 1s", 1200*time.Millisecond
		c.Streams.Schedule, c.Streams.Requests = "@every 1s", 200
		c.Burst.Schedule = ScheduleOff
	})
	obs := &overlapObserver{t: t, skipped: map[Kind]int{}}
	r.Observer = obs
	_, results, cancel, done := runScheduler(t, r)

	seen := map[Kind]int{}
	deadline := time.After(20 * time.Second)
	for seen[Sustained] < 2 || seen[Streams] < 2 {
		select {
		case res := <-results:
			seen[res.Cycle]++
			if res.Verdict != VerdictPass {
				t.Errorf("%s verdict %s, want pass", res.Cycle, res.Verdict)
			}
		case <-deadline:
			t.Fatalf("after 20s saw %v, want 2 sustained and 2 streams cycles", seen)
		}
	}
	cancel()
	<-done
	if seen[Burst] != 0 {
		t.Errorf("burst ran %d times, want 0: its schedule is off", seen[Burst])
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	// Run on start enqueues in Kinds order.
	if obs.started[0] != Sustained || obs.started[1] != Streams {
		t.Errorf("first cycles = %v, want sustained then streams", obs.started[:2])
	}
	// The sustained cycle outlasts its 1 s schedule, so some of its runs are skipped.
	if obs.skipped[Sustained] == 0 {
		t.Errorf("skips = %v, want sustained runs skipped while it was still pending", obs.skipped)
	}
}

// panicTarget panics when a cycle asks for a sender.
type panicTarget struct{}

func (panicTarget) NewSender(int) Sender { panic("target exploded") }

func TestPanickingCycleIsAbortedAndSchedulerGoesOn(t *testing.T) {
	p := newPIC(t, time.Millisecond)
	r := p.runner(t, func(c *Config) { c.Sustained.Schedule, c.Burst.Schedule = ScheduleOff, ScheduleOff })
	r.Target = panicTarget{}
	s, results, cancel, _ := runScheduler(t, r)
	defer cancel()
	var res *Result
	select {
	case res = <-results:
	case <-time.After(10 * time.Second):
		t.Fatal("no result within 10s of a panicking cycle")
	}
	if res.Verdict != VerdictAborted || res.AbortReason != "panic: target exploded" {
		t.Errorf("got verdict %s (%q), want aborted by the panic", res.Verdict, res.AbortReason)
	}
	// The scheduler survives: the same cycle can be enqueued and runs again.
	if !s.Enqueue(Streams) {
		t.Fatal("Enqueue after the panic = false, want true")
	}
	select {
	case res = <-results:
		if res.Verdict != VerdictAborted {
			t.Errorf("second run verdict %s, want aborted again", res.Verdict)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("scheduler stopped after a panic")
	}
}

func TestShutdownAbortsRunningCycle(t *testing.T) {
	p := newPIC(t, time.Millisecond)
	r := p.runner(t, func(c *Config) { c.Sustained.Duration = time.Minute })
	started := make(chan struct{})
	var once sync.Once
	r.Observer = &stallObserver{onRequest: func(int64) { once.Do(func() { close(started) }) }}
	_, results, cancel, done := runScheduler(t, r)
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of shutdown")
	}
	res := <-results
	if res.Cycle != Sustained || res.Verdict != VerdictAborted || res.Requests.Total() == 0 {
		t.Errorf("got %s %s with %d requests, want the running sustained cycle aborted with its partial numbers", res.Cycle, res.Verdict, res.Requests.Total())
	}
}

func TestInterval(t *testing.T) {
	for spec, want := range map[string]time.Duration{"@every 10m": 10 * time.Minute, "*/15 * * * *": 15 * time.Minute, "@hourly": time.Hour} {
		s, err := ParseSchedule(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := Interval(s, time.Date(2026, 1, 1, 0, 7, 0, 0, time.UTC)); got != want {
			t.Errorf("Interval(%q) = %s, want %s", spec, got, want)
		}
	}
}

// startObserver reports each cycle start on a channel.
type startObserver struct {
	NopObserver
	started chan Kind
}

func (o startObserver) CycleStarted(k Kind) { o.started <- k }

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
			p := newPIC(t, time.Millisecond)
			r := p.runner(t, func(c *Config) {
				c.Sustained.Schedule, c.Burst.Schedule = ScheduleOff, ScheduleOff
				c.Streams.Requests = 1
				c.Daemon.Shard, c.Daemon.ScheduleJitter = tt.shard, tt.jitter
				*c = c.ForShard()
			})
			obs := startObserver{started: make(chan Kind, 4)}
			r.Observer = obs
			s, err := NewScheduler(r, nil)
			if err != nil {
				t.Fatal(err)
			}
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
		p := newPIC(t, time.Millisecond)
		r := p.runner(t, func(c *Config) {
			c.Sustained.Schedule, c.Burst.Schedule = ScheduleOff, ScheduleOff
			c.Streams.Requests = 1
			c.Daemon.Shard, c.Daemon.ScheduleJitter = "1/2", 2*time.Hour
			*c = c.ForShard()
		})
		obs := startObserver{started: make(chan Kind, 4)}
		r.Observer = obs
		s, err := NewScheduler(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(ctx, false); close(done) }()
		if !s.Enqueue(Streams) {
			t.Fatal("Enqueue = false, want true")
		}
		select {
		case <-obs.started:
		case <-time.After(10 * time.Second):
			t.Fatal("a run asked for by hand did not start within 10s, want at once (no jitter)")
		}
		deadline := time.Now().Add(10 * time.Second)
		for s.Status()[Streams].Last == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		// A scheduled run now waits an hour (1/2 of 2h) to start: shutdown must not.
		if !s.enqueue(Streams, s.offset) {
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
func runScheduler(t *testing.T, r *Runner) (*Scheduler, <-chan *Result, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	results := make(chan *Result, 16)
	s, err := NewScheduler(r, func(res *Result) { results <- res })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, true); close(done) }()
	return s, results, cancel, done
}
