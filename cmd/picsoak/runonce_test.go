package main

import (
	"encoding/xml"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/report"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/sys/unix"
)

// junitDoc is the JUnit XML that CI systems read, decoded independently of soak's types.
type junitDoc struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, b)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("got %d testsuites, want 1", len(doc.Suites))
	}
	return doc
}

func TestRunWritesJSONAndJUnit(t *testing.T) {
	dir := t.TempDir()
	jsonPath, junitPath := filepath.Join(dir, "run.json"), filepath.Join(dir, "junit.xml")
	r := runBinary(t, fastEnv(t), "run", "--cycle", "sustained,streams", "--json", jsonPath, "--junit", junitPath, "--progress-interval", "100ms")
	if r.code != 0 {
		t.Fatalf("run exit %d, want 0\n%s", r.code, r.stderr)
	}
	run, err := report.ReadRun(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Passed || len(run.Results) != 2 || run.Results[0].Cycle != soak.Sustained || run.Results[1].Cycle != soak.Streams {
		t.Errorf("--json: got passed=%v with %d results, want a passed run of sustained and streams", run.Passed, len(run.Results))
	}
	doc := readJUnit(t, junitPath)
	s := doc.Suites[0]
	if s.Tests != 2 || s.Failures != 0 || len(s.Cases) != 2 || s.Cases[0].Name != "sustained" || s.Cases[0].Failure != nil {
		t.Errorf("--junit: got %+v, want 2 passing testcases, sustained first", s)
	}
	// stderr is not a terminal here: plain progress lines, at least one per cycle.
	for _, want := range []string{"picsoak run: sustained (1/2)", "picsoak run: streams (2/2)", "requests"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks the progress line %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "\x1b[K") {
		t.Errorf("stderr is not a terminal but got terminal control sequences")
	}
}

func TestRunBaselineRegressionExits1(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	if r := runBinary(t, fastEnv(t), "run", "--cycle", "streams", "--json", base); r.code != 0 {
		t.Fatalf("baseline run exit %d, want 0\n%s", r.code, r.stderr)
	}
	// PIC ten times slower: sequential streams lose most of their throughput and their
	// p99 grows far past 20 % and the 1 ms slack.
	slow := fastEnv(t, "PICSOAK_SIM_LATENCY=30ms")
	junitPath := filepath.Join(dir, "junit.xml")
	r := runBinary(t, slow, "run", "--cycle", "streams", "--baseline", base, "--junit", junitPath)
	if r.code != 1 {
		t.Fatalf("slower run exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"## Baseline comparison: 2 regression(s)",
		"| cycle | metric | baseline | now | change | verdict |",
		"| streams | p99 |",
		"❌ regression",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// The cycle itself passed: only the comparison fails it.
	if !strings.Contains(r.stdout, "1 of 1 cycles passed") {
		t.Errorf("summary does not show the cycle passing:\n%s", r.stdout)
	}
	doc := readJUnit(t, junitPath)
	if f := doc.Suites[0].Cases[0].Failure; f == nil || f.Type != "regression" || !strings.Contains(f.Message, "streams p99") {
		t.Errorf("JUnit testcase failure: got %+v, want a regression naming streams p99", f)
	}

	// Tolerances wide enough to allow it: the same slowdown passes.
	r = runBinary(t, slow, "run", "--cycle", "streams", "--baseline", base, "--max-throughput-drop", "1", "--max-p99-rise", "1000")
	if r.code != 0 || !strings.Contains(r.stdout, "## Baseline comparison: no regression") {
		t.Errorf("lenient run exit %d, want 0 and no regression\n%s", r.code, r.stdout)
	}
}

func TestRunUnreachableTargetExits3(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	start := time.Now()
	r := runBinary(t, fastEnv(t, "PICSOAK_TARGET_URL=http://"+addr+"/events"), "run")
	if r.code != 3 {
		t.Fatalf("run exit %d, want 3\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"unreachable before start", "connection refused", "PICSOAK_TARGET_URL"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "cycle starting") {
		t.Errorf("a cycle started against an unreachable target:\n%s", r.stderr)
	}
	t.Logf("gave up after %s", time.Since(start))
}

func TestRunBadFlagsExit2(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--max-p99-rise", "-1"}, "max p99 rise -1"},
		{[]string{"--max-throughput-drop", "1.5"}, "max throughput drop 1.5"},
		{[]string{"--baseline", missing}, "--baseline"},
		{[]string{"--progress", "fancy"}, `--progress "fancy"`},
		{[]string{"--no-such-flag"}, "flag provided but not defined"},
		{[]string{"streams"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		r := runBinary(t, fastEnv(t), append([]string{"run"}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("run %q: got exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

func TestObserversReachEveryProgress(t *testing.T) {
	a, b := newProgress(nil, false, 1), newProgress(nil, false, 1)
	obs := soak.Observers{a, b}
	obs.CycleStarted(soak.Burst)
	obs.ObserveRequest(soak.Burst, soak.Reply{Outcome: soak.OutcomeOK}, time.Millisecond)
	obs.ObserveRequest(soak.Burst, soak.Reply{Outcome: soak.OutcomeTimeout}, time.Second)
	for name, p := range map[string]*progress{"first": a, "second": b} {
		if got, errs := p.requests.Load(), p.errors.Load(); got != 2 || errs != 1 {
			t.Errorf("%s observer: got %d requests, %d errors; want 2, 1", name, got, errs)
		}
	}
}

func TestProgressLine(t *testing.T) {
	got := progressLine(soak.Sustained, 1, 3, 2500*time.Millisecond, 1234, 5, 99.6)
	want := "picsoak run: sustained (1/3)   2.5s  1234 requests  100 req/s  5 errors"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// countOpens watches path and returns a function that reports how often any process
// has opened it since: the kernel queues an inotify event per open as it happens.
func countOpens(t *testing.T, path string) func() int {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_OPEN); err != nil {
		t.Fatal(err)
	}
	return func() int {
		opens := 0
		buf := make([]byte, 64<<10)
		for {
			n, err := unix.Read(fd, buf)
			if err != nil || n <= 0 {
				return opens // EAGAIN: every queued event read
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				if ev.Mask&unix.IN_OPEN != 0 {
					opens++
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}
}

// A three-cycle run with a targets file reads it, and its body file, once: the
// configuration is parsed at start and nothing downstream opens it again.
func TestRunReadsTheTargetsFileOnce(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); string(b) == `{"event":1}` {
			posts.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	for name, content := range map[string]string{"event.json": `{"event":1}`, "targets.txt": "POST " + srv.URL + "/events\n@event.json\n\nGET " + srv.URL + "/health\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bodyOpens := countOpens(t, filepath.Join(dir, "event.json"))
	targetsOpens := countOpens(t, filepath.Join(dir, "targets.txt"))
	r := runBinary(t, fastEnv(t, "PICSOAK_TARGETS_FILE="+filepath.Join(dir, "targets.txt")), "run", "--cycle", "sustained,burst,streams", "--progress", "off")
	if r.code != 0 {
		t.Fatalf("run exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if got, want := targetsOpens(), 1; got != want {
		t.Errorf("targets file opened %d times, want %d", got, want)
	}
	if got, want := bodyOpens(), 1; got != want {
		t.Errorf("body file opened %d times, want %d", got, want)
	}
	if posts.Load() == 0 {
		t.Error("PIC got no POST with the body file's content")
	}
}

// A PIC answering every request after 100 ms fails p99<=20ms, exit 1 with a JUnit
// failure naming the threshold, and passes p99<=2s; a bad threshold exits 2 naming
// its variable.
func TestRunJudgesThresholds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(100 * time.Millisecond):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		thresholds string
		code       int
		failure    string
	}{
		{"p99<=20ms", 1, "threshold p99<=20ms missed: p99 1"},
		{"p99<=2s", 0, ""},
	} {
		junit := filepath.Join(t.TempDir(), "junit.xml")
		r := runBinary(t, fastEnv(t, "PICSOAK_TARGET_URL="+srv.URL, "PICSOAK_STREAMS_THRESHOLDS="+tc.thresholds),
			"run", "--cycle", "streams", "--junit", junit, "--progress", "off")
		if r.code != tc.code {
			t.Errorf("%s: run exit %d, want %d; stderr:\n%s", tc.thresholds, r.code, tc.code, r.stderr)
		}
		b, err := os.ReadFile(junit)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Failures []struct {
				Message string `xml:"message,attr"`
			} `xml:"testsuite>testcase>failure"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("JUnit: %v\n%s", err, b)
		}
		if tc.failure == "" && len(doc.Failures) != 0 || tc.failure != "" && (len(doc.Failures) != 1 || !strings.HasPrefix(doc.Failures[0].Message, tc.failure)) {
			t.Errorf("%s: JUnit failures %+v, want one starting %q (none when empty)", tc.thresholds, doc.Failures, tc.failure)
		}
		if !strings.Contains(r.stdout, "### Thresholds") || !strings.Contains(r.stdout, "| `"+tc.thresholds+"` |") {
			t.Errorf("%s: the summary lacks the thresholds table:\n%s", tc.thresholds, r.stdout)
		}
	}
	r := runBinary(t, fastEnv(t, "PICSOAK_TARGET_URL="+srv.URL, "PICSOAK_STREAMS_THRESHOLDS=recovery<=1s"), "run", "--cycle", "streams")
	if r.code != 2 || !strings.Contains(r.stderr, `PICSOAK_STREAMS_THRESHOLDS="recovery<=1s": "recovery<=1s": the streams cycle has no recovery`) {
		t.Errorf("bad threshold: exit %d, stderr %q; want 2 naming the variable", r.code, r.stderr)
	}
}

// A push carries the URL's credentials as basic auth and never prints them, replaces
// the group of job, instance and shard with the run's metrics, and gives up at its
// deadline: the summary is still printed and the exit code is 1.
func TestRunPushesTheRunsMetrics(t *testing.T) {
	type push struct {
		method, path, user, password, body string
	}
	pushes := make(chan push, 4)
	hang := make(chan struct{})
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, _ := r.BasicAuth()
		// The push is in whatever format it says; the checks below read text.
		var text strings.Builder
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err != nil {
				break
			}
			expfmt.MetricFamilyToText(&text, &mf)
		}
		if strings.Contains(r.URL.Path, "/instance/hang") {
			<-hang
			return
		}
		pushes <- push{r.Method, r.URL.Path, user, password, text.String()}
	}))
	// Cleanups run last first: release the hanging handler before Close waits for it.
	t.Cleanup(gateway.Close)
	t.Cleanup(func() { close(hang) })
	withCreds := strings.Replace(gateway.URL, "http://", "http://pusher:push-s3cret@", 1)

	r := runBinary(t, fastEnv(t, "PICSOAK_PUSH_INSTANCE=ci", "PICSOAK_SHARD=1/2", "PICSOAK_PUSH_EXPECTED_INTERVAL=2h"),
		"run", "--cycle", "streams", "--progress", "off", "--pushgateway", withCreds)
	if r.code != 0 {
		t.Fatalf("run exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	p := <-pushes
	wantGroup := map[string]string{"job": "picsoak-run", "instance": "ci", "shard": "1"}
	if p.method != http.MethodPut || !maps.Equal(groupingKey(p.path), wantGroup) || p.user != "pusher" || p.password != "push-s3cret" {
		t.Errorf("got %s %s as %s:%s, want PUT to the group %v as pusher:push-s3cret", p.method, p.path, p.user, p.password, wantGroup)
	}
	for _, want := range []string{"picsoak_run_pass 1", "picsoak_push_expected_interval_seconds 7200", `picsoak_cycle_pass{cycle="streams"} 1`, `picsoak_requests_total{cycle="streams",endpoint="default",outcome="ok"}`, "picsoak_build_info"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("pushed metrics lack %q:\n%s", want, p.body)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "push-s3cret") {
		t.Errorf("the Pushgateway's password was printed:\n%s\n%s", r.stdout, r.stderr)
	}

	// A run that found PIC unreachable measured nothing, and is pushed as failed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/events"
	ln.Close()
	r = runBinary(t, fastEnv(t, "PICSOAK_PUSH_INSTANCE=ci", "PICSOAK_TARGET_URL="+closed), "run", "--cycle", "streams", "--progress", "off", "--pushgateway", withCreds)
	if r.code != exitUnreachable {
		t.Errorf("unreachable PIC: exit %d, want %d; stderr:\n%s", r.code, exitUnreachable, r.stderr)
	}
	if p := <-pushes; !strings.Contains(p.body, "picsoak_run_pass 0") {
		t.Errorf("unreachable PIC: pushed\n%s\nwant picsoak_run_pass 0", p.body)
	}

	// A Pushgateway that never answers: the push's deadline ends the wait.
	start := time.Now()
	r = runBinary(t, fastEnv(t, "PICSOAK_PUSH_INSTANCE=hang", "PICSOAK_PUSH_TIMEOUT=300ms"), "run", "--cycle", "streams", "--progress", "off", "--pushgateway", withCreds)
	if r.code != 1 || !strings.Contains(r.stderr, "pushing the run's metrics to the Pushgateway http://pusher:xxxxx@127.0.0.1:") || strings.Contains(r.stderr, "push-s3cret") {
		t.Errorf("hanging Pushgateway: exit %d, stderr:\n%s\nwant 1 and the Pushgateway named, its password redacted", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "# picsoak run: 1 of 1 cycles passed") {
		t.Errorf("hanging Pushgateway: got no summary on stdout, want it printed all the same:\n%s", r.stdout)
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("hanging Pushgateway: the run took %s, want the push to give up at its 300ms deadline", took)
	}
}

// groupingKey reads a Pushgateway path's label pairs; client_golang writes the
// labels after the job in map order, so only the set is stable.
func groupingKey(path string) map[string]string {
	parts := strings.Split(strings.TrimPrefix(path, "/metrics/"), "/")
	key := map[string]string{}
	for i := 0; i+1 < len(parts); i += 2 {
		key[parts[i]] = parts[i+1]
	}
	return key
}
