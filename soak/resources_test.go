package soak

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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

func TestParseResourceExposition(t *testing.T) {
	var s ResourceSample
	if err := ParseResourceExposition(strings.NewReader(exposition), &s); err != nil {
		t.Fatal(err)
	}
	if *s.ResidentMemoryBytes != 10485760 || *s.Goroutines != 42 || *s.Threads != 7 || *s.CPUSeconds != 12.5 {
		t.Errorf("got mem %v gor %v thr %v cpu %v, want 10485760 42 7 12.5", *s.ResidentMemoryBytes, *s.Goroutines, *s.Threads, *s.CPUSeconds)
	}
	for _, bad := range []string{"not { metrics", "# TYPE other gauge\nother 1\n"} {
		if err := ParseResourceExposition(strings.NewReader(bad), &ResourceSample{}); err == nil {
			t.Errorf("ParseResourceExposition(%q) = nil, want an error", bad)
		}
	}
}

func TestProcSamplerReadsOwnProcess(t *testing.T) {
	s, err := (&ProcSampler{PID: os.Getpid()}).Sample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if *s.ResidentMemoryBytes < 1<<20 || *s.Threads < 1 || *s.CPUSeconds < 0 {
		t.Errorf("got rss %v threads %v cpu %v, want a live process's figures", *s.ResidentMemoryBytes, *s.Threads, *s.CPUSeconds)
	}
	if _, err := (&ProcSampler{PID: 1 << 30}).Sample(context.Background()); err == nil {
		t.Error("sampling a process that does not exist = nil error, want one")
	}
}

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
	p := newPIC(t, time.Millisecond)

	r := p.runner(t, nil)
	r.Sampler = &MetricsSampler{URL: metrics.URL}
	res := r.Run(context.Background(), Streams)
	rep := res.Resources
	if res.Verdict != VerdictPass || rep.Before == nil || rep.After == nil || len(rep.Missing) != 0 {
		t.Fatalf("healthy endpoint: verdict %s, resources %+v; want pass with before and after", res.Verdict, rep)
	}
	if *rep.MemoryGrowthBytes != 0 || *rep.GoroutineGrowth != 0 || rep.SuspectedLeak {
		t.Errorf("growth %v/%v leak %v, want 0/0 false", *rep.MemoryGrowthBytes, *rep.GoroutineGrowth, rep.SuspectedLeak)
	}

	broken.Store(true)
	res = r.Run(context.Background(), Streams)
	if res.Verdict != VerdictPass || res.Resources.After != nil || len(res.Resources.Missing) == 0 {
		t.Errorf("broken endpoint: verdict %s, resources %+v; want pass with the samples reported missing", res.Verdict, res.Resources)
	}
	if !containsText(res.Findings, "PIC resource samples missing") {
		t.Errorf("findings %q, want the missing samples named", res.Findings)
	}

	metrics.Close()
	if res = r.Run(context.Background(), Streams); res.Verdict != VerdictPass || len(res.Resources.Missing) == 0 {
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
	p := newPIC(t, time.Millisecond)
	r := p.runner(t, nil)
	r.Sampler = &MetricsSampler{URL: metrics.URL}
	r.Observer = &stallObserver{onRequest: func(int64) { goroutines.Add(1) }} // one leaked per request
	res := r.Run(context.Background(), Streams)
	if !res.Resources.SuspectedLeak || *res.Resources.GoroutineGrowth != 80 {
		t.Errorf("leak %v growth %v, want suspected with 80 more goroutines", res.Resources.SuspectedLeak, *res.Resources.GoroutineGrowth)
	}
	if !containsText(res.Findings, "Suspected leak") {
		t.Errorf("findings %q, want the suspected leak", res.Findings)
	}
}
