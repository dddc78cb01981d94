package soak

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/picsoak/picsoak/soak/pace"
	"github.com/picsoak/picsoak/soak/redact"
)

// Runner runs single cycles against one target. Run is safe to call from one goroutine
// at a time; the Scheduler makes sure of that.
type Runner struct {
	Plan   Plan
	Target Target
	// TargetName identifies the target in results; its credentials are redacted there.
	TargetName string
	// Sampler reads PIC's resource usage; nil when none is configured.
	Sampler ResourceSampler
	// Observers receive live events and every finished result, in order.
	Observers Observers
	// Redactor hides the target's credentials in every result; nil hides the
	// credentials of URLs only.
	Redactor *redact.Redactor
	// SampleEvery is the spacing of resource samples during a cycle; 0 means 1s.
	SampleEvery time.Duration
	// CPULatencyPath is where PICSOAK_KEEP_CPUS_AWAKE holds the CPU latency; empty
	// means the kernel's pace.CPULatencyPath.
	CPULatencyPath string
	// ProcessCPU reads the CPU time picsoak has used; nil means this process's own.
	ProcessCPU func() (time.Duration, bool)

	// spare holds the recorders of earlier cycles by shape: a histogram is ~190 KB,
	// and allocating several per cycle would make picsoak's memory sway with the
	// garbage collector instead of staying flat.
	spare map[recorderShape][]*recorder
}

// cycle is the state of one running cycle that the cycle kinds share.
type cycle struct {
	kind   Kind
	target Target
	obs    Observer
	res    *Result
	runner *Runner
	// scratch are the recorders this cycle took from the runner, returned at its end.
	scratch []*recorder
}

// recorder returns an empty recorder for the cycle's own use, split by the plan's
// endpoints; it is recycled when the cycle ends, so nothing may keep it (results keep
// merged copies instead).
func (c *cycle) recorder(segments int) *recorder {
	key := recorderShape{segments, len(c.runner.Plan.Endpoints)}
	spare := c.runner.spare[key]
	var r *recorder
	if n := len(spare); n > 0 {
		r, c.runner.spare[key] = spare[n-1], spare[:n-1]
		r.Reset()
	} else {
		r = newRecorder(key.segments, key.endpoints)
	}
	c.scratch = append(c.scratch, r)
	return r
}

// recorderShape is what a spare recorder must have to be reused.
type recorderShape struct{ segments, endpoints int }

func (c *cycle) recycle() {
	if c.runner.spare == nil {
		c.runner.spare = map[recorderShape][]*recorder{}
	}
	key := recorderShape{endpoints: len(c.runner.Plan.Endpoints)}
	for _, r := range c.scratch {
		key.segments = len(r.segments)
		c.runner.spare[key] = append(c.runner.spare[key], r)
	}
	c.scratch = nil
}

// send sends one request and records it into rec, its latency counted from due (zero:
// from now, when it is sent). A request cut short by the cycle's own end is not a
// measurement of PIC and is dropped.
func (c *cycle) send(ctx context.Context, s Sender, rec sink, seg int, due time.Time) (Outcome, time.Duration, bool) {
	sent := time.Now()
	if due.IsZero() {
		due = sent
	}
	r := s.Send(ctx)
	if ctx.Err() != nil {
		return r.Outcome, 0, false
	}
	done := time.Now()
	latency := done.Sub(due)
	rec.record(seg, r, latency, done.Sub(sent))
	c.obs.ObserveRequest(c.kind, r, latency)
	return r.Outcome, latency, true
}

func (c *cycle) finding(format string, args ...any) {
	c.res.Findings = append(c.res.Findings, fmt.Sprintf(format, args...))
}

// sharedRecorders returns the recorders n workers share (see sharedPerCore), taken
// and recycled as c.recorder's are.
func (c *cycle) sharedRecorders(n, segments int) []*sharedRecorder {
	shared := make([]*sharedRecorder, sharedCount(n))
	for i := range shared {
		shared[i] = &sharedRecorder{recorder: c.recorder(segments)}
	}
	return shared
}

// mergeRecorders returns a new recorder holding all of recs, for a result to keep.
func mergeRecorders(recs []*sharedRecorder) *recorder {
	total := newRecorder(len(recs[0].segments), 0)
	for _, r := range recs {
		total.Merge(r.recorder)
	}
	return total
}

// Run runs one cycle of kind under ctx and the configured cycle timeout, and returns
// its result, never nil. A cycle stopped by ctx, by its deadline or by a panic is
// returned with verdict aborted and whatever it measured until then.
func (r *Runner) Run(ctx context.Context, kind Kind) (res *Result) {
	obs := r.Observers
	res = &Result{
		Cycle:               kind,
		Target:              r.TargetName,
		Start:               time.Now(),
		MinSuccessRatio:     r.Plan.MinSuccessRatio(kind),
		EnterpriseTargetRPS: r.Plan.EnterpriseTargetRPS,
	}
	c := &cycle{kind: kind, target: r.Target, obs: obs, res: res, runner: r}
	obs.CycleStarted(kind)

	ctx, cancel := context.WithTimeout(ctx, r.Plan.CycleTimeout)
	defer cancel()
	watch := r.watchResources(ctx)

	defer func() {
		if p := recover(); p != nil {
			res.AbortReason = fmt.Sprintf("panic: %v", p)
			res.Findings = append(res.Findings, fmt.Sprintf("The cycle panicked and was aborted: %v\n%s", p, debug.Stack()))
		}
		r.finish(ctx, c, watch)
		c.recycle()
		obs.CycleFinished(res)
	}()
	if r.Plan.KeepCPUsAwake {
		// Deferred after finish's, so it runs first: CPUs idle normally again once the
		// load has ended, through the settle time and the reports.
		path := cmp.Or(r.CPULatencyPath, pace.CPULatencyPath)
		if awake, err := pace.KeepCPUsAwake(path); err != nil {
			res.Findings = append(res.Findings, fmt.Sprintf("PICSOAK_KEEP_CPUS_AWAKE: %v; idle CPUs halted as usual, so tail latency may include their wake-ups.", err))
		} else {
			res.CPUsKeptAwake = true
			defer awake.Close()
		}
	}

	switch kind {
	case Sustained:
		c.sustained(ctx, r.Plan.Sustained)
	case Burst:
		c.burst(ctx, r.Plan.Burst)
	case Streams:
		c.streams(ctx, r.Plan.Streams, r.Plan.Shard)
	case Capacity:
		c.capacity(ctx, r.Plan.Capacity)
	default:
		panic(fmt.Sprintf("unknown cycle kind %d", kind))
	}
	return res
}

// finish completes a result whatever way its cycle ended.
func (r *Runner) finish(ctx context.Context, c *cycle, watch *resourceWatch) {
	res := c.res
	if res.AbortReason == "" && ctx.Err() != nil {
		res.AbortReason = abortReason(ctx)
	}
	if p, ok := r.Target.(ProtocolReporter); ok {
		res.Protocol = p.ReplyProtocols()
	}
	// Connections held open after a cycle would cost PIC resources that are not its
	// own and picsoak file descriptors until the next cycle, minutes away.
	if t, ok := r.Target.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	res.Resources = watch.stop(ctx, res.AbortReason == "", r.Plan.SettleTime)
	if res.Resources != nil {
		res.Findings = append(res.Findings, res.Resources.findings()...)
	}
	res.End = time.Now()
	res.DurationSeconds = res.End.Sub(res.Start).Seconds()
	// The capacity cycle's achievement is its highest sustained rate's, set by the cycle.
	if res.EnterpriseTargetRPS > 0 && res.Capacity == nil {
		res.Achievement = res.ThroughputRPS / res.EnterpriseTargetRPS
	}
	res.decide(r.Plan.Thresholds(c.kind))
	if res.Findings == nil {
		res.Findings = []string{}
	}
	res.redact(r.Redactor)
}

func abortReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "cycle deadline exceeded (PICSOAK_CYCLE_TIMEOUT)"
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause.Error()
	}
	return "stopped (shutdown)"
}
