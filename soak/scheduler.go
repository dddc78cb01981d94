package soak

import (
	"context"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Scheduler runs cycles on their cron schedules, one at a time: two cycles at once
// would each measure the other's load. A cycle that falls due while another runs
// waits its turn; one that falls due while it is itself still waiting or running is
// skipped and counted. Scheduled runs (and runs on start) of shard i of n begin i/n
// of PICSOAK_SCHEDULE_JITTER after they fall due, so replicas do not start together.
type Scheduler struct {
	runner *Runner
	obs    Observer

	cron    *cron.Cron
	entries map[Kind]cron.EntryID
	queue   chan queued
	// offset delays scheduled starts: this shard's part of the schedule jitter.
	offset time.Duration

	mu      sync.Mutex
	pending [numKinds]bool // queued or running
	running *Kind
	last    [numKinds]*Result
}

// NewScheduler builds a scheduler for every cycle of r's plan whose schedule is not
// off. Results reach r's observers; the scheduler keeps each kind's last for Status.
func NewScheduler(r *Runner) *Scheduler {
	s := &Scheduler{
		runner:  r,
		obs:     r.Observers,
		cron:    cron.New(),
		entries: map[Kind]cron.EntryID{},
		queue:   make(chan queued, numKinds),
		offset:  r.Plan.Shard.Offset(r.Plan.ScheduleJitter),
	}
	for _, k := range Kinds {
		if sched := r.Plan.Schedule(k); !sched.Off() {
			s.entries[k] = s.cron.Schedule(sched.Cron, cron.FuncJob(func() { s.enqueue(k, s.offset) }))
		}
	}
	return s
}

// Enabled lists the scheduled cycle kinds in run order.
func (s *Scheduler) Enabled() []Kind {
	var out []Kind
	for _, k := range Kinds {
		if _, ok := s.entries[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// queued is a run asked for, which starts no earlier than due.
type queued struct {
	kind Kind
	due  time.Time
}

// Enqueue asks for a run of kind now, with no jitter: someone asked for it. It reports
// false, and counts a skip, when kind is already waiting or running.
func (s *Scheduler) Enqueue(kind Kind) bool { return s.enqueue(kind, 0) }

// enqueue asks for a run of kind that starts delay from now at the earliest; a run
// that waits longer than delay behind another cycle starts when that one ends.
func (s *Scheduler) enqueue(kind Kind, delay time.Duration) bool {
	due := time.Now().Add(delay)
	s.mu.Lock()
	if s.pending[kind] {
		s.mu.Unlock()
		s.obs.CycleSkipped(kind)
		return false
	}
	s.pending[kind] = true
	s.mu.Unlock()
	s.queue <- queued{kind, due} // never blocks: at most one of each kind is pending
	return true
}

// Run runs cycles until ctx is done: first every enabled cycle once if runOnStart,
// then as their schedules fall due. A cycle running when ctx ends is aborted, its
// result still handed to the observers, before Run returns.
func (s *Scheduler) Run(ctx context.Context, runOnStart bool) {
	if runOnStart {
		for _, k := range s.Enabled() {
			s.enqueue(k, s.offset)
		}
	}
	s.cron.Start()
	defer func() { <-s.cron.Stop().Done() }()
	for {
		select {
		case <-ctx.Done():
			return
		case q := <-s.queue:
			if !sleepCtx(ctx, time.Until(q.due)) {
				return
			}
			k := q.kind
			s.mu.Lock()
			s.running = &k
			s.mu.Unlock()

			res := s.runner.Run(ctx, k)

			s.mu.Lock()
			s.running = nil
			s.pending[k] = false
			s.last[k] = res
			s.mu.Unlock()
		}
	}
}

// Restore makes res its kind's last result unless a cycle of that kind has finished
// since start; the daemon calls it with reports read back at start-up, so a restart
// does not blank the status of cycles that run only every few hours.
func (s *Scheduler) Restore(res *Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if res.Cycle < numKinds && s.last[res.Cycle] == nil {
		s.last[res.Cycle] = res
	}
}

// CycleStatus is one cycle kind's place in the schedule.
type CycleStatus struct {
	Cycle    Kind
	Schedule string
	Enabled  bool
	Running  bool
	Next     time.Time // zero when disabled
	Interval time.Duration
	Last     *Result // nil before its first run
}

// Status reports every cycle kind's schedule and last result.
func (s *Scheduler) Status() []CycleStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CycleStatus
	for _, k := range Kinds {
		st := CycleStatus{Cycle: k, Schedule: s.runner.Plan.Schedule(k).Spec, Last: s.last[k], Running: s.running != nil && *s.running == k}
		if id, ok := s.entries[k]; ok {
			st.Enabled = true
			st.Next = s.cron.Entry(id).Next
			st.Interval = interval(s.cron.Entry(id).Schedule, time.Now())
		}
		out = append(out, st)
	}
	return out
}

// interval is the time between the next two runs of sched after t, so alerts can tell
// a stale cycle from a rare one.
func interval(sched cron.Schedule, t time.Time) time.Duration {
	first := sched.Next(t)
	return sched.Next(first).Sub(first)
}
