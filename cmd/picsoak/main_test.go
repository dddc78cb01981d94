package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/report"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "picsoak-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "picsoak")
	if out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building picsoak: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fastEnv is a configuration whose three cycles take about two seconds in all.
func fastEnv(t *testing.T, extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"PICSOAK_REPORT_DIR=" + t.TempDir(),
		"PICSOAK_LISTEN_ADDR=127.0.0.1:0",
		"PICSOAK_TARGET_SETTLE_TIME=50ms",
		"PICSOAK_SUSTAINED_DURATION=1s", "PICSOAK_SUSTAINED_RATE=50",
		"PICSOAK_BURST_COUNT=2", "PICSOAK_BURST_SIZE=50", "PICSOAK_BURST_WORKERS=10", "PICSOAK_BURST_COOLDOWN=100ms",
		"PICSOAK_STREAMS_COUNT=3", "PICSOAK_STREAMS_REQUESTS=10",
	}, extra...)
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

type result struct {
	code           int
	stdout, stderr string
}

func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func TestHelpListsEveryVariable(t *testing.T) {
	r := runBinary(t, nil, "help")
	if r.code != 0 {
		t.Fatalf("help exit %d, want 0", r.code)
	}
	for _, v := range config.Vars() {
		if !strings.Contains(r.stdout, v.Name) {
			t.Errorf("help lacks %s", v.Name)
		}
	}
	if !regexp.MustCompile(`\bPICSOAK_SUSTAINED_RATE +100 `).MatchString(r.stdout) {
		t.Errorf("help does not show PICSOAK_SUSTAINED_RATE's default 100:\n%s", r.stdout)
	}
}

func TestVersion(t *testing.T) {
	if r := runBinary(t, nil, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "picsoak ") || !strings.Contains(r.stdout, "go1.") {
		t.Errorf("version = %d %q, want 0 and 'picsoak <version> (… go1.x)'", r.code, r.stdout)
	}
}

func TestBadConfigurationExits2BeforeStarting(t *testing.T) {
	env := []string{"PICSOAK_SUSTAINED_RATE=0", "PICSOAK_BURST_WORKERS=many", "PICSOAK_LISTEN_ADDR=127.0.0.1:0"}
	for _, cmd := range []string{"serve", "run", "check", "sim"} {
		r := runBinary(t, env, cmd)
		if r.code != 2 {
			t.Errorf("%s exit %d, want 2", cmd, r.code)
		}
		// A value that does not parse and one out of range are named together.
		for _, want := range []string{"PICSOAK_SUSTAINED_RATE=0: want a rate > 0", `PICSOAK_BURST_WORKERS="many": want a whole number`} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s stderr lacks %q:\n%s", cmd, want, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "serving") || strings.Contains(r.stderr, "cycle") && strings.Contains(r.stderr, "starting") {
			t.Errorf("%s started something despite bad configuration:\n%s", cmd, r.stderr)
		}
	}
	// The example: a rate that does not parse beside workers out of range.
	r := runBinary(t, []string{"PICSOAK_SUSTAINED_RATE=abc", "PICSOAK_BURST_WORKERS=0"}, "check")
	if r.code != 2 || !strings.Contains(r.stderr, `PICSOAK_SUSTAINED_RATE="abc": want a number`) || !strings.Contains(r.stderr, "PICSOAK_BURST_WORKERS=0: want at least 1") {
		t.Errorf("check = %d\n%s\nwant 2 naming both variables", r.code, r.stderr)
	}
	if r := runBinary(t, nil, "frobnicate"); r.code != 2 {
		t.Errorf("unknown command exit %d, want 2", r.code)
	}
}

func TestRunPassesAndWritesReports(t *testing.T) {
	env := fastEnv(t)
	r := runBinary(t, env, "run")
	if r.code != 0 {
		t.Fatalf("run exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "# picsoak run: 3 of 3 cycles passed") {
		t.Errorf("summary starts %q, want 3 of 3 passed", strings.SplitN(r.stdout, "\n", 2)[0])
	}
	if !strings.Contains(r.stderr, "soaking the built-in PIC simulator") {
		t.Errorf("log does not say the simulator is the target:\n%s", r.stderr)
	}
	dir := envValue(env, "PICSOAK_REPORT_DIR")
	for _, k := range soak.Kinds {
		paths, _ := filepath.Glob(filepath.Join(dir, "*-"+k.String()+".json"))
		mds, _ := filepath.Glob(filepath.Join(dir, "*-"+k.String()+".md"))
		if !enabledByDefault(k) {
			if len(paths)+len(mds) != 0 {
				t.Errorf("%s reports: %v %v, want none: its schedule is off by default", k, paths, mds)
			}
			continue
		}
		if len(paths) != 1 || len(mds) != 1 {
			t.Errorf("%s reports: %v %v, want one .json and one .md", k, paths, mds)
			continue
		}
		res, err := report.Read(paths[0])
		if err != nil || res.Verdict != soak.VerdictPass || res.Requests.Total() == 0 {
			t.Errorf("%s report: %v, %+v; want a passing result with requests", k, err, res)
		}
	}
}

// The capacity cycle is off by default but runs when named.
func TestRunCapacityCycle(t *testing.T) {
	env := fastEnv(t, "PICSOAK_CAPACITY_START_RATE=50", "PICSOAK_CAPACITY_STEP_RATE=50", "PICSOAK_CAPACITY_MAX_RATE=100",
		"PICSOAK_CAPACITY_STEP_DURATION=500ms", "PICSOAK_CAPACITY_WORKERS=20", "PICSOAK_CAPACITY_MAX_P99=1s")
	r := runBinary(t, env, "run", "--cycle", "capacity")
	if r.code != 0 {
		t.Fatalf("got exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"# picsoak run: 1 of 1 cycles passed", "Highest sustained rate within the SLO: **100 req/s**", "Knee: none up to the ceiling of 100 req/s", "| 2 | 100 req/s |"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
}

// enabledByDefault says whether kind's default schedule is on (the capacity cycle's is off).
func enabledByDefault(kind soak.Kind) bool {
	cfg, err := config.Load(nil)
	return err == nil && !cfg.Plan.Schedule(kind).Off()
}

func TestRunFailsWhenPICFails(t *testing.T) {
	r := runBinary(t, fastEnv(t, "PICSOAK_SIM_ERROR_RATIO=1"), "run", "--cycle", "streams")
	if r.code != 1 {
		t.Fatalf("run exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "0 of 1 cycles passed") || !strings.Contains(r.stdout, "❌ FAIL") {
		t.Errorf("summary does not report the failure:\n%s", r.stdout)
	}
	if r := runBinary(t, fastEnv(t), "run", "--cycle", "nonsense"); r.code != 2 {
		t.Errorf("--cycle nonsense exit %d, want 2", r.code)
	}
}

// daemon is a running `picsoak serve`.
type daemon struct {
	cmd     *exec.Cmd
	base    string // http://host:port
	logs    *bytes.Buffer
	done    chan struct{}
	exitErr error
}

func startDaemon(t *testing.T, env []string) *daemon {
	t.Helper()
	return startDaemonCmd(t, exec.Command(binary, "serve"), env)
}

// startDaemonCmd starts cmd, which runs `picsoak serve` (maybe through a wrapper such as
// a shell setting limits), with env.
func startDaemonCmd(t *testing.T, cmd *exec.Cmd, env []string) *daemon {
	t.Helper()
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			d.logs.Write(append(line, '\n'))
			var entry struct{ Msg, Metrics string }
			if json.Unmarshal(line, &entry) == nil && entry.Msg == "picsoak serving" {
				addr <- strings.TrimSuffix(entry.Metrics, "/metrics")
			}
		}
		d.exitErr = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.done
	})
	select {
	case d.base = <-addr:
	case <-d.done:
		t.Fatalf("picsoak exited before serving: %v\n%s", d.exitErr, d.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("picsoak did not log its address within 30s:\n%s", d.logs)
	}
	return d
}

// stop sends SIGTERM and waits for the daemon to exit; its logs are complete (and safe
// to read) only then.
func (d *daemon) stop(t *testing.T) string {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("picsoak still running 30s after SIGTERM")
	}
	return d.logs.String()
}

func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(d.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (d *daemon) families(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := d.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d, want 200", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return mfs
}

// waitFor polls cond every 100ms until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func counterSum(mf *dto.MetricFamily, label, value string) float64 {
	var sum float64
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestServeExportsEveryMetricFamily(t *testing.T) {
	d := startDaemon(t, fastEnv(t))
	waitFor(t, "a passing cycle of each kind", 60*time.Second, func() bool {
		mf := d.families(t)["picsoak_cycles_total"]
		for _, k := range soak.Kinds {
			if enabledByDefault(k) && counterSum(mf, "cycle", k.String()) < 1 {
				return false
			}
		}
		return true
	})
	mfs := d.families(t)
	// Every family of DESIGN.md, with its type.
	want := map[string]dto.MetricType{
		"picsoak_requests_total":                   dto.MetricType_COUNTER,
		"picsoak_responses_total":                  dto.MetricType_COUNTER,
		"picsoak_cycle_threshold":                  dto.MetricType_GAUGE,
		"picsoak_cycle_threshold_met":              dto.MetricType_GAUGE,
		"picsoak_slo_objective_ratio":              dto.MetricType_GAUGE,
		"picsoak_slo_latency_threshold_seconds":    dto.MetricType_GAUGE,
		"picsoak_slo_latency_bucket_info":          dto.MetricType_GAUGE,
		"picsoak_slo_window_seconds":               dto.MetricType_GAUGE,
		"picsoak_request_duration_seconds":         dto.MetricType_HISTOGRAM,
		"picsoak_cycles_total":                     dto.MetricType_COUNTER,
		"picsoak_cycle_success_ratio":              dto.MetricType_GAUGE,
		"picsoak_cycle_min_success_ratio":          dto.MetricType_GAUGE,
		"picsoak_cycle_throughput_rps":             dto.MetricType_GAUGE,
		"picsoak_cycle_target_rps":                 dto.MetricType_GAUGE,
		"picsoak_cycle_latency_seconds":            dto.MetricType_SUMMARY,
		"picsoak_cycle_duration_seconds":           dto.MetricType_GAUGE,
		"picsoak_cycle_pass":                       dto.MetricType_GAUGE,
		"picsoak_cycle_last_end_timestamp_seconds": dto.MetricType_GAUGE,
		"picsoak_cycle_interval_seconds":           dto.MetricType_GAUGE,
		"picsoak_cycle_in_progress":                dto.MetricType_GAUGE,
		"picsoak_generator_late_requests_total":    dto.MetricType_COUNTER,
		"picsoak_burst_rps":                        dto.MetricType_GAUGE,
		"picsoak_burst_recovery_seconds":           dto.MetricType_GAUGE,
		"picsoak_streams_fairness_index":           dto.MetricType_GAUGE,
		"picsoak_streams_throughput_rps":           dto.MetricType_GAUGE,
		"picsoak_target_resident_memory_bytes":     dto.MetricType_GAUGE,
		"picsoak_target_goroutines":                dto.MetricType_GAUGE,
		"picsoak_target_cpu_seconds":               dto.MetricType_GAUGE,
		"picsoak_target_memory_growth_bytes":       dto.MetricType_GAUGE,
		"picsoak_build_info":                       dto.MetricType_GAUGE,
		"go_goroutines":                            dto.MetricType_GAUGE,
		"process_resident_memory_bytes":            dto.MetricType_GAUGE,
	}
	for name, typ := range want {
		mf, ok := mfs[name]
		if !ok {
			t.Errorf("/metrics lacks %s", name)
			continue
		}
		if mf.GetType() != typ {
			t.Errorf("%s is a %s, want a %s", name, mf.GetType(), typ)
		}
	}
	if got := counterSum(mfs["picsoak_requests_total"], "outcome", "ok"); got < 50+100+30 {
		t.Errorf("ok requests = %g, want at least the 180 of one round of cycles", got)
	}
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/status", "/"} {
		if code, _ := d.get(t, path); code != 200 {
			t.Errorf("GET %s = %d, want 200", path, code)
		}
	}
	_, status := d.get(t, "/api/v1/status")
	var cycles []struct {
		Cycle string
		Last  *soak.Result
	}
	// Every kind is listed, the capacity cycle too though it is off by default.
	if err := json.Unmarshal([]byte(status), &cycles); err != nil || len(cycles) != len(soak.Kinds) || cycles[0].Last == nil {
		t.Errorf("/api/v1/status = %s (%v), want %d cycles, the first with its last result", status, err, len(soak.Kinds))
	}
}

func TestServeScrapePassesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run scripts/test.sh, or apt-get install -y prometheus")
	}
	d := startDaemon(t, fastEnv(t))
	waitFor(t, "a finished streams cycle", 60*time.Second, func() bool {
		return counterSum(d.families(t)["picsoak_cycles_total"], "cycle", "streams") >= 1
	})
	_, body := d.get(t, "/metrics")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestSIGTERMMidCycleWritesAbortedReportAndExits0(t *testing.T) {
	env := fastEnv(t, "PICSOAK_SUSTAINED_DURATION=1m")
	d := startDaemon(t, env)
	waitFor(t, "the sustained cycle running", 30*time.Second, func() bool {
		return counterSum(d.families(t)["picsoak_requests_total"], "cycle", "sustained") > 0
	})
	start := time.Now()
	d.stop(t)
	if d.exitErr != nil {
		t.Errorf("exit after SIGTERM: %v, want 0\n%s", d.exitErr, d.logs)
	}
	t.Logf("stopped %s after SIGTERM", time.Since(start))
	paths, _ := filepath.Glob(filepath.Join(envValue(env, "PICSOAK_REPORT_DIR"), "*-sustained.json"))
	if len(paths) != 1 {
		t.Fatalf("sustained reports = %v, want the aborted one", paths)
	}
	res, err := report.Read(paths[0])
	if err != nil || res.Verdict != soak.VerdictAborted || res.Requests.Total() == 0 {
		t.Errorf("report: %v %+v, want an aborted result with the requests measured so far", err, res)
	}
}
