package main

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picsoak/picsoak/soak"
)

// The fixtures in testdata are the generators' own output: each at 50 in flight
// against the slow target (1 s delay, 6 s), and vegeta and k6 against a closed port.

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) }

func TestParseToolOutputs(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const d = 6 * time.Second
	for _, c := range []struct {
		name  string
		parse func() (toolResult, error)
		want  toolResult
		// example holds what the error example must say; empty: no example.
		example string
	}{
		// 300 requests in 6 s, every one a 200; the p99 from fortio's fine buckets above -offset.
		{"fortio", func() (toolResult, error) { return parseFortio(read("fortio-50.json"), d) },
			toolResult{requests: 300, rate: 50, p99: 1.0025}, ""},
		// vegeta's rate is its own: requests over the span from the first to the last.
		{"vegeta", func() (toolResult, error) { return parseVegetaReport(read("vegeta-50.json")) },
			toolResult{requests: 300, rate: 50.16314063285034, p99: 1.00454458}, ""},
		// Refused connections are status 0: errors, with vegeta's message.
		{"vegeta, connection refused", func() (toolResult, error) { return parseVegetaReport(read("vegeta-refused.json")) },
			toolResult{requests: 10, errors: 10, rate: 5.5566365004020595, p99: 0.000736502}, "connection refused"},
		// k6 started 301 iterations in 6 s (one at 0 s); ms become seconds.
		{"k6", func() (toolResult, error) { return parseK6Summary(read("k6-50.json"), d) },
			toolResult{requests: 301, rate: 301.0 / 6, p99: 1.002519698}, ""},
		// http_req_failed's passes are the failed requests.
		{"k6, connection refused", func() (toolResult, error) { return parseK6Summary(read("k6-refused.json"), 2*time.Second) },
			toolResult{requests: 11, errors: 11, rate: 5.5}, "11 requests failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.parse()
			if err != nil {
				t.Fatal(err)
			}
			if !near(got.requests, c.want.requests) || !near(got.errors, c.want.errors) || !near(got.rate, c.want.rate) || !near(got.p99, c.want.p99) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if (c.example == "") != (got.example == "") || !strings.Contains(got.example, c.example) {
				t.Errorf("example %q, want one saying %q", got.example, c.example)
			}
		})
	}
}

func TestParseToolOutputsRejectsOtherFiles(t *testing.T) {
	// A summary without the trend's p(99) (--summary-trend-stats not given) would read as 0 s.
	if _, err := parseK6Summary([]byte(`{"metrics":{"http_reqs":{"count":5}}}`), time.Second); err == nil {
		t.Error("k6 summary without p(99): no error")
	}
	for name, parse := range map[string]func([]byte) error{
		"fortio": func(b []byte) error { _, err := parseFortio(b, time.Second); return err },
		"vegeta": func(b []byte) error { _, err := parseVegetaReport(b); return err },
		"k6":     func(b []byte) error { _, err := parseK6Summary(b, time.Second); return err },
	} {
		if err := parse([]byte("Requests/sec: 5\n")); err == nil {
			t.Errorf("%s: text output parsed without error", name)
		}
	}
}

func TestPicsoakReport(t *testing.T) {
	got, err := readPicsoakReport("testdata/picsoak-report")
	if err != nil {
		t.Fatal(err)
	}
	// 300 ok requests at 50 req/s; service time, latency and last third's p99 as the report has them.
	want := toolResult{requests: 300, rate: 50, p99: 1.075199, p99Due: 1.115135, p99Steady: 1.007615}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := readPicsoakReport(t.TempDir()); err == nil || !strings.Contains(err.Error(), "0 reports") {
		t.Errorf("empty report dir: error %v, want one counting 0 reports", err)
	}

	var counts soak.OutcomeCounts
	counts[soak.OutcomeOK], counts[soak.OutcomeConnError], counts[soak.OutcomeTimeout] = 90, 7, 3
	r := &soak.Result{Requests: counts, Sustained: &soak.SustainedDetail{}, ServiceTime: &soak.LatencySummary{},
		Errors: map[string]string{"conn_error": "dial tcp: socket: too many open files"}}
	res, err := picsoakResult(r)
	if err != nil {
		t.Fatal(err)
	}
	if res.requests != 100 || res.errors != 10 || !strings.Contains(res.example, "too many open files") {
		t.Errorf("got %+v, want 100 requests, 10 errors and the example", res)
	}
}

func TestK6Script(t *testing.T) {
	l := level{inFlight: 10000, delay: 500 * time.Millisecond, duration: 24 * time.Second, workers: 12000, url: "http://127.0.0.1:18090/"}
	s := k6Script(l)
	// 10,000 iterations every 500 ms is 20,000 req/s: rate × timeUnit, exact.
	for _, want := range []string{"executor: 'constant-arrival-rate'", "rate: 10000,", "timeUnit: '500ms'", "duration: '24000ms'",
		"preAllocatedVUs: 12000,", "maxVUs: 12000,", "http.get('http://127.0.0.1:18090/', { timeout: '5000ms' })"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if got := l.rate(); got != 20000 {
		t.Errorf("rate %v, want 20000", got)
	}
}

func TestParseLevels(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"50,1000,10000", []int{50, 1000, 10000}, false},
		{"50, 1_000", []int{50, 1000}, false},
		{"1000,50", nil, true}, // the first level is the idle figure: ascending only
		{"50,,100", nil, true},
		{"0", nil, true},
	} {
		got, err := parseLevels(c.in)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("parseLevels(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestFortioPlan(t *testing.T) {
	for _, c := range []struct {
		l           level
		want, plans float64
	}{
		// The defaults: 20 requests for each of 12,000 connections.
		{level{inFlight: 10000, delay: time.Second, duration: 24 * time.Second, workers: 12000}, 240000, 240000},
		// 20 s: 16.67 each, rounded down to 16.
		{level{inFlight: 10000, delay: time.Second, duration: 20 * time.Second, workers: 12000}, 200000, 192000},
	} {
		if want, plans := fortioPlan(c.l); want != c.want || plans != c.plans {
			t.Errorf("%+v: want %v, plans %v; want %v, %v", c.l, want, plans, c.want, c.plans)
		}
	}
}
