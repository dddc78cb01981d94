// Package sample reads PIC's resource usage for the engine's before, peak and after
// samples around each cycle: from PIC's own Prometheus endpoint (the standard Go and
// process collectors' families), from /proc when PIC runs beside picsoak, or the first
// of several that has each figure. The engine redacts what their errors quote.
package sample

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/picsoak/picsoak/soak"
)

// Metrics reads PIC's own Prometheus endpoint: process_resident_memory_bytes,
// go_goroutines and process_cpu_seconds_total, as the standard Go and process
// collectors export them.
type Metrics struct {
	URL    string
	Client *http.Client
}

// maxExpositionBytes bounds what is read of PIC's /metrics.
const maxExpositionBytes = 16 << 20

// Sample implements soak.ResourceSampler.
func (m *Metrics) Sample(ctx context.Context) (soak.ResourceSample, error) {
	s := soak.ResourceSample{Time: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return s, fmt.Errorf("PIC metrics %s: %w", m.URL, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	client := m.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return s, fmt.Errorf("PIC metrics %s: %w", m.URL, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("PIC metrics %s: status %d, want 200", m.URL, resp.StatusCode)
	}
	if err := ParseExposition(io.LimitReader(resp.Body, maxExpositionBytes), &s); err != nil {
		return s, fmt.Errorf("PIC metrics %s: %w", m.URL, err)
	}
	return s, nil
}

// ParseExposition reads the resource families from Prometheus text exposition
// into s. It is an error when none of them is there.
func ParseExposition(r io.Reader, s *soak.ResourceSample) error {
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

// Proc reads /proc/PID of a co-located PIC: resident memory, threads and CPU.
type Proc struct {
	PID int
	// Root is the proc filesystem's mount point; empty means /proc.
	Root string
}

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

// Sample implements soak.ResourceSampler.
func (p *Proc) Sample(context.Context) (soak.ResourceSample, error) {
	s := soak.ResourceSample{Time: time.Now()}
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

// Multi takes each figure from the first sampler that has it, so PIC's own
// metrics (with goroutines) can be completed by /proc.
type Multi []soak.ResourceSampler

// Sample implements soak.ResourceSampler. It fails only when every sampler failed.
func (m Multi) Sample(ctx context.Context) (soak.ResourceSample, error) {
	out := soak.ResourceSample{Time: time.Now()}
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
