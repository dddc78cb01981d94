package web

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/report"
)

func ptr(v float64) *float64 { return &v }

// storedResults writes n results of every kind into a fresh store, a minute apart.
func storedResults(t *testing.T, n int) *report.Store {
	t.Helper()
	store := &report.Store{Dir: t.TempDir(), Keep: 100}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		for _, k := range soak.Kinds {
			r := &soak.Result{
				Cycle: k, Target: "http://pic/events", Start: start.Add(time.Duration(i) * time.Minute),
				Verdict: soak.VerdictPass, MinSuccessRatio: 0.95, SuccessRatio: 0.999, ThroughputRPS: 100 + float64(i),
				Latency: soak.LatencySummary{Count: 1000, Min: 0.001, Max: 0.05, Quantiles: []soak.QuantileValue{
					{Quantile: 0.5, Seconds: 0.002}, {Quantile: 0.9, Seconds: 0.004}, {Quantile: 0.95, Seconds: 0.005},
					{Quantile: 0.99, Seconds: 0.01}, {Quantile: 0.999, Seconds: 0.03}, {Quantile: 1, Seconds: 0.05},
				}},
				Resources: &soak.ResourceReport{
					After: &soak.ResourceSample{ResidentMemoryBytes: ptr(64 << 20), Goroutines: ptr(30)},
					Peak:  &soak.ResourceSample{ResidentMemoryBytes: ptr(80 << 20), Goroutines: ptr(90)},
				},
				Findings: []string{},
			}
			r.End = r.Start.Add(10 * time.Second)
			switch k {
			case soak.Sustained:
				r.ServiceTime = &soak.LatencySummary{Count: 1000, Min: 0.0005, Max: 0.02, Quantiles: []soak.QuantileValue{
					{Quantile: 0.5, Seconds: 0.001}, {Quantile: 0.99, Seconds: 0.005}, {Quantile: 1, Seconds: 0.02},
				}}
			case soak.Burst:
				r.Burst = &soak.BurstDetail{Bursts: []soak.BurstStat{{Index: 0, RPS: 900}, {Index: 1, RPS: 1100}, {Index: 2, RPS: 1000}}}
			case soak.Streams:
				r.Streams = &soak.StreamsDetail{Streams: []soak.StreamStat{{Index: 0, P50Seconds: 0.002, P99Seconds: 0.004}, {Index: 1, P50Seconds: 0.003, P99Seconds: 0.006}}}
			case soak.Capacity:
				r.Capacity = &soak.CapacityDetail{MaxP99Seconds: 0.1, MaxSustainedRPS: 2000, KneeRPS: 3000, Stop: soak.CapacityStopKnee, Achievement: 0.04, Steps: []soak.CapacityStep{
					{Index: 0, OfferedRPS: 1000, P50Seconds: 0.002, P99Seconds: 0.01, MetSLO: true},
					{Index: 1, OfferedRPS: 2000, P50Seconds: 0.003, P99Seconds: 0.04, MetSLO: true},
					{Index: 2, OfferedRPS: 3000, P50Seconds: 0.02, P99Seconds: 0.4, Miss: soak.MissP99},
				}}
			}
			if _, err := store.Write(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	return store
}

func get(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d, want 200\n%s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type: got %q, want text/html; charset=utf-8", ct)
	}
	return rec.Body.String()
}

var svgElement = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// svgs returns every inline SVG of the page by id, each checked to be well-formed XML.
func svgs(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range svgElement.FindAllString(page, -1) {
		d := xml.NewDecoder(strings.NewReader(s))
		var id string
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("inline SVG is not well-formed: %v\n%s", err, s)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "svg" {
				for _, a := range se.Attr {
					if a.Name.Local == "id" {
						id = a.Value
					}
				}
			}
		}
		if _, dup := out[id]; dup {
			t.Errorf("two SVGs with id %q", id)
		}
		out[id] = s
	}
	return out
}

func TestPageShowsEveryCycleWithPlotsFromReports(t *testing.T) {
	store := storedResults(t, 3)
	p := &Page{
		Store: store, ReportsPath: "/reports/", Target: "http://pic/events", Version: "test",
		Status: func() []soak.CycleStatus {
			return []soak.CycleStatus{
				{Cycle: soak.Sustained, Schedule: "@every 10m", Enabled: true, Running: true, Next: time.Now().Add(time.Minute)},
				{Cycle: soak.Burst, Schedule: "@every 10m", Enabled: true},
				{Cycle: soak.Streams, Schedule: "off"},
			}
		},
	}
	page := get(t, p)
	plots := svgs(t, page)
	for _, id := range []string{
		"latency-sustained", "latency-burst", "latency-streams",
		"throughput-sustained", "p99-burst", "bursts", "streams", "pic-memory", "pic-goroutines",
	} {
		if _, ok := plots[id]; !ok {
			t.Errorf("page lacks the plot %q", id)
		}
	}
	if got := strings.Count(plots["bursts"], `class="bar"`); got != 3 {
		t.Errorf("bursts plot: got %d bars, want 3", got)
	}
	if got := strings.Count(plots["streams"], `class="bar"`); got != 4 {
		t.Errorf("streams plot: got %d bars, want 4 (p50 and p99 of two streams)", got)
	}
	if !strings.Contains(plots["throughput-burst"], `data-points="3"`) {
		t.Errorf("throughput-burst does not plot the 3 stored cycles:\n%s", plots["throughput-burst"])
	}
	// With no live result, the latency curve comes from the newest report's quantiles:
	// min, five quantiles below 1, and the maximum.
	if !strings.Contains(plots["latency-sustained"], `data-points="7"`) || !strings.Contains(plots["latency-sustained"], "report") {
		t.Errorf("latency-sustained is not the 7-point curve from the report:\n%s", plots["latency-sustained"])
	}
	// The sustained report's service time is a second curve: min, p50, p99, max.
	if !strings.Contains(plots["latency-sustained"], `data-name="service time" data-points="4"`) {
		t.Errorf("latency-sustained lacks the 4-point service-time curve:\n%s", plots["latency-sustained"])
	}
	if strings.Contains(plots["latency-burst"], "service time") {
		t.Errorf("latency-burst plots a service time, which only open-model cycles have")
	}
	for _, want := range []string{
		`<span class="state-running">running</span>`,
		`data-verdict="pass"`,
		`<b class="success-ratio">0.9990</b>`,
		"off</td>",
		`href="/reports/20260301T120200.000Z-streams.md"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if got := strings.Count(page, `class="report-link"`); got != 9 {
		t.Errorf("got %d report links, want 9 (3 cycles of 3 kinds)", got)
	}
}

func TestPagePlotsCapacityRateAgainstLatency(t *testing.T) {
	p := &Page{
		Store:  storedResults(t, 1),
		Status: func() []soak.CycleStatus { return []soak.CycleStatus{{Cycle: soak.Capacity, Schedule: "off"}} },
	}
	page := get(t, p)
	plot, ok := svgs(t, page)["capacity"]
	if !ok {
		t.Fatalf("page lacks the capacity plot:\n%s", page)
	}
	// p99 and p50 at each of the 3 steps, and the SLO's two ends.
	for _, want := range []string{`data-points="3"`, "p99", "SLO p99", "offered req/s"} {
		if !strings.Contains(plot, want) {
			t.Errorf("capacity plot lacks %q:\n%s", want, plot)
		}
	}
	for _, want := range []string{`<b class="capacity-max">2000 req/s</b>`, `<b class="capacity-knee">3000 req/s</b>`, `<b class="capacity-achievement">4.00%</b>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestPageWithoutReportsSaysSo(t *testing.T) {
	p := &Page{
		Store: &report.Store{Dir: t.TempDir(), Keep: 10},
		Status: func() []soak.CycleStatus {
			return []soak.CycleStatus{{Cycle: soak.Sustained, Schedule: "@every 1m", Enabled: true}}
		},
	}
	page := get(t, p)
	for _, want := range []string{"not run yet", "No reports yet", "no data yet"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	svgs(t, page)
}

func TestPageEscapesText(t *testing.T) {
	evil := `<script>alert(1)</script>`
	p := &Page{
		Store: &report.Store{Dir: t.TempDir(), Keep: 10}, Target: evil, Version: evil,
		Status: func() []soak.CycleStatus {
			return []soak.CycleStatus{{Cycle: soak.Burst, Schedule: evil, Last: &soak.Result{Cycle: soak.Burst, Verdict: soak.VerdictFail, Findings: []string{evil}}}}
		},
	}
	page := get(t, p)
	if strings.Contains(page, "<script>") {
		t.Fatalf("page contains an unescaped <script>:\n%s", page)
	}
	if got := strings.Count(page, "&lt;script&gt;"); got < 4 {
		t.Errorf("got %d escaped <script>, want at least 4 (target, version, schedule, finding)", got)
	}
}

func TestPercentileCurveFromHistogram(t *testing.T) {
	h := hdrhistogram.New(1, 3_600_000_000, 3)
	for v := int64(1); v <= 10000; v++ {
		h.RecordValue(v) // 1 µs … 10 ms, uniform
	}
	pts := percentileCurve(h)
	// 4 decades (10,000 values) at 20 points each, and the maximum.
	if len(pts) != 81 {
		t.Fatalf("got %d points, want 81", len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].X <= pts[i-1].X || pts[i].Y < pts[i-1].Y {
			t.Fatalf("point %d %+v does not follow %+v: want increasing quantiles and non-decreasing latency", i, pts[i], pts[i-1])
		}
	}
	// HDR reports values to 3 significant digits (the bucket's highest equivalent value).
	if last := pts[len(pts)-1]; last.Y < 10 || last.Y > 10.01 {
		t.Errorf("last point: got %g ms, want the maximum, 10 ms", last.Y)
	}
	if mid := pts[20]; mid.X < 0.8999 || mid.X > 0.9001 || mid.Y < 8.9 || mid.Y > 9.1 {
		t.Errorf("point 20: got %+v, want about 9 ms at 90%%", mid)
	}
	if pts := percentileCurve(hdrhistogram.New(1, 1000, 3)); pts != nil {
		t.Errorf("empty histogram: got %v, want no points", pts)
	}
}

func TestFormatSeconds(t *testing.T) {
	tests := []struct {
		s    float64
		want string
	}{
		{0, "0"}, {0.000250, "250 µs"}, {0.0049, "4.9 ms"}, {0.123456, "123 ms"}, {2.5, "2.5 s"},
	}
	for _, tt := range tests {
		if got := formatSeconds(tt.s); got != tt.want {
			t.Errorf("formatSeconds(%g): got %q, want %q", tt.s, got, tt.want)
		}
	}
}

// A report of 50 requests cannot resolve its p99.9: the curve stops at 99 %, where the
// HDR curve of the same cycle stops too.
func TestSummaryCurveStopsWhereTheCountStopsResolving(t *testing.T) {
	s := soak.LatencySummary{Count: 50, Min: 0.001, Max: 0.05, Quantiles: []soak.QuantileValue{
		{Quantile: 0.5, Seconds: 0.002}, {Quantile: 0.9, Seconds: 0.004}, {Quantile: 0.95, Seconds: 0.005},
		{Quantile: 0.99, Seconds: 0.01}, {Quantile: 0.999, Seconds: 0.03}, {Quantile: 1, Seconds: 0.05},
	}}
	pts := summaryCurve(s)
	if len(pts) != 6 {
		t.Fatalf("got %d points %v, want 6: min, p50, p90, p95, p99, max", len(pts), pts)
	}
	if last := pts[len(pts)-1]; math.Abs(last.X-0.99) > 1e-9 || last.Y != 50 {
		t.Errorf("last point = %+v, want the 50 ms maximum at 99 %%", last)
	}
}

// A cycle's thresholds show with what was measured, a missed one in red; a plan of
// several endpoints shows each one's figures and status codes.
func TestPageShowsThresholdsAndEndpoints(t *testing.T) {
	p99, success := 1.52, 0.98
	last := &soak.Result{Cycle: soak.Sustained, Verdict: soak.VerdictFail, MinSuccessRatio: 0.95, SuccessRatio: 0.98, End: time.Now(),
		Thresholds: []soak.ThresholdResult{
			{Threshold: soak.Threshold{Metric: "success", Op: ">=", Bound: 0.95}, Value: &success, Met: true},
			{Threshold: soak.Threshold{Metric: "p99", Op: "<=", Bound: 1}, Value: &p99},
		},
		Endpoints: []soak.EndpointStat{
			{Name: "write", Requests: soak.OutcomeCounts{90, 10}, SuccessRatio: 0.9, Codes: map[string]int64{"201": 90, "503": 10}},
			{Name: "read", Requests: soak.OutcomeCounts{100}, SuccessRatio: 1, Codes: map[string]int64{"200": 100}},
		},
	}
	p := &Page{Store: &report.Store{Dir: t.TempDir(), Keep: 10}, Status: func() []soak.CycleStatus {
		return []soak.CycleStatus{{Cycle: soak.Sustained, Enabled: true, Last: last}}
	}}
	page := get(t, p)
	for _, want := range []string{
		`<tr class="threshold" data-threshold="success&gt;=0.95" data-met="true"><td><code>success&gt;=0.95</code></td><td class="num">0.98</td><td>held</td></tr>`,
		`<tr class="threshold missed below" data-threshold="p99&lt;=1s" data-met="false"><td><code>p99&lt;=1s</code></td><td class="num">1.52s</td><td>missed</td></tr>`,
		`<tr data-endpoint="write"><td>write</td><td class="num">100</td><td class="num below">0.9000</td>`,
		`<td>201 × 90, 503 × 10</td>`,
		`<tr data-endpoint="read"><td>read</td><td class="num">100</td><td class="num">1.0000</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// With more streams than the page shows one by one, the bars are the slowest ones and
// the spread plot has every stream.
func TestPageShowsTheSlowestStreamsAndTheSpread(t *testing.T) {
	d := &soak.StreamsDetail{}
	for i := range 500 {
		d.Streams = append(d.Streams, soak.StreamStat{Index: i, ThroughputRPS: float64(1000 - i), P50Seconds: 0.001, P99Seconds: 0.002})
	}
	last := &soak.Result{Cycle: soak.Streams, Verdict: soak.VerdictPass, End: time.Now(), Streams: d}
	p := &Page{Store: &report.Store{Dir: t.TempDir(), Keep: 10}, Status: func() []soak.CycleStatus {
		return []soak.CycleStatus{{Cycle: soak.Streams, Enabled: true, Last: last}}
	}}
	plots := svgs(t, get(t, p))
	if got := strings.Count(plots["streams"], `class="bar"`); got != 2*soak.SlowestShown {
		t.Errorf("streams plot: got %d bars, want %d (p50 and p99 of the %d slowest)", got, 2*soak.SlowestShown, soak.SlowestShown)
	}
	if !strings.Contains(plots["streams"], "20 slowest of 500 streams") || !strings.Contains(plots["streams"], "stream 499 p99") {
		t.Errorf("streams plot does not show the slowest streams (499 is the slowest):\n%.500s", plots["streams"])
	}
	if !strings.Contains(plots["streams-spread"], `data-points="500"`) {
		t.Errorf("spread plot lacks the 500 streams:\n%.500s", plots["streams-spread"])
	}
}
