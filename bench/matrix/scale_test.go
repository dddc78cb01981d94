package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestSlowHandler(t *testing.T) {
	const delay = 30 * time.Millisecond
	srv := httptest.NewServer(slowHandler(delay, &lateness{}))
	defer srv.Close()
	start := time.Now()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if took := time.Since(start); took < delay {
		t.Errorf("answered after %v, want at least %v", took, delay)
	}
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("got %d %q, want 200 \"ok\"", resp.StatusCode, body)
	}
}

func TestSlowHandlerReturnsWhenTheClientGoes(t *testing.T) {
	entered, returned := make(chan struct{}), make(chan struct{})
	h := slowHandler(time.Hour, &lateness{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		h.ServeHTTP(w, r)
		close(returned)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	done := make(chan error, 1)
	go func() {
		_, err := http.DefaultClient.Do(req)
		done <- err
	}()
	<-entered // the handler holds the request: now the client leaves
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("request error %v, want context.Canceled", err)
	}
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still waits an hour for a client that left")
	}
}

// fakeTool is a generator that is a shell script: how runGenerator tells a
// failed run from a good one without any real generator.
func fakeTool(script string, res toolResult, readErr error) toolCmd {
	return toolCmd{args: []string{"-c", script}, read: func() (toolResult, error) { return res, readErr }}
}

func TestRunGeneratorFailures(t *testing.T) {
	lv := level{inFlight: 10, delay: time.Second, duration: time.Second, workers: 12}
	good := toolResult{requests: 10000, errors: 10, rate: 10, p99: 1}
	for _, c := range []struct {
		name   string
		tc     toolCmd
		failed string // what the failure must say; empty: a good run
	}{
		// 10 errors in 10,000 is 0.1 %: still a measurement, the errors shown.
		{"good", fakeTool("sleep 0.5", good, nil), ""}, // long enough for its RSS to be sampled
		{"exits non-zero", fakeTool("echo 'socket: too many open files' >&2; exit 3", good, nil), "too many open files"},
		{"output unreadable", fakeTool("exit 0", good, errors.New("no summary")), "no summary"},
		{"nothing completed", fakeTool("echo 'connection refused' >&2", toolResult{}, nil), "no requests completed: connection refused"},
		{"too many errors", fakeTool("exit 0", toolResult{requests: 1000, errors: 2, example: "timeout"}, nil), "2 of 1000 requests failed (timeout)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runGenerator(c.name, "sh", c.tc, lv, os.Getpid())
			if c.failed == "" {
				if !r.ok() {
					t.Errorf("failed: %s, want a good run", r.failed)
				}
				if r.peakRSS <= 0 {
					t.Errorf("peak RSS %v, want the shell's", r.peakRSS)
				}
				return
			}
			if r.ok() || !strings.Contains(r.failed, c.failed) {
				t.Errorf("failed %q, want one saying %q", r.failed, c.failed)
			}
		})
	}
}

// A generator's peak RSS is its own: rusage's maxrss would be at least the bench's,
// which Linux carries across the fork and exec that start the generator.
func TestRunGeneratorPeakRSSIsTheGenerators(t *testing.T) {
	ballast := make([]byte, 256<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	r := runGenerator("small", "sh", fakeTool("sleep 0.5", toolResult{requests: 1}, nil), level{inFlight: 10, delay: time.Second}, os.Getpid())
	runtime.KeepAlive(ballast)
	if r.peakRSS <= 0 || r.peakRSS > 64<<20 {
		t.Errorf("a shell's peak RSS is %.1f MiB beside the bench's 256 MiB; want the shell's few", r.peakRSS/(1<<20))
	}
}

func TestRunGeneratorStopsAtTheRSSCap(t *testing.T) {
	defer func(v int) { *scaleMaxRSS = v }(*scaleMaxRSS)
	*scaleMaxRSS = 4
	// The shell holds 8 MB in a variable, then waits far longer than the test.
	tc := fakeTool(`x=$(head -c 8000000 /dev/zero | tr '\0' a); sleep 600`, toolResult{requests: 1}, nil)
	r := runGenerator("hog", "sh", tc, level{inFlight: 10, delay: time.Second}, os.Getpid())
	if !r.killed || !strings.Contains(r.failed, "above -scale-max-rss-mib 4") {
		t.Errorf("killed %v, failed %q; want stopped at the cap", r.killed, r.failed)
	}
}

func TestScaleGoals(t *testing.T) {
	lv := func(n int) level { return level{inFlight: n, delay: time.Second} }
	const mib = 1 << 20
	run := func(tool string, n int, rss, cpuPerReq float64) scaleRun {
		return scaleRun{tool: tool, lv: lv(n), peakRSS: rss * mib, cpu: time.Duration(cpuPerReq * 1e3 * float64(n) * 24),
			res: toolResult{requests: float64(n) * 24, rate: float64(n), p99: 1.002, p99Due: 1.004}, heap: 60 * mib}
	}
	// picsoak: 10 → 130 MiB over 9,950 in flight is 12.3 KiB a connection; CPU 1.2 × its own at 50.
	picsoak := []scaleRun{run("picsoak", 50, 10, 20e-6), run("picsoak", 10000, 130, 24e-6)}
	fortio := []scaleRun{run("fortio", 50, 20, 20e-6), run("fortio", 10000, 400, 30e-6)}
	killed := run("k6", 10000, 6144, 0)
	killed.killed, killed.failed = true, "stopped at the cap"
	k6 := []scaleRun{run("k6", 50, 60, 90e-6), killed}
	early := run("vegeta", 10000, 12, 0)
	early.failed = "no requests completed"
	vegeta := []scaleRun{run("vegeta", 50, 15, 40e-6), early}

	tools := []string{"picsoak", "fortio", "vegeta", "k6"}
	met := func(runs map[string][]scaleRun) map[string]bool {
		out := map[string]bool{}
		for _, g := range scaleGoals(tools, runs) {
			name := g.name[strings.Index(g.name, "flight, ")+len("flight, "):]
			out[name] = g.ok
		}
		return out
	}
	got := met(map[string][]scaleRun{"picsoak": picsoak, "fortio": fortio, "vegeta": vegeta, "k6": k6})
	for name, ok := range got {
		if !ok {
			t.Errorf("%s: not met, want met (the early-failed vegeta not compared, the stopped k6 a lower bound)", name)
		}
	}
	if len(got) != 6 {
		t.Errorf("%d goals, want 6: %v", len(got), got)
	}

	// picsoak above a peer's RSS per connection misses the comparison but not the 16 KiB.
	lean := []scaleRun{run("fortio", 50, 20, 20e-6), run("fortio", 10000, 100, 30e-6)}
	if got := met(map[string][]scaleRun{"picsoak": picsoak, "fortio": lean, "vegeta": vegeta, "k6": k6}); got["RSS per connection less than every peer's"] || !got["RSS per connection above idle ≤ 16 KiB"] {
		t.Errorf("picsoak above fortio's RSS per connection: %v", got)
	}

	// A peer whose run failed with every connection open (CPU-bound, say) is compared.
	busy := run("vegeta", 10000, 100, 90e-6)
	busy.failed, busy.fds = "3,000 of 180,000 requests failed", 12000
	if got := met(map[string][]scaleRun{"picsoak": picsoak, "fortio": fortio, "vegeta": {vegeta[0], busy}, "k6": k6}); got["RSS per connection less than every peer's"] {
		t.Errorf("picsoak above a failed vegeta that held its connections: %v", got)
	}

	// A failed picsoak run is no figure at all: one goal, missed.
	failed := []scaleRun{picsoak[0], picsoak[1]}
	failed[1].failed = "1200 of 240000 requests failed"
	goals := scaleGoals(tools, map[string][]scaleRun{"picsoak": failed, "fortio": fortio, "vegeta": vegeta, "k6": k6})
	if len(goals) != 1 || goals[0].ok || !strings.Contains(goals[0].got, "1200 of 240000") {
		t.Errorf("goals of a failed run: %+v, want one missed goal naming the failure", goals)
	}
}

func TestPerConnection(t *testing.T) {
	idle := scaleRun{lv: level{inFlight: 50}, peakRSS: 10 << 20}
	r := scaleRun{lv: level{inFlight: 1050}, peakRSS: 10<<20 + 1000*16384}
	if got, ok := perConnection(r, idle); !ok || got != 16384 {
		t.Errorf("per connection %v, %v; want 16384, true", got, ok)
	}
	if _, ok := perConnection(idle, idle); ok {
		t.Error("the idle level has a figure per connection, want none")
	}
	idle.failed = "exit status 1"
	if _, ok := perConnection(r, idle); ok {
		t.Error("a failed idle run gave a figure per connection, want none")
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 50: "50", 1000: "1,000", 9998.66: "9,999", 5000000: "5,000,000"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
	if got := thousands1(9998.66); got != "9,998.7" {
		t.Errorf("thousands1(9998.66) = %q, want 9,998.7", got)
	}
}
