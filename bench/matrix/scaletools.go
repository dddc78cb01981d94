package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/report"
)

// level is one row of the scale stage: requests in flight and what it takes to keep
// them so against the slow target.
type level struct {
	inFlight int
	delay    time.Duration // the target's
	duration time.Duration
	// workers is what each generator gets to hold inFlight requests: picsoak's
	// workers, fortio's connections, vegeta's most workers and connections, k6's VUs;
	// inFlight × the headroom, the same for every generator.
	workers int
	url     string
}

// rate is the arrival rate that keeps inFlight requests in flight: rate × delay.
func (l level) rate() float64 { return float64(l.inFlight) / l.delay.Seconds() }

// timeout is every generator's request timeout: well past the delay, so a slow reply
// is counted late rather than as an error.
func (l level) timeout() time.Duration { return max(5*time.Second, 3*l.delay) }

// toolResult is what a generator said of one run, from its own output.
type toolResult struct {
	requests float64 // requests it completed or gave up on
	errors   float64 // of those, the ones that were not a 200
	// example is one of its error messages, or a count by status.
	example string
	rate    float64 // achieved arrival rate, req/s, as the tool counts it
	p99     float64 // seconds, from each request's actual send
	p99Due  float64 // seconds, from each request's intended start; 0 when the tool does not measure it
	// p99Steady is picsoak's p99 from the intended start over the last third of the
	// run, its connections long open; 0 for the others.
	p99Steady float64
}

// toolCmd is how one generator runs one level: its arguments and environment, what
// it reads on stdin, and how its output is read once it exited.
type toolCmd struct {
	args  []string
	env   []string
	stdin string
	read  func() (toolResult, error)
}

// scaleTool builds a generator's command for a level, with dir its own scratch
// directory.
type scaleTool func(l level, dir string) (toolCmd, error)

// picsoakScale runs `picsoak run` with the sustained cycle alone, no thresholds of
// its own (the bench judges the run) and no settle time.
func picsoakScale(l level, dir string) (toolCmd, error) {
	reports := filepath.Join(dir, "reports")
	return toolCmd{
		args: []string{"run", "--progress", "off"},
		env:  picsoakScaleEnv(l, reports),
		read: func() (toolResult, error) { return readPicsoakReport(reports) },
	}, nil
}

// picsoakScaleEnv is the configuration of the scale stage's sustained cycle.
func picsoakScaleEnv(l level, reports string) []string {
	return []string{
		"PICSOAK_TARGET_URL=" + l.url, "PICSOAK_REPORT_DIR=" + reports, "PICSOAK_LOG_LEVEL=error",
		"PICSOAK_TARGET_SETTLE_TIME=0s", "PICSOAK_TARGET_TIMEOUT=" + l.timeout().String(),
		"PICSOAK_BURST_SCHEDULE=off", "PICSOAK_STREAMS_SCHEDULE=off", "PICSOAK_CAPACITY_SCHEDULE=off",
		"PICSOAK_SUSTAINED_RATE=" + strconv.FormatFloat(l.rate(), 'f', -1, 64),
		"PICSOAK_SUSTAINED_DURATION=" + l.duration.String(),
		"PICSOAK_SUSTAINED_WORKERS=" + strconv.Itoa(l.workers),
		"PICSOAK_SUSTAINED_THRESHOLDS=none", "PICSOAK_SUSTAINED_MIN_SUCCESS_RATIO=0",
	}
}

// readPicsoakReport reads the one sustained cycle report in reports.
func readPicsoakReport(reports string) (toolResult, error) {
	paths, _ := filepath.Glob(filepath.Join(reports, "*.json"))
	if len(paths) != 1 {
		return toolResult{}, fmt.Errorf("picsoak wrote %d reports, want 1", len(paths))
	}
	r, err := report.Read(paths[0])
	if err != nil {
		return toolResult{}, err
	}
	return picsoakResult(r)
}

func picsoakResult(r *soak.Result) (toolResult, error) {
	if r.Sustained == nil || r.ServiceTime == nil {
		return toolResult{}, errors.New("picsoak report: no sustained detail or service time")
	}
	total := float64(r.Requests.Total())
	res := toolResult{
		requests:  total,
		errors:    total - float64(r.Requests[soak.OutcomeOK]),
		rate:      r.Sustained.AchievedRateRPS,
		p99:       r.ServiceTime.Quantile(0.99),
		p99Due:    r.Latency.Quantile(0.99),
		p99Steady: r.Sustained.LastThird.P99Seconds,
	}
	if res.errors > 0 {
		res.example = firstError(r.Errors, r.Codes)
	}
	return res, nil
}

// firstError is an example error message of a picsoak report, or its status counts.
func firstError(examples map[string]string, codes map[string]int64) string {
	for _, k := range slices.Sorted(maps.Keys(examples)) {
		return k + ": " + examples[k]
	}
	return fmt.Sprint(codes)
}

// parseFile reads a generator's summary file and parses it for a run of duration.
func parseFile(path string, duration time.Duration, parse func([]byte, time.Duration) (toolResult, error)) (toolResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return toolResult{}, err
	}
	return parse(b, duration)
}

// fortioScale runs fortio's open model: -uniform spreads the connections' schedules
// as picsoak's pacer spreads requests. -offset and -r put the histogram's fine buckets
// just above the delay, where every reply falls (fortio's buckets are 10 – 100 % wide
// elsewhere, which would make a p99 of 1.003 s read 1.5 s).
func fortioScale(l level, dir string) (toolCmd, error) {
	out := filepath.Join(dir, "fortio.json")
	return toolCmd{
		args: []string{"load", "-quiet", "-uniform", "-qps", strconv.FormatFloat(l.rate(), 'f', -1, 64),
			"-c", strconv.Itoa(l.workers), "-t", l.duration.String(), "-timeout", l.timeout().String(),
			"-offset", l.delay.String(), "-r", "0.0001", "-p", "99", "-json", out, l.url},
		read: func() (toolResult, error) { return parseFile(out, l.duration, parseFortio) },
	}, nil
}

// fortioPlan is the requests a level asks for and those fortio plans: qps × duration
// ÷ connections each, rounded down.
func fortioPlan(l level) (want, plans float64) {
	want = l.rate() * l.duration.Seconds()
	return want, math.Floor(want/float64(l.workers)) * float64(l.workers)
}

// parseFortio reads fortio's -json output. fortio's ActualQPS divides by the whole
// run, the wait for the last replies included (a delay more than the duration); the
// achieved arrival rate is the requests over the configured duration, within which
// fortio starts them all.
func parseFortio(b []byte, duration time.Duration) (toolResult, error) {
	var f fortioResult
	if err := json.Unmarshal(b, &f); err != nil {
		return toolResult{}, fmt.Errorf("fortio json: %w", err)
	}
	n := f.DurationHistogram.Count
	res := toolResult{requests: n, rate: n / duration.Seconds(), errors: n - f.RetCodes["200"]}
	for _, p := range f.DurationHistogram.Percentiles {
		if p.Percentile == 99 {
			res.p99 = p.Value
		}
	}
	if res.errors > 0 {
		res.example = fmt.Sprintf("status counts %v (-1: no reply)", f.RetCodes)
	}
	return res, nil
}

// vegetaScale runs vegeta's attack at the rate; it starts workers as it needs them,
// up to -max-workers, each with a connection of its own.
func vegetaScale(l level, dir string) (toolCmd, error) {
	results := filepath.Join(dir, "vegeta.bin")
	n := strconv.Itoa(l.workers)
	return toolCmd{
		args: []string{"attack", "-rate=" + strconv.Itoa(l.inFlight) + "/" + l.delay.String(), "-duration=" + l.duration.String(),
			"-timeout=" + l.timeout().String(), "-max-workers=" + n, "-connections=" + n, "-output=" + results},
		stdin: "GET " + l.url + "\n",
		read: func() (toolResult, error) {
			// vegeta report is a process of its own, after the measured one.
			out, err := execOutput(*vegetaBin, "report", "-type=json", results)
			if err != nil {
				return toolResult{}, fmt.Errorf("vegeta report: %w", err)
			}
			return parseVegetaReport(out)
		},
	}, nil
}

// vegetaReport is the part of `vegeta report -type=json` read here; durations in ns.
type vegetaReport struct {
	Latencies struct {
		P99 float64 `json:"99th"`
	} `json:"latencies"`
	Requests    float64            `json:"requests"`
	Rate        float64            `json:"rate"`
	Success     float64            `json:"success"`
	StatusCodes map[string]float64 `json:"status_codes"`
	Errors      []string           `json:"errors"`
}

func parseVegetaReport(b []byte) (toolResult, error) {
	var v vegetaReport
	if err := json.Unmarshal(b, &v); err != nil {
		return toolResult{}, fmt.Errorf("vegeta report json: %w", err)
	}
	res := toolResult{requests: v.Requests, rate: v.Rate, p99: v.Latencies.P99 / 1e9, errors: v.Requests - v.StatusCodes["200"]}
	if res.errors > 0 {
		res.example = fmt.Sprintf("status counts %v (0: no reply)", v.StatusCodes)
		if len(v.Errors) > 0 {
			res.example += "; " + v.Errors[0]
		}
	}
	return res, nil
}

// k6Scale runs k6's constant-arrival-rate executor with every VU allocated up front,
// as many as the other generators' workers; the summary goes to a JSON file.
// --no-usage-report: k6 would otherwise report the run to Grafana over the internet.
func k6Scale(l level, dir string) (toolCmd, error) {
	script, summary := filepath.Join(dir, "scale.js"), filepath.Join(dir, "k6-summary.json")
	if err := os.WriteFile(script, []byte(k6Script(l)), 0o644); err != nil {
		return toolCmd{}, err
	}
	return toolCmd{
		args: []string{"run", "--quiet", "--no-color", "--no-usage-report", "--no-thresholds", "--address", "127.0.0.1:0",
			"--summary-trend-stats", "p(99),count", "--summary-export", summary, script},
		read: func() (toolResult, error) { return parseFile(summary, l.duration, parseK6Summary) },
	}, nil
}

// k6Script is the scale stage's k6 test: l.inFlight iterations every l.delay (k6's
// rate per timeUnit, exact whatever the delay), one GET each, bodies discarded as
// the other generators discard them.
func k6Script(l level) string {
	return fmt.Sprintf(`import http from 'k6/http';

export const options = {
  discardResponseBodies: true,
  scenarios: {
    scale: {
      executor: 'constant-arrival-rate',
      rate: %d,
      timeUnit: '%dms',
      duration: '%dms',
      preAllocatedVUs: %d,
      maxVUs: %d,
      gracefulStop: '%dms',
    },
  },
};

export default function () {
  http.get('%s', { timeout: '%dms' });
}
`, l.inFlight, l.delay.Milliseconds(), l.duration.Milliseconds(), l.workers, l.workers, (2 * l.timeout()).Milliseconds(), l.url, l.timeout().Milliseconds())
}

// k6Summary is the part of k6's --summary-export file read here: durations in ms;
// for a rate metric such as http_req_failed, passes counts the true values (the
// failed requests).
type k6Summary struct {
	Metrics struct {
		HTTPReqs struct {
			Count float64 `json:"count"`
		} `json:"http_reqs"`
		Duration struct {
			P99 *float64 `json:"p(99)"`
		} `json:"http_req_duration"`
		Failed struct {
			Passes float64 `json:"passes"`
		} `json:"http_req_failed"`
		Dropped struct {
			Count float64 `json:"count"`
		} `json:"dropped_iterations"`
	} `json:"metrics"`
}

// parseK6Summary reads k6's summary export. k6's own http_reqs rate divides by the
// whole test, the wait for the last replies included; the achieved arrival rate is
// the requests over the scenario's duration, as the requests all started within it.
func parseK6Summary(b []byte, duration time.Duration) (toolResult, error) {
	var s k6Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return toolResult{}, fmt.Errorf("k6 summary json: %w", err)
	}
	m := s.Metrics
	if m.Duration.P99 == nil {
		return toolResult{}, errors.New("k6 summary: no p(99) of http_req_duration")
	}
	res := toolResult{requests: m.HTTPReqs.Count, errors: m.Failed.Passes, rate: m.HTTPReqs.Count / duration.Seconds(), p99: *m.Duration.P99 / 1e3}
	if res.errors > 0 {
		res.example = fmt.Sprintf("%.0f requests failed", res.errors)
	}
	if m.Dropped.Count > 0 {
		res.example = strings.TrimPrefix(res.example+fmt.Sprintf("; %.0f iterations dropped (no VU free)", m.Dropped.Count), "; ")
	}
	return res, nil
}

// roundUp is x × f rounded up.
func roundUp(x int, f float64) int { return int(math.Ceil(float64(x) * f)) }
