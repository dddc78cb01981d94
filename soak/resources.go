package soak

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ResourceSample is PIC's resource usage at one moment. A nil field was not available
// from any source.
type ResourceSample struct {
	Time                time.Time `json:"time"`
	ResidentMemoryBytes *float64  `json:"resident_memory_bytes,omitempty"`
	Goroutines          *float64  `json:"goroutines,omitempty"`
	Threads             *float64  `json:"threads,omitempty"`
	CPUSeconds          *float64  `json:"cpu_seconds_total,omitempty"`
}

// ResourceSampler reads PIC's resource usage (soak/sample has PIC's /metrics and /proc).
type ResourceSampler interface {
	Sample(ctx context.Context) (ResourceSample, error)
}

// ResourceReport is PIC's resource usage around one cycle.
type ResourceReport struct {
	Before *ResourceSample `json:"before,omitempty"`
	// Peak holds the highest memory, goroutines and threads seen during the cycle.
	Peak  *ResourceSample `json:"peak,omitempty"`
	After *ResourceSample `json:"after,omitempty"`
	// Growth fields are After − Before; nil when either is missing.
	MemoryGrowthBytes *float64 `json:"memory_growth_bytes,omitempty"`
	GoroutineGrowth   *float64 `json:"goroutine_growth,omitempty"`
	CPUSeconds        *float64 `json:"cpu_seconds,omitempty"`
	SuspectedLeak     bool     `json:"suspected_leak"`
	// Missing explains samples that could not be taken; they never fail a cycle.
	Missing []string `json:"missing,omitempty"`
}

// Leak suspicion: after the cycle, with picsoak's idle connections closed and the
// settle time passed, memory still 25 % and 32 MiB above where it started (Go and most
// runtimes return freed memory to the OS lazily, so less is noise), or goroutines 10 %
// and 20 above.
const (
	leakMemoryRatio    = 1.25
	leakMemoryMinBytes = 32 << 20
	leakGoroutineRatio = 1.1
	leakGoroutineMin   = 20
)

// maxMissing bounds the sample errors kept in a report.
const maxMissing = 5

type resourceWatch struct {
	sampler ResourceSampler
	mu      sync.Mutex
	report  ResourceReport
	cancel  context.CancelFunc
	done    chan struct{}
}

// watchResources samples before the cycle and then every SampleEvery until stop. It
// returns nil when no sampler is configured.
func (r *Runner) watchResources(ctx context.Context) *resourceWatch {
	if r.Sampler == nil {
		return nil
	}
	w := &resourceWatch{sampler: r.Sampler, done: make(chan struct{})}
	if s, ok := w.sample(ctx); ok {
		w.report.Before = &s
		peak := s
		w.report.Peak = &peak
	}
	ctx, w.cancel = context.WithCancel(ctx)
	every := r.SampleEvery
	if every <= 0 {
		every = time.Second
	}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if s, ok := w.sample(ctx); ok {
					w.mu.Lock()
					w.report.Peak = peakOf(w.report.Peak, s)
					w.mu.Unlock()
				}
			}
		}
	}()
	return w
}

func (w *resourceWatch) sample(ctx context.Context) (ResourceSample, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := w.sampler.Sample(ctx)
	if err != nil {
		w.missing(err.Error())
		return s, false
	}
	return s, true
}

// missing notes a sample that could not be taken, up to maxMissing of them.
func (w *resourceWatch) missing(why string) {
	w.mu.Lock()
	if len(w.report.Missing) < maxMissing {
		w.report.Missing = append(w.report.Missing, why)
	}
	w.mu.Unlock()
}

// stop ends sampling and, for a cycle that finished, takes the after sample once PIC
// had settle to return what it does not leak. A cycle stopped meanwhile (ctx done)
// goes without it rather than keep a shutdown waiting.
func (w *resourceWatch) stop(ctx context.Context, finished bool, settle time.Duration) *ResourceReport {
	if w == nil {
		return nil
	}
	w.cancel()
	<-w.done
	if finished {
		if !sleepCtx(ctx, settle) {
			w.missing("the after sample: the cycle was stopped during PICSOAK_TARGET_SETTLE_TIME")
		} else if s, ok := w.sample(ctx); ok {
			w.report.After = &s
			w.report.Peak = peakOf(w.report.Peak, s)
		}
	}
	rep := &w.report
	if rep.Before != nil && rep.After != nil {
		rep.MemoryGrowthBytes = diff(rep.After.ResidentMemoryBytes, rep.Before.ResidentMemoryBytes)
		rep.GoroutineGrowth = diff(rep.After.Goroutines, rep.Before.Goroutines)
		rep.CPUSeconds = diff(rep.After.CPUSeconds, rep.Before.CPUSeconds)
		rep.SuspectedLeak = grew(rep.Before.ResidentMemoryBytes, rep.After.ResidentMemoryBytes, leakMemoryRatio, leakMemoryMinBytes) ||
			grew(rep.Before.Goroutines, rep.After.Goroutines, leakGoroutineRatio, leakGoroutineMin)
	}
	return rep
}

func diff(a, b *float64) *float64 {
	if a == nil || b == nil {
		return nil
	}
	d := *a - *b
	return &d
}

func grew(before, after *float64, ratio, minDelta float64) bool {
	return before != nil && after != nil && *after > *before*ratio && *after-*before >= minDelta
}

func peakOf(p *ResourceSample, s ResourceSample) *ResourceSample {
	if p == nil {
		return &s
	}
	out := *p
	out.ResidentMemoryBytes = maxOf(p.ResidentMemoryBytes, s.ResidentMemoryBytes)
	out.Goroutines = maxOf(p.Goroutines, s.Goroutines)
	out.Threads = maxOf(p.Threads, s.Threads)
	out.CPUSeconds = maxOf(p.CPUSeconds, s.CPUSeconds)
	return &out
}

func maxOf(a, b *float64) *float64 {
	if a == nil || (b != nil && *b > *a) {
		return b
	}
	return a
}

func (rep *ResourceReport) findings() []string {
	var out []string
	if len(rep.Missing) > 0 {
		out = append(out, "PIC resource samples missing: "+strings.Join(rep.Missing, "; "))
	}
	if rep.SuspectedLeak {
		out = append(out, fmt.Sprintf("Suspected leak in PIC: after the cycle memory grew by %s and goroutines by %s and did not return.",
			formatBytes(rep.MemoryGrowthBytes), formatCount(rep.GoroutineGrowth)))
	}
	return out
}

func formatBytes(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", *v/(1<<20))
}

func formatCount(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*v, 'f', 0, 64)
}
