package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// designFamilies are the metric families of DESIGN.md and metrics/metrics.go, as
// Prometheus stores them (histograms by their _bucket series), plus the runtime
// series the rules use and the simulator's own.
var designFamilies = []string{
	"picsoak_requests_total",
	"picsoak_responses_total",
	"picsoak_cycle_threshold",
	"picsoak_cycle_threshold_met",
	"picsoak_slo_objective_ratio",
	"picsoak_slo_latency_threshold_seconds",
	"picsoak_slo_latency_bucket_info",
	"picsoak_slo_window_seconds",
	"picsoak_request_duration_seconds_bucket",
	"picsoak_request_duration_seconds_sum",
	"picsoak_request_duration_seconds_count",
	"picsoak_cycles_total",
	"picsoak_cycles_skipped_total",
	"picsoak_report_write_errors_total",
	"picsoak_cycle_in_progress",
	"picsoak_cycle_success_ratio",
	"picsoak_cycle_min_success_ratio",
	"picsoak_cycle_throughput_rps",
	"picsoak_cycle_target_rps",
	"picsoak_cycle_latency_seconds",
	"picsoak_cycle_latency_seconds_sum",
	"picsoak_cycle_latency_seconds_count",
	"picsoak_cycle_duration_seconds",
	"picsoak_cycle_pass",
	"picsoak_cycle_last_end_timestamp_seconds",
	"picsoak_cycle_interval_seconds",
	"picsoak_cycle_generator_limited",
	"picsoak_generator_late_requests_total",
	"picsoak_sustained_throughput_change_ratio",
	"picsoak_sustained_p99_change_ratio",
	"picsoak_burst_rps",
	"picsoak_burst_duration_seconds",
	"picsoak_burst_recovery_seconds",
	"picsoak_burst_success_ratio",
	"picsoak_burst_rps_coefficient_of_variation",
	"picsoak_streams_throughput_rps",
	"picsoak_streams_p99_latency_seconds",
	"picsoak_streams_fairness_index",
	"picsoak_streams_slowest_to_median_ratio",
	"picsoak_streams_starved",
	"picsoak_target_resident_memory_bytes",
	"picsoak_target_goroutines",
	"picsoak_target_threads",
	"picsoak_target_cpu_seconds",
	"picsoak_target_memory_growth_bytes",
	"picsoak_target_goroutine_growth",
	"picsoak_target_resources_available",
	"picsoak_target_suspected_leak",
	"picsoak_build_info",
	"go_goroutines",
	"process_start_time_seconds", // PicsoakCycleStale falls back on it
	"picsim_requests_total",
}

// TestEndToEnd runs picsoak against its simulator, scraped by the real Prometheus
// with the real rule file and notifying the real Alertmanager, which posts to a
// webhook in this test. It injects a latency regression and then errors through
// the simulator, and checks that the alerts fire, reach the webhook and resolve;
// then it stops picsoak and checks that PicsoakDown fires.
func TestEndToEnd(t *testing.T) {
	promBin := RequireTool(t, "prometheus")
	amBin := RequireTool(t, "prometheus-alertmanager", "alertmanager")
	pgBin := RequireTool(t, "prometheus-pushgateway", "pushgateway")
	began := time.Now()
	t.Cleanup(func() { t.Logf("end-to-end test took %s", time.Since(began).Round(time.Second)) })

	root := RepoRoot(t)
	dir := t.TempDir()
	bin := buildPicsoak(t, root, dir)
	hook := newWebhook(t)

	simPort, soakPort, promPort, amPort, pgPort := FreePort(t), FreePort(t), FreePort(t), FreePort(t), FreePort(t)
	simAddr := fmt.Sprintf("127.0.0.1:%d", simPort)
	soakAddr := fmt.Sprintf("127.0.0.1:%d", soakPort)
	promAddr := fmt.Sprintf("127.0.0.1:%d", promPort)
	amAddr := fmt.Sprintf("127.0.0.1:%d", amPort)
	pgAddr := fmt.Sprintf("127.0.0.1:%d", pgPort)

	sim := Start(t, dir, "sim", bin, []string{"PICSOAK_SIM_LISTEN_ADDR=" + simAddr, "PICSOAK_LOG_FORMAT=text"}, "sim")
	WaitHTTP(t, "http://"+simAddr+"/healthz", 15*time.Second, sim)

	soak := Start(t, dir, "picsoak", bin, []string{
		"PICSOAK_LISTEN_ADDR=" + soakAddr,
		"PICSOAK_TARGET_URL=http://" + simAddr + "/events",
		"PICSOAK_TARGET_METRICS_URL=http://" + simAddr + "/metrics",
		"PICSOAK_TARGET_SETTLE_TIME=100ms",
		"PICSOAK_REPORT_DIR=" + filepath.Join(dir, "reports"),
		"PICSOAK_LOG_FORMAT=text",
		// Short cycles: a round of all three takes about 3s of every 5s, and about
		// 5s with 250ms of injected latency. 20 workers keep 50 req/s of 250ms
		// requests (12.5 in flight) from queueing in picsoak.
		"PICSOAK_SUSTAINED_SCHEDULE=@every 5s",
		"PICSOAK_SUSTAINED_DURATION=2s",
		"PICSOAK_SUSTAINED_RATE=50",
		"PICSOAK_SUSTAINED_WORKERS=20",
		"PICSOAK_BURST_SCHEDULE=@every 5s",
		"PICSOAK_BURST_COUNT=2",
		"PICSOAK_BURST_SIZE=50",
		"PICSOAK_BURST_COOLDOWN=200ms",
		"PICSOAK_STREAMS_SCHEDULE=@every 5s",
		"PICSOAK_STREAMS_COUNT=3",
		"PICSOAK_STREAMS_REQUESTS=6",
		// A latency bound and a latency SLO the 250ms fault below misses.
		"PICSOAK_SUSTAINED_THRESHOLDS=p99<=200ms",
		"PICSOAK_SLO_LATENCY=200ms@0.99",
	}, "serve")
	WaitHTTP(t, "http://"+soakAddr+"/readyz", 15*time.Second, soak)

	amCfg := writeAlertmanagerConfig(t, root, dir, hook.URL)
	am := Start(t, dir, "alertmanager", amBin, nil,
		"--config.file="+amCfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	WaitHTTP(t, "http://"+amAddr+"/-/ready", 20*time.Second, am)

	pg := Start(t, dir, "pushgateway", pgBin, nil,
		"--web.listen-address="+pgAddr, "--persistence.file="+filepath.Join(dir, "pushgateway"))
	WaitHTTP(t, "http://"+pgAddr+"/-/ready", 20*time.Second, pg)

	promCfg := writePrometheusConfig(t, root, dir, map[string]string{"picsoak": soakAddr, "pic": simAddr, "pushgateway": pgAddr}, amAddr)
	prom := Start(t, dir, "prometheus", promBin, nil,
		"--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr)
	WaitHTTP(t, "http://"+promAddr+"/-/ready", 30*time.Second, prom)
	t.Logf("stack up after %s: sim %s, picsoak %s, prometheus %s, alertmanager %s, pushgateway %s, webhook %s",
		time.Since(began).Round(100*time.Millisecond), simAddr, soakAddr, promAddr, amAddr, pgAddr, hook.URL)

	api := PromAPI{Base: "http://" + promAddr, Client: &http.Client{Timeout: 5 * time.Second}}
	stack := []*Process{sim, soak, am, prom, pg}
	control := func(t *testing.T, settings string) {
		t.Helper()
		setSim(t, "http://"+simAddr+"/control", settings)
	}

	t.Run("metric families in Prometheus", func(t *testing.T) {
		want := append(slices.Clone(designFamilies), exposedFamilies(t, "http://"+soakAddr+"/metrics")...)
		slices.Sort(want)
		want = slices.Compact(want)
		Eventually(t, "every metric family in Prometheus", 60*time.Second, time.Second, func() (bool, string) {
			names, err := api.MetricNames()
			if err != nil {
				return false, err.Error()
			}
			var missing []string
			for _, n := range want {
				if !slices.Contains(names, n) {
					missing = append(missing, n)
				}
			}
			return len(missing) == 0, fmt.Sprintf("got %d names, missing %v", len(names), missing)
		}, stack...)
	})

	// Batch runs: picsoak run pushes to the real Pushgateway, which Prometheus scrapes
	// with honor_labels; each run soaks its own built-in simulator. Early, so that the
	// batch recording rules have series to check below.
	runBatch := func(t *testing.T, gateway string, env ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, "run", "--cycle", "streams", "--progress", "off", "--pushgateway", gateway)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "PICSOAK_REPORT_DIR=" + t.TempDir(), "PICSOAK_LOG_FORMAT=text",
			"PICSOAK_STREAMS_COUNT=2", "PICSOAK_STREAMS_REQUESTS=5", "PICSOAK_TARGET_SETTLE_TIME=0s"}, env...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("picsoak run: %v", err)
		}
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
	t.Run("batch runs in Prometheus", func(t *testing.T) {
		if code, stderr := runBatch(t, "http://"+pgAddr, "PICSOAK_PUSH_INSTANCE=e2e"); code != 0 {
			t.Fatalf("passing run: exit %d, want 0; stderr:\n%s", code, stderr)
		}
		Eventually(t, "the passing run's metrics in Prometheus under job picsoak-run", 30*time.Second, time.Second, func() (bool, string) {
			pass, err1 := scalar(api, `picsoak_cycle_pass{job="picsoak-run",instance="e2e",shard="0",cycle="streams"}`)
			reqs, err2 := scalar(api, `sum(picsoak_requests_total{job="picsoak-run",instance="e2e",cycle="streams"})`)
			pushed, err3 := scalar(api, `push_time_seconds{job="picsoak-run",instance="e2e",shard="0"}`)
			return err1 == nil && err2 == nil && err3 == nil && pass == 1 && reqs == 10 && pushed > 0,
				fmt.Sprintf("got pass %v (%v), %v requests (%v), pushed at %v (%v); want 1, 10 and a push time", pass, err1, reqs, err2, pushed, err3)
		}, stack...)
		fault := time.Now()
		code, stderr := runBatch(t, "http://"+pgAddr, "PICSOAK_PUSH_JOB=picsoak-e2e-failing", "PICSOAK_PUSH_INSTANCE=e2e", "PICSOAK_SIM_ERROR_RATIO=1")
		if code != 1 {
			t.Fatalf("failing run: exit %d, want 1; stderr:\n%s", code, stderr)
		}
		waitAlert(t, api, hook, "PicsoakBatchRunFailed", labels{"job": "picsoak-e2e-failing", "instance": "e2e"}, fault, stack)
		logQuery(t, api, `job:picsoak_run_pass:min`)
	})

	t.Run("push to a Pushgateway that is down", func(t *testing.T) {
		down := fmt.Sprintf("http://u:push-secret@127.0.0.1:%d", FreePort(t))
		code, stderr := runBatch(t, down, "PICSOAK_PUSH_INSTANCE=e2e-down")
		if code != 1 || !strings.Contains(stderr, "pushing the run's metrics to the Pushgateway http://u:xxxxx@127.0.0.1:") || strings.Contains(stderr, "push-secret") {
			t.Errorf("exit %d, stderr:\n%s\nwant 1 and a message naming the Pushgateway, its password redacted", code, stderr)
		}
	})

	t.Run("rules healthy", func(t *testing.T) {
		want := ruleNames(t, filepath.Join(root, "alerts", "picsoak.rules.yml"))
		Eventually(t, "every rule healthy and every recording rule recording", 30*time.Second, time.Second, func() (bool, string) {
			rules, err := api.Rules()
			if err != nil {
				return false, err.Error()
			}
			var got []string
			for _, r := range rules {
				got = append(got, r.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				return false, fmt.Sprintf("got rules %v, want those of alerts/picsoak.rules.yml: %v", got, want)
			}
			for _, r := range rules {
				if r.Health != "ok" {
					return false, fmt.Sprintf("rule %s: got health %q (%s), want ok", r.Name, r.Health, r.LastError)
				}
				if r.Type != "recording" {
					continue
				}
				s, err := api.Query(r.Name)
				if err != nil {
					return false, err.Error()
				}
				if len(s) == 0 {
					return false, fmt.Sprintf("recording rule %s: got no series, want one per cycle", r.Name)
				}
			}
			return true, ""
		}, stack...)
	})

	// The baselines are medians over everything recorded: a healthy stretch longer
	// than the injected faults keeps them healthy.
	t.Run("healthy baseline", func(t *testing.T) {
		Eventually(t, "4 passing sustained cycles", 60*time.Second, time.Second, func() (bool, string) {
			v, err := scalar(api, `sum(picsoak_cycles_total{job="picsoak",cycle="sustained",verdict="pass"})`)
			return err == nil && v >= 4, fmt.Sprintf("got %v passing cycles (err %v), want 4", v, err)
		}, stack...)
		logQuery(t, api, `instance_cycle:picsoak_cycle_latency_p99_seconds:median_7d`)
		logQuery(t, api, `instance_cycle:picsoak_cycle_throughput_rps:median_7d`)
	})

	sustained := labels{"cycle": "sustained"}
	p99Missed := labels{"cycle": "sustained", "metric": "p99"}
	successMissed := labels{"cycle": "sustained", "metric": "success"}
	t.Run("latency regression alerts", func(t *testing.T) {
		// On a loaded machine one slow cycle can fire the alert before any fault;
		// it must be quiet first so that the firing below is the fault's.
		waitQuiet(t, api, "PicsoakLatencyP99Regression", sustained, stack)
		waitQuiet(t, api, "PicsoakThresholdMissed", sustained, stack)
		// Far above the p99 of a busy CI machine, so twice the baseline is crossed
		// even when the baseline itself is inflated by load; and above the sustained
		// cycle's p99<=200ms threshold and the latency SLO's 200ms, while every
		// request still answers 200.
		fault := time.Now()
		control(t, `{"latency":"250ms"}`)
		waitAlert(t, api, hook, "PicsoakLatencyP99Regression", sustained, fault, stack)
		waitAlert(t, api, hook, "PicsoakThresholdMissed", p99Missed, fault, stack)
		// The latency SLI falls: the recorded 15-minute error ratio rises, and the
		// share of requests within the threshold over the last seconds drops under
		// the objective.
		Eventually(t, "latency SLI falls", 60*time.Second, time.Second, func() (bool, string) {
			bad, err1 := scalar(api, `picsoak:slo_errors:ratio_rate15m{job="picsoak",slo="latency"}`)
			good, err2 := scalar(api, latencySLI)
			return err1 == nil && err2 == nil && bad > 0 && good < 0.99, fmt.Sprintf("got a 15m error ratio of %v (%v) and an SLI of %v (%v), want > 0 and < 0.99", bad, err1, good, err2)
		}, stack...)
	})

	t.Run("latency restored", func(t *testing.T) {
		restored := time.Now()
		control(t, `{"latency":"2ms"}`)
		waitResolved(t, api, hook, "PicsoakThresholdMissed", p99Missed, restored, stack)
		Eventually(t, "latency SLI back within its objective", 60*time.Second, time.Second, func() (bool, string) {
			good, err := scalar(api, latencySLI)
			return err == nil && good >= 0.99, fmt.Sprintf("got an SLI of %v (%v), want >= 0.99", good, err)
		}, stack...)
	})

	t.Run("success ratio alerts", func(t *testing.T) {
		waitQuiet(t, api, "PicsoakThresholdMissed", successMissed, stack)
		fault := time.Now()
		control(t, `{"error_ratio":1}`)
		waitAlert(t, api, hook, "PicsoakThresholdMissed", successMissed, fault, stack)
	})

	t.Run("alerts resolve", func(t *testing.T) {
		restored := time.Now()
		control(t, `{"error_ratio":0}`)
		waitResolved(t, api, hook, "PicsoakLatencyP99Regression", sustained, began, stack)
		waitResolved(t, api, hook, "PicsoakThresholdMissed", successMissed, restored, stack)
	})

	// Late in the test, so that panels on alerts or failures have data too.
	t.Run("dashboard panels return series", func(t *testing.T) {
		checkDashboards(t, api, filepath.Join(root, "dashboards"), began)
	})

	t.Run("picsoak down alerts", func(t *testing.T) {
		fault := time.Now()
		if err := soak.Stop(15 * time.Second); err != nil {
			t.Fatalf("stop picsoak: got %v, want a clean exit on SIGTERM", err)
		}
		t.Logf("picsoak (pid %d) stopped: %v", soak.Cmd.Process.Pid, soak.Cmd.ProcessState)
		waitAlert(t, api, hook, "PicsoakDown", nil, fault, []*Process{sim, am, prom})
	})
}

// buildPicsoak builds the binary under test into dir.
func buildPicsoak(t *testing.T, root, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go: got %v, want the go command in PATH to build picsoak", err)
	}
	bin := filepath.Join(dir, "picsoak")
	start := time.Now()
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/picsoak")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/picsoak: got %v, want success; output:\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(100*time.Millisecond))
	return bin
}

// writePrometheusConfig writes deploy/prometheus/prometheus.yml with the test's
// addresses, 1s intervals, and its rule file pattern applied to alerts/: the
// production rules, loaded the way compose loads them.
func writePrometheusConfig(t *testing.T, root, dir string, targets map[string]string, amAddr string) string {
	t.Helper()
	var cfg map[string]any
	ReadYAML(t, filepath.Join(root, "deploy", "prometheus", "prometheus.yml"), &cfg)
	global := cfg["global"].(map[string]any)
	global["scrape_interval"], global["evaluation_interval"] = "1s", "1s"

	var rules []any
	for _, f := range cfg["rule_files"].([]any) {
		rules = append(rules, filepath.Join(root, "alerts", path.Base(f.(string))))
	}
	cfg["rule_files"] = rules

	for _, sc := range cfg["scrape_configs"].([]any) {
		sc := sc.(map[string]any)
		job := sc["job_name"].(string)
		addr, ok := targets[job]
		if !ok {
			t.Fatalf("deploy/prometheus/prometheus.yml job %q: got no test address for it, want one of %v (add it to the e2e test)", job, targets)
		}
		sc["static_configs"] = []any{map[string]any{"targets": []any{addr}}}
	}
	am := cfg["alerting"].(map[string]any)["alertmanagers"].([]any)
	if len(am) != 1 {
		t.Fatalf("alertmanagers: got %d, want 1", len(am))
	}
	am[0].(map[string]any)["static_configs"] = []any{map[string]any{"targets": []any{amAddr}}}
	return writeYAML(t, filepath.Join(dir, "prometheus.yml"), cfg)
}

// writeAlertmanagerConfig writes deploy/alertmanager/alertmanager.yml with 1s
// grouping, a long repeat interval and every webhook pointed at url.
func writeAlertmanagerConfig(t *testing.T, root, dir, url string) string {
	t.Helper()
	var cfg map[string]any
	ReadYAML(t, filepath.Join(root, "deploy", "alertmanager", "alertmanager.yml"), &cfg)
	var fix func(r map[string]any)
	fix = func(r map[string]any) {
		for k, v := range map[string]string{"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"} {
			if _, ok := r[k]; ok {
				r[k] = v
			}
		}
		routes, _ := r["routes"].([]any)
		for _, sub := range routes {
			fix(sub.(map[string]any))
		}
	}
	fix(cfg["route"].(map[string]any))
	for _, rc := range cfg["receivers"].([]any) {
		rc := rc.(map[string]any)
		for k := range rc {
			if k != "name" && k != "webhook_configs" {
				t.Fatalf("receiver %v has %s: got a receiver the test cannot redirect, want webhook_configs only", rc["name"], k)
			}
		}
		hooks, _ := rc["webhook_configs"].([]any)
		for _, h := range hooks {
			h.(map[string]any)["url"] = url
		}
	}
	return writeYAML(t, filepath.Join(dir, "alertmanager.yml"), cfg)
}

// ruleNames lists, sorted, the record and alert names of a rule file.
func ruleNames(t *testing.T, file string) []string {
	t.Helper()
	var rf struct {
		Groups []struct {
			Rules []struct {
				Record string `yaml:"record"`
				Alert  string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	ReadYAML(t, file, &rf)
	var names []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Record+r.Alert)
		}
	}
	slices.Sort(names)
	return names
}

func writeYAML(t *testing.T, file string, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// exposedFamilies lists the families picsoak exposes now, named as Prometheus
// stores them, so a metric added later is checked without editing this test.
func exposedFamilies(t *testing.T, url string) []string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	var names []string
	for name, f := range fams {
		if len(f.GetMetric()) == 0 {
			continue
		}
		if f.GetType().String() == "HISTOGRAM" {
			name += "_bucket"
		}
		names = append(names, name)
	}
	return names
}

func setSim(t *testing.T, url, settings string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(settings))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", url, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s %s: got status %d (%s), want 200", url, settings, resp.StatusCode, body.String())
	}
	t.Logf("simulator now: %s", strings.TrimSpace(body.String()))
}

// labels selects alerts by label values; nil selects every alert of a name.
type labels map[string]string

func (l labels) match(got map[string]string) bool {
	for k, v := range l {
		if got[k] != v {
			return false
		}
	}
	return true
}

// waitQuiet waits until no alertname with sel's labels is pending or firing in
// Prometheus.
func waitQuiet(t *testing.T, api PromAPI, alertname string, sel labels, watch []*Process) {
	t.Helper()
	Eventually(t, alertname+" quiet before the fault", 60*time.Second, 500*time.Millisecond, func() (bool, string) {
		alerts, err := api.Alerts()
		if err != nil {
			return false, err.Error()
		}
		if a := findAlert(alerts, alertname, sel); a != nil {
			return false, fmt.Sprintf("got %s %s since %s (%s), want it quiet", alertname, a.State, a.ActiveAt.Format(time.TimeOnly), a.Annotations["description"])
		}
		return true, ""
	}, watch...)
}

// waitAlert waits for alertname with sel's labels to become active after since, to
// fire in Prometheus and to reach the webhook as firing after since.
func waitAlert(t *testing.T, api PromAPI, hook *webhook, alertname string, sel labels, since time.Time, watch []*Process) {
	t.Helper()
	var fired *Alert
	Eventually(t, alertname+" firing in Prometheus", 60*time.Second, 500*time.Millisecond, func() (bool, string) {
		alerts, err := api.Alerts()
		if err != nil {
			return false, err.Error()
		}
		fired = findAlert(alerts, alertname, sel)
		if fired != nil && fired.State == "firing" && !fired.ActiveAt.Before(since.Truncate(time.Second)) {
			return true, ""
		}
		return false, "got alerts " + alertList(alerts)
	}, watch...)
	t.Logf("%s firing: labels %v, value %s, active since %s, description: %s", alertname, fired.Labels, fired.Value,
		fired.ActiveAt.Sub(since).Round(100*time.Millisecond), fired.Annotations["description"])
	Eventually(t, alertname+" at the webhook", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		return hook.has(alertname, sel, "firing", since), "received: " + hook.summary()
	}, watch...)
	t.Logf("%s: firing and notified %s after the fault", alertname, time.Since(since).Round(100*time.Millisecond))
}

// waitResolved waits for alertname with sel's labels to leave Prometheus and to
// reach the webhook as resolved after since.
func waitResolved(t *testing.T, api PromAPI, hook *webhook, alertname string, sel labels, since time.Time, watch []*Process) {
	t.Helper()
	Eventually(t, alertname+" resolved in Prometheus and at the webhook", 60*time.Second, 500*time.Millisecond, func() (bool, string) {
		alerts, err := api.Alerts()
		if err != nil {
			return false, err.Error()
		}
		if a := findAlert(alerts, alertname, sel); a != nil {
			return false, fmt.Sprintf("got %s %s in Prometheus, want it gone", alertname, a.State)
		}
		return hook.has(alertname, sel, "resolved", since), "got no resolved notification at the webhook yet; received: " + hook.summary()
	}, watch...)
}

// latencySLI is the share of the last 20 seconds' requests answered within the
// latency SLO's threshold, selected as the recording rules select it.
const latencySLI = `sum(rate(picsoak_request_duration_seconds_bucket{job="picsoak",cycle!="capacity"}[20s]) and on (job, instance, le) label_replace(picsoak_slo_latency_bucket_info, "le", "$1", "bucket", "(.+)")) / sum(rate(picsoak_request_duration_seconds_count{job="picsoak",cycle!="capacity"}[20s]))`

func findAlert(alerts []Alert, name string, sel labels) *Alert {
	for i, a := range alerts {
		if a.Labels["alertname"] == name && sel.match(a.Labels) {
			return &alerts[i]
		}
	}
	return nil
}

func alertList(alerts []Alert) string {
	var s []string
	for _, a := range alerts {
		s = append(s, fmt.Sprintf("%s{cycle=%q,metric=%q,slo=%q}=%s", a.Labels["alertname"], a.Labels["cycle"], a.Labels["metric"], a.Labels["slo"], a.State))
	}
	sort.Strings(s)
	return "[" + strings.Join(s, " ") + "]"
}

func scalar(api PromAPI, expr string) (float64, error) {
	s, err := api.Query(expr)
	if err != nil {
		return 0, err
	}
	if len(s) != 1 {
		return 0, fmt.Errorf("%s: got %d series, want 1", expr, len(s))
	}
	var v float64
	_, err = fmt.Sscan(s[0].Value[1].(string), &v)
	return v, err
}

func logQuery(t *testing.T, api PromAPI, expr string) {
	t.Helper()
	s, err := api.Query(expr)
	if err != nil {
		t.Logf("%s: %v", expr, err)
		return
	}
	for _, x := range s {
		t.Logf("%s{cycle=%q} = %v", expr, x.Metric["cycle"], x.Value[1])
	}
}

// webhook is an Alertmanager webhook receiver that records every alert of every
// notification.
type webhook struct {
	*httptest.Server
	mu     sync.Mutex
	events []hookEvent
}

type hookEvent struct {
	labels map[string]string
	status string
	at     time.Time
}

func newWebhook(t *testing.T) *webhook {
	t.Helper()
	w := &webhook{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []struct {
				Status string            `json:"status"`
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			t.Errorf("webhook: got undecodable notification: %v", err)
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, a := range msg.Alerts {
			e := hookEvent{a.Labels, a.Status, time.Now()}
			w.events = append(w.events, e)
			t.Logf("webhook: %s %s", e.name(), e.status)
		}
	}))
	t.Cleanup(w.Close)
	return w
}

// name is the alert's name with the labels that tell its instances apart.
func (e hookEvent) name() string {
	var s []string
	for _, k := range []string{"cycle", "metric", "op", "slo"} {
		if v, ok := e.labels[k]; ok {
			s = append(s, fmt.Sprintf("%s=%q", k, v))
		}
	}
	return e.labels["alertname"] + "{" + strings.Join(s, ",") + "}"
}

// has reports whether alertname with sel's labels arrived with status after since.
func (w *webhook) has(alertname string, sel labels, status string, since time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.events {
		if e.labels["alertname"] == alertname && sel.match(e.labels) && e.status == status && e.at.After(since) {
			return true
		}
	}
	return false
}

func (w *webhook) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]bool{}
	var s []string
	for _, e := range w.events {
		k := e.name() + "=" + e.status
		if !seen[k] {
			seen[k] = true
			s = append(s, k)
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

// checkDashboards runs every panel expression of every dashboard over the test so
// far and requires at least one series from each.
func checkDashboards(t *testing.T, api PromAPI, dir string, since time.Time) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("dashboards: got no %s/*.json, want the Grafana dashboards to check", dir)
	}
	for _, f := range files {
		var d dashboard
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Errorf("%s: got invalid JSON: %v", filepath.Base(f), err)
			continue
		}
		exprs := d.exprs()
		if len(exprs) == 0 {
			t.Errorf("%s: got no panel expressions, want some", filepath.Base(f))
		}
		for _, pe := range exprs {
			q := d.substitute(t, api, pe.expr)
			s, err := api.QueryRange(q, since, time.Now(), time.Second)
			switch {
			case err != nil:
				t.Errorf("%s panel %q: %s: got error %v", filepath.Base(f), pe.panel, q, err)
			case len(s) == 0:
				t.Errorf("%s panel %q: %s: got no series, want at least one", filepath.Base(f), pe.panel, q)
			}
		}
		t.Logf("%s: %d panel expressions checked", filepath.Base(f), len(exprs))
	}
}

// dashboard is the part of a Grafana dashboard the check reads.
type dashboard struct {
	Panels     []panel `json:"panels"`
	Rows       []panel `json:"rows"` // schemas before rows became panels
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Query      any    `json:"query"`
			IncludeAll bool   `json:"includeAll"`
			Multi      bool   `json:"multi"`
			Current    struct {
				Value any `json:"value"`
			} `json:"current"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
		Hide bool   `json:"hide"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // collapsed rows hold their panels
}

type panelExpr struct{ panel, expr string }

func (d dashboard) exprs() []panelExpr {
	var out []panelExpr
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				if tg.Expr != "" && !tg.Hide {
					out = append(out, panelExpr{p.Title, tg.Expr})
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	walk(d.Rows)
	return out
}

// substitute replaces Grafana's interval variables with fixed values and each
// template variable with ".*" where it is matched as a regex, or with a real value
// of the label of the same name elsewhere.
func (d dashboard) substitute(t *testing.T, api PromAPI, expr string) string {
	expr = strings.NewReplacer("$__rate_interval", "1m", "${__rate_interval}", "1m",
		"$__interval", "1s", "${__interval}", "1s", "$__range", "5m", "${__range}", "5m").Replace(expr)
	for _, v := range d.Templating.List {
		ref := `\$(?:` + regexp.QuoteMeta(v.Name) + `\b|\{` + regexp.QuoteMeta(v.Name) + `(?::\w+)?\})`
		expr = regexp.MustCompile(`(=~\s*")`+ref).ReplaceAllString(expr, `${1}.*`)
		if !regexp.MustCompile(ref).MatchString(expr) {
			continue
		}
		value := ".*"
		if s, ok := v.Current.Value.(string); ok && s != "" && s != "$__all" {
			value = s
		} else if vals, err := api.LabelValues(v.Name); err == nil && len(vals) > 0 {
			value = vals[0]
		}
		expr = regexp.MustCompile(ref).ReplaceAllLiteralString(expr, value)
	}
	return expr
}
