package sample

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/picsoak/picsoak/soak"
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

func TestParseExposition(t *testing.T) {
	var s soak.ResourceSample
	if err := ParseExposition(strings.NewReader(exposition), &s); err != nil {
		t.Fatal(err)
	}
	if *s.ResidentMemoryBytes != 10485760 || *s.Goroutines != 42 || *s.Threads != 7 || *s.CPUSeconds != 12.5 {
		t.Errorf("got mem %v gor %v thr %v cpu %v, want 10485760 42 7 12.5", *s.ResidentMemoryBytes, *s.Goroutines, *s.Threads, *s.CPUSeconds)
	}
	for _, bad := range []string{"not { metrics", "# TYPE other gauge\nother 1\n"} {
		if err := ParseExposition(strings.NewReader(bad), &soak.ResourceSample{}); err == nil {
			t.Errorf("ParseExposition(%q) = nil, want an error", bad)
		}
	}
}

func TestProcReadsOwnProcess(t *testing.T) {
	s, err := (&Proc{PID: os.Getpid()}).Sample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if *s.ResidentMemoryBytes < 1<<20 || *s.Threads < 1 || *s.CPUSeconds < 0 {
		t.Errorf("got rss %v threads %v cpu %v, want a live process's figures", *s.ResidentMemoryBytes, *s.Threads, *s.CPUSeconds)
	}
	if _, err := (&Proc{PID: 1 << 30}).Sample(context.Background()); err == nil {
		t.Error("sampling a process that does not exist = nil error, want one")
	}
}

// FuzzParseExposition: PIC's /metrics is outside input.
func FuzzParseExposition(f *testing.F) {
	f.Add(exposition)
	f.Add("go_goroutines 1\n")
	f.Add("# TYPE x histogram\nx_bucket{le=\"+Inf\"} 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		var s soak.ResourceSample
		if err := ParseExposition(strings.NewReader(text), &s); err == nil &&
			s.ResidentMemoryBytes == nil && s.Goroutines == nil && s.CPUSeconds == nil {
			t.Errorf("nil error but no figure from %q", text)
		}
	})
}
