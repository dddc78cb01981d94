package soak_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/report"
)

// openHere says whether this process holds path open. It runs in PIC's handler too,
// so it reports with Errorf: FailNow belongs to the test's own goroutine.
func openHere(t *testing.T, path string) bool {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Errorf("reading /proc/self/fd: %v", err)
		return false
	}
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}

func TestKeepCPUsAwakeHoldsZeroLatencyWhileTheLoadRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu_dma_latency")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var requests, heldDuring atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// PIC here runs in picsoak's process, so it can see what picsoak holds open.
		requests.Add(1)
		if openHere(t, path) {
			heldDuring.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	cfg := soaktest.Config(t, srv.URL)
	cfg.Plan.KeepCPUsAwake = true
	r := newRunner(t, cfg)
	r.CPULatencyPath = path

	res := r.Run(context.Background(), soak.Streams)
	if res.Verdict != soak.VerdictPass || !res.CPUsKeptAwake {
		t.Fatalf("verdict %s, CPUs kept awake %v, want pass and true; findings %v", res.Verdict, res.CPUsKeptAwake, res.Findings)
	}
	if n := requests.Load(); n == 0 || heldDuring.Load() != n {
		t.Errorf("%s held open during %d of %d requests, want all", path, heldDuring.Load(), n)
	}
	if openHere(t, path) {
		t.Errorf("%s still open after the cycle: the CPUs would never halt again", path)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, []byte{0, 0, 0, 0}) {
		t.Errorf("wrote %v, want a 32-bit 0 (µs)", b)
	}
	if md := report.Markdown(res); !strings.Contains(md, "Idle CPUs polled instead of halting") {
		t.Errorf("the report does not say the CPUs were kept awake:\n%s", md)
	}

	// Off, the file is left alone.
	os.WriteFile(path, nil, 0o600)
	r.Plan.KeepCPUsAwake = false
	if res := r.Run(context.Background(), soak.Streams); res.CPUsKeptAwake || strings.Contains(report.Markdown(res), "Idle CPUs polled") {
		t.Errorf("CPUs kept awake with PICSOAK_KEEP_CPUS_AWAKE=false")
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Errorf("wrote %v with PICSOAK_KEEP_CPUS_AWAKE=false, want nothing", b)
	}
}

func TestKeepCPUsAwakeThatCannotStillRunsTheCycleAndSaysSo(t *testing.T) {
	p := soaktest.NewPIC(t, 0)
	r := picRunner(t, p, func(c *config.Config) { c.Plan.KeepCPUsAwake = true })
	r.CPULatencyPath = filepath.Join(t.TempDir(), "missing", "cpu_dma_latency")
	res := r.Run(context.Background(), soak.Streams)
	if res.Verdict != soak.VerdictPass || res.Requests.Total() != 80 || res.CPUsKeptAwake {
		t.Errorf("verdict %s, %d requests, CPUs kept awake %v; want pass, 80 and false", res.Verdict, res.Requests.Total(), res.CPUsKeptAwake)
	}
	if !strings.Contains(strings.Join(res.Findings, "\n"), "PICSOAK_KEEP_CPUS_AWAKE: open "+r.CPULatencyPath) {
		t.Errorf("findings %q do not name PICSOAK_KEEP_CPUS_AWAKE and the path", res.Findings)
	}
}
