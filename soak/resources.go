package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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

// ResourceSampler reads PIC's resource usage.
type ResourceSampler interface {
	Sample(ctx context.Context) (ResourceSample, error)
}

// MetricsSampler reads PIC's own Prometheus endpoint: process_resident_memory_bytes,
// go_goroutines and process_cpu_seconds_total, as the standard Go and process
// collectors export them.
type MetricsSampler struct {
	URL    string
	Client *http.Client
}

// maxExpositionBytes bounds what is read of PIC's /metrics.
const maxExpositionBytes = 16 << 20

// Sample implements ResourceSampler.
func (m *MetricsSampler) Sample(ctx context.Context) (ResourceSample, error) {
	s := ResourceSample{Time: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return s, fmt.Errorf("PIC metrics %s: %w", RedactURL(m.URL), err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	client := m.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return s, fmt.Errorf("PIC metrics %s: %w", RedactURL(m.URL), errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("PIC metrics %s: status %d, want 200", RedactURL(m.URL), resp.StatusCode)
	}
	if err := ParseResourceExposition(io.LimitReader(resp.Body, maxExpositionBytes), &s); err != nil {
		return s, fmt.Errorf("PIC metrics %s: %w", RedactURL(m.URL), err)
	}
	return s, nil
}

// ParseResourceExposition reads the resource families from Prometheus text exposition
// into s. It is an error when none of them is there.
func ParseResourceExposition(r io.Reader, s *ResourceSample) error {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return fmt.Errorf("not Prometheus text exposition: %w", err)
	}
	value := func(name string) *float64 {
		f, ok := families[name]
		if !ok || len(f.Metric) == 0 {
			return nil
		}
		m := f.Metric[0]
		var v float64
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		default:
			return nil
		}
		return &v
	}
	s.ResidentMemoryBytes = value("process_resident_memory_bytes")
	s.Goroutines = value("go_goroutines")
	s.Threads = value("go_threads")
	s.CPUSeconds = value("process_cpu_seconds_total")
	if s.ResidentMemoryBytes == nil && s.Goroutines == nil && s.CPUSeconds == nil {
		return errors.New("none of process_resident_memory_bytes, go_goroutines, process_cpu_seconds_total is exported")
	}
	return nil
}

// ProcSampler reads /proc/PID of a co-located PIC: resident memory, threads and CPU.
type ProcSampler struct {
	PID int
	// Root is the proc filesystem's mount point; empty means /proc.
	Root string
}

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

// Sample implements ResourceSampler.
func (p *ProcSampler) Sample(context.Context) (ResourceSample, error) {
	s := ResourceSample{Time: time.Now()}
	root := p.Root
	if root == "" {
		root = "/proc"
	}
	b, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", root, p.PID))
	if err != nil {
		return s, fmt.Errorf("PIC process %d: %w", p.PID, err)
	}
	// The command name (field 2) may hold spaces; the fields after its ')' are fixed.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return s, fmt.Errorf("PIC process %d: unreadable stat", p.PID)
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state): utime is 14, stime 15, num_threads 20, rss 24.
	if len(fields) < 22 {
		return s, fmt.Errorf("PIC process %d: short stat", p.PID)
	}
	num := func(field int) float64 {
		v, _ := strconv.ParseFloat(fields[field-3], 64)
		return v
	}
	cpu := (num(14) + num(15)) / clockTicks
	threads := num(20)
	rss := num(24) * float64(os.Getpagesize())
	s.CPUSeconds, s.Threads, s.ResidentMemoryBytes = &cpu, &threads, &rss
	return s, nil
}

// MultiSampler takes each figure from the first sampler that has it, so PIC's own
// metrics (with goroutines) can be completed by /proc.
type MultiSampler []ResourceSampler

// Sample implements ResourceSampler. It fails only when every sampler failed.
func (m MultiSampler) Sample(ctx context.Context) (ResourceSample, error) {
	out := ResourceSample{Time: time.Now()}
	var errs []error
	for _, s := range m {
		got, err := s.Sample(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.ResidentMemoryBytes = cmpOr(out.ResidentMemoryBytes, got.ResidentMemoryBytes)
		out.Goroutines = cmpOr(out.Goroutines, got.Goroutines)
		out.Threads = cmpOr(out.Threads, got.Threads)
		out.CPUSeconds = cmpOr(out.CPUSeconds, got.CPUSeconds)
	}
	if len(errs) == len(m) {
		return out, errors.Join(errs...)
	}
	return out, nil
}

func cmpOr(a, b *float64) *float64 {
	if a != nil {
		return a
	}
	return b
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
		w.mu.Lock()
		if len(w.report.Missing) < maxMissing {
			w.report.Missing = append(w.report.Missing, err.Error())
		}
		w.mu.Unlock()
		return s, false
	}
	return s, true
}

// stop ends sampling and, for a cycle that finished, takes the after sample once PIC
// had settle to return what it does not leak.
func (w *resourceWatch) stop(finished bool, settle time.Duration) *ResourceReport {
	if w == nil {
		return nil
	}
	w.cancel()
	<-w.done
	if finished {
		time.Sleep(settle)
		if s, ok := w.sample(context.Background()); ok {
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
