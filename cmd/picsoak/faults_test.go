package main

import (
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/report"
)

// The fault matrix of issue 5 at the daemon level: while PIC misbehaves, `picsoak
// serve` keeps answering /healthz and /metrics, classifies the requests, and loses no
// report it already wrote. soak/faults_test.go has the engine-level rows (time bounds,
// exact counts, goroutines, memory).

// probeClient gives up on a daemon endpoint after a few seconds: a daemon that stops
// answering must fail the test, not hang it.
var probeClient = &http.Client{Timeout: 5 * time.Second}

// answers checks that /healthz and /metrics answer while whatever the test set up runs.
func (d *daemon) answers(t *testing.T) {
	t.Helper()
	for _, path := range []string{"/healthz", "/metrics"} {
		resp, err := probeClient.Get(d.base + path)
		if err != nil {
			t.Fatalf("GET %s: %v, want an answer", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
}

// waitCycles waits until every kind in kinds has finished n cycles, checking on every
// poll that the daemon answers.
func (d *daemon) waitCycles(t *testing.T, n float64, kinds ...soak.Kind) {
	t.Helper()
	waitFor(t, "finished cycles", 90*time.Second, func() bool {
		d.answers(t)
		mf := d.families(t)["picsoak_cycles_total"]
		for _, k := range kinds {
			if counterSum(mf, "cycle", k.String()) < n {
				return false
			}
		}
		return true
	})
}

// lastResults reads each cycle's last result from /api/v1/status.
func (d *daemon) lastResults(t *testing.T) map[string]*soak.Result {
	t.Helper()
	code, body := d.get(t, "/api/v1/status")
	var cycles []struct {
		Cycle string
		Last  *soak.Result
	}
	if err := json.Unmarshal([]byte(body), &cycles); code != 200 || err != nil {
		t.Fatalf("/api/v1/status = %d %s (%v), want 200 and JSON", code, body, err)
	}
	out := map[string]*soak.Result{}
	for _, c := range cycles {
		out[c.Cycle] = c.Last
	}
	return out
}

var faultKinds = []soak.Kind{soak.Sustained, soak.Burst, soak.Streams}

func TestDaemonKeepsServingThroughTargetFaults(t *testing.T) {
	hangDone := make(chan struct{})
	t.Cleanup(func() { close(hangDone) })
	tests := []struct {
		name string
		// start starts the faulty PIC and returns the variables pointing picsoak at it.
		start   func(t *testing.T) []string
		outcome string // every request's outcome
		verdict soak.Verdict
		// logs are substrings the daemon's log must have, noLogs ones it must not.
		logs, noLogs []string
		check        func(t *testing.T, d *daemon)
	}{
		// Row 1: nothing listens.
		{
			name: "connection refused",
			start: func(t *testing.T) []string {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				ln.Close()
				return []string{"PICSOAK_TARGET_URL=http://" + ln.Addr().String() + "/events"}
			},
			outcome: "conn_error", verdict: soak.VerdictFail,
		},
		// Row 2: PIC never answers; every request times out while /healthz answers.
		{
			name: "hang",
			start: func(t *testing.T) []string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-hangDone:
					}
				}))
				t.Cleanup(srv.Close)
				return []string{"PICSOAK_TARGET_URL=" + srv.URL, "PICSOAK_TARGET_TIMEOUT=300ms"}
			},
			outcome: "timeout", verdict: soak.VerdictFail,
		},
		// Row 6: every request answered 503.
		{
			name: "503 storm",
			start: func(t *testing.T) []string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(http.StatusServiceUnavailable)
				}))
				t.Cleanup(srv.Close)
				return []string{"PICSOAK_TARGET_URL=" + srv.URL}
			},
			outcome: "http_error", verdict: soak.VerdictFail,
		},
		// Row 8: a certificate no trusted CA signed is refused, and the report says why.
		{
			name: "TLS untrusted certificate",
			start: func(t *testing.T) []string {
				return []string{"PICSOAK_TARGET_URL=" + quietTLS(t).URL}
			},
			outcome: "conn_error", verdict: soak.VerdictFail, noLogs: []string{"INSECURE_SKIP_VERIFY"},
			check: func(t *testing.T, d *daemon) {
				for _, k := range faultKinds {
					last := d.lastResults(t)[k.String()]
					if last == nil || !strings.Contains(last.Errors["conn_error"], "certificate signed by unknown authority") {
						t.Errorf("%s: got last result %+v, want its example error to say the certificate is signed by an unknown authority", k, last)
					}
				}
			},
		},
		// Row 8: the explicit opt-in makes the same server ok, with a warning at start.
		{
			name: "TLS untrusted certificate, verification skipped",
			start: func(t *testing.T) []string {
				return []string{"PICSOAK_TARGET_URL=" + quietTLS(t).URL, "PICSOAK_TARGET_INSECURE_SKIP_VERIFY=true"}
			},
			outcome: "ok", verdict: soak.VerdictPass,
			logs: []string{`"level":"WARN","msg":"PICSOAK_TARGET_INSECURE_SKIP_VERIFY is set`},
		},
		// Row 10: PIC answers, its metrics endpoint answers garbage: the cycles pass
		// and say the resource samples are missing.
		{
			name: "PIC metrics endpoint answers garbage",
			start: func(t *testing.T) []string {
				pic := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
				t.Cleanup(pic.Close)
				garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "garbage {{{") }))
				t.Cleanup(garbage.Close)
				return []string{"PICSOAK_TARGET_URL=" + pic.URL, "PICSOAK_TARGET_METRICS_URL=" + garbage.URL}
			},
			outcome: "ok", verdict: soak.VerdictPass,
			check: func(t *testing.T, d *daemon) {
				for _, k := range faultKinds {
					last := d.lastResults(t)[k.String()]
					if last == nil || last.Resources == nil || len(last.Resources.Missing) == 0 {
						t.Errorf("%s: got last result %+v, want its resource samples reported missing", k, last)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := fastEnv(t, append([]string{"PICSOAK_BURST_SIZE=20", "PICSOAK_STREAMS_REQUESTS=5"}, tt.start(t)...)...)
			d := startDaemon(t, env)
			d.waitCycles(t, 1, faultKinds...)
			mfs := d.families(t)
			for _, o := range soak.Outcomes {
				got := counterSum(mfs["picsoak_requests_total"], "outcome", o.String())
				if o.String() == tt.outcome && got == 0 {
					t.Errorf("got no %s requests, want every request %s", o, tt.outcome)
				}
				if o.String() != tt.outcome && got != 0 {
					t.Errorf("got %g %s requests, want 0: every request is %s", got, o, tt.outcome)
				}
			}
			for _, k := range faultKinds {
				for _, v := range soak.Verdicts {
					got := 0.0
					for _, m := range mfs["picsoak_cycles_total"].GetMetric() {
						if labelsAre(m.GetLabel(), "cycle", k.String(), "verdict", string(v)) {
							got += m.GetCounter().GetValue()
						}
					}
					if (v == tt.verdict) != (got > 0) {
						t.Errorf("%s: got %g cycles with verdict %s, want verdict %s only", k, got, v, tt.verdict)
					}
				}
			}
			if tt.check != nil {
				tt.check(t, d)
			}
			d.answers(t)
			logs := d.stop(t)
			for _, want := range tt.logs {
				if !strings.Contains(logs, want) {
					t.Errorf("log lacks %s:\n%s", want, logs)
				}
			}
			for _, unwanted := range tt.noLogs {
				if strings.Contains(logs, unwanted) {
					t.Errorf("log has %s:\n%s", unwanted, logs)
				}
			}
		})
	}
}

func labelsAre(labels []*dto.LabelPair, kv ...string) bool {
	n := 0
	for _, l := range labels {
		for i := 0; i < len(kv); i += 2 {
			if l.GetName() == kv[i] && l.GetValue() == kv[i+1] {
				n++
			}
		}
	}
	return n == len(kv)/2
}

func quietTLS(t *testing.T) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes picsoak refuses
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// Row 12: reports cannot be written. The error is logged and counted, cycles go on,
// /metrics and /healthz answer, and no partial file is left behind.
func TestDaemonSurvivesUnwritableReportDir(t *testing.T) {
	tests := []struct {
		name string
		// dir returns the report directory and the command that starts the daemon.
		dir  func(t *testing.T) (string, *exec.Cmd)
		logs string
	}{
		// The directory cannot be created: its parent is a regular file (permissions
		// would not stop root, who runs the tests).
		{
			name: "path under a regular file",
			dir: func(t *testing.T) (string, *exec.Cmd) {
				file := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(file, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				return filepath.Join(file, "reports"), exec.Command(binary, "serve")
			},
			logs: "not a directory",
		},
		// Every write fails part way, as on a full disk: a file size limit of 1 KiB
		// (the Go runtime ignores SIGXFSZ, so writes fail with EFBIG instead).
		{
			name: "writes fail part way (disk full)",
			dir: func(t *testing.T) (string, *exec.Cmd) {
				return t.TempDir(), exec.Command("sh", "-c", `ulimit -f 2 && exec "$0" serve`, binary)
			},
			logs: "file too large",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, cmd := tt.dir(t)
			env := append(fastEnv(t), "PICSOAK_REPORT_DIR="+dir, // the last value wins
				"PICSOAK_SUSTAINED_SCHEDULE=off", "PICSOAK_BURST_SCHEDULE=off", "PICSOAK_STREAMS_SCHEDULE=@every 1s")
			d := startDaemonCmd(t, cmd, env)
			d.waitCycles(t, 3, soak.Streams)
			mfs := d.families(t)
			cycles := counterSum(mfs["picsoak_cycles_total"], "cycle", "streams")
			if got := mfs["picsoak_report_write_errors_total"].GetMetric()[0].GetCounter().GetValue(); got < cycles-1 {
				t.Errorf("got %g report write errors after %g cycles, want one per finished cycle", got, cycles)
			}
			if last := d.lastResults(t)["streams"]; last == nil || last.Verdict != soak.VerdictPass {
				t.Errorf("got last streams result %+v, want a passing one: a report that cannot be written fails nothing else", last)
			}
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				t.Errorf("report directory holds %v, want nothing: a failed write leaves no partial file", entries)
			}
			d.answers(t)
			logs := d.stop(t)
			for _, want := range []string{"cycle finished but its report could not be written", tt.logs} {
				if !strings.Contains(logs, want) {
					t.Errorf("log lacks %q:\n%s", want, logs)
				}
			}
		})
	}
}

// Row 11, SIGKILL: a daemon killed mid-cycle loses nothing it wrote before; restarted
// on the same directory it shows those results, skipping (and naming) a corrupt report
// and ignoring a temp file a crash could leave.
func TestSIGKILLMidCycleKeepsEveryEarlierReport(t *testing.T) {
	env := fastEnv(t, "PICSOAK_STREAMS_REQUESTS=1000000") // the streams cycle runs until killed
	dir := envValue(env, "PICSOAK_REPORT_DIR")
	d := startDaemon(t, env)
	waitFor(t, "the sustained and burst reports, and the streams cycle running", 60*time.Second, func() bool {
		d.answers(t)
		done, _ := filepath.Glob(filepath.Join(dir, "*.md"))
		return len(done) == 2 && counterSum(d.families(t)["picsoak_requests_total"], "cycle", "streams") > 0
	})
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done

	reports := map[string]*soak.Result{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			t.Errorf("found temp file %s, want none: the kill came between writes", name)
		}
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		res, err := report.Read(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("report %s after SIGKILL: %v, want it intact", name, err)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, strings.TrimSuffix(name, ".json")+".md")); err != nil {
			t.Errorf("report %s has no Markdown twin: %v", name, err)
		}
		reports[res.Cycle.String()] = res
	}
	if len(reports) != 2 || reports["sustained"] == nil || reports["burst"] == nil {
		t.Fatalf("got reports %v, want the sustained and the burst one", entries)
	}

	// What a failing disk or a crash between write and rename can leave.
	corrupt := filepath.Join(dir, "29990101T000000.000Z-burst.json")
	tempReport, _ := json.Marshal(&soak.Result{Cycle: soak.Streams, Start: time.Now(), Verdict: soak.VerdictFail})
	for path, data := range map[string][]byte{corrupt: []byte(`{"cycle": "burst", "sta`), filepath.Join(dir, ".tmp-3071234567"): tempReport} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	d = startDaemon(t, append(env, "PICSOAK_RUN_ON_START=false"))
	d.answers(t)
	last := d.lastResults(t)
	for kind, want := range reports {
		if got := last[kind]; got == nil || !got.Start.Equal(want.Start) || got.Verdict != want.Verdict {
			t.Errorf("%s after restart: got %+v, want the report of %s (%s)", kind, got, want.Start, want.Verdict)
		}
	}
	if last["streams"] != nil {
		t.Errorf("streams after restart: got %+v, want none: its only report is a temp file", last["streams"])
	}
	if code, page := d.get(t, "/"); code != 200 || !strings.Contains(page, reports["sustained"].Start.UTC().Format("20060102T150405")) {
		t.Errorf("status page = %d, want 200 linking the sustained report of %s", code, reports["sustained"].Start)
	}
	if logs := d.stop(t); !strings.Contains(logs, `"msg":"skipping unreadable report"`) || !strings.Contains(logs, corrupt) {
		t.Errorf("log does not warn of %s:\n%s", corrupt, logs)
	}
}
