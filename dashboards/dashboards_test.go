package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/yaml"

	promclient "github.com/prometheus/client_golang/prometheus"

	"github.com/picsoak/picsoak/metrics"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

var update = flag.Bool("update", false, "rewrite the committed dashboard JSON from the generator")

// TestCommittedJSONMatchesGenerator keeps the provisioned JSON and the Go that
// generates it from drifting apart; -update rewrites the files.
func TestCommittedJSONMatchesGenerator(t *testing.T) {
	for _, s := range All() {
		want, err := Render(s)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(s.File, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(s.File)
		if err != nil {
			t.Fatalf("%v (run go test ./dashboards -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: got %d bytes differing from the generator's %d at byte %d, want them equal (run go test ./dashboards -update)",
				s.File, len(got), len(want), firstDiff(got, want))
		}
	}
}

// TestNoStrayJSON: Grafana provisions every JSON file in the folder, so one the
// generator no longer writes would linger as a stale dashboard.
func TestNoStrayJSON(t *testing.T) {
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range All() {
		want = append(want, s.File)
	}
	sort.Strings(want)
	if !slices.Equal(files, want) {
		t.Errorf("got JSON files %v, want %v", files, want)
	}
}

func TestDashboardsAreWellFormed(t *testing.T) {
	uids := map[string]string{}
	for _, s := range All() {
		t.Run(s.File, func(t *testing.T) {
			d := decodeCommitted(t, s.File)
			if d.Uid == nil || *d.Uid == "" {
				t.Fatalf("got no uid, want a fixed one")
			}
			if prev, ok := uids[*d.Uid]; ok {
				t.Errorf("got uid %q in %s and %s, want unique", *d.Uid, prev, s.File)
			}
			uids[*d.Uid] = s.File
			if d.SchemaVersion != 42 {
				t.Errorf("got schemaVersion %d, want 42", d.SchemaVersion)
			}
			checkVariables(t, d.Templating.List)

			ids := map[uint32]bool{}
			seen := func(id uint32) {
				if ids[id] {
					t.Errorf("got panel id %d twice, want unique ids", id)
				}
				ids[id] = true
			}
			panels := 0
			for _, p := range d.Panels {
				if r := p.RowPanel; r != nil {
					seen(r.Id)
					for i := range r.Panels {
						seen(idOf(&r.Panels[i]))
						checkPanel(t, &r.Panels[i])
						panels++
					}
					continue
				}
				seen(idOf(p.Panel))
				checkPanel(t, p.Panel)
				panels++
			}
			if panels == 0 {
				t.Errorf("got no panels, want some")
			}
		})
	}
}

// TestExprsUseExportedMetrics catches a dashboard querying a metric picsoak does not
// export (a typo or a rename in metrics/), which would only show as an empty panel.
func TestExprsUseExportedMetrics(t *testing.T) {
	exported := exportedSeries(t)
	for _, s := range All() {
		for _, e := range committedExprs(t, s.File) {
			names := metricNames(e.expr)
			if len(names) == 0 {
				t.Errorf("%s panel %q: got no metric name in %q, want at least one", s.File, e.panel, e.expr)
			}
			for _, n := range names {
				if !exported[n] {
					t.Errorf("%s panel %q: got metric %q in %q, want one picsoak exports", s.File, e.panel, n, e.expr)
				}
			}
		}
	}
}

// TestExprsUseClassicHistograms: Prometheus without the native-histograms flag has only
// the classic _bucket series, and with it only the native ones; the dashboards use the
// classic form, which is always there by default.
func TestExprsUseClassicHistograms(t *testing.T) {
	native := regexp.MustCompile(`\bhistogram_(count|sum|avg|fraction|stddev|stdvar)\s*\(`)
	for _, s := range All() {
		for _, e := range committedExprs(t, s.File) {
			if m := native.FindString(e.expr); m != "" {
				t.Errorf("%s panel %q: got native histogram function %q, want classic buckets", s.File, e.panel, m)
			}
			if strings.Contains(e.expr, "histogram_quantile") &&
				(!strings.Contains(e.expr, "_bucket{") || !regexp.MustCompile(`by \([^)]*\ble\b`).MatchString(e.expr)) {
				t.Errorf("%s panel %q: got %q, want histogram_quantile over a _bucket rate summed by le", s.File, e.panel, e.expr)
			}
		}
	}
}

// TestDecodeStrictRejectsUnknownFields proves the strict decode above is strict at every
// level, despite the SDK's workarounds.
func TestDecodeStrictRejectsUnknownFields(t *testing.T) {
	raw, err := Render(All()[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
	}{
		// A field the dashboard type does not have.
		{"dashboard", `"schemaVersion":`, `"bogus": 1, "schemaVersion":`},
		// A field the panel type does not have.
		{"panel", `"type": "stat"`, `"type": "stat", "bogus": 1`},
		// A field the Prometheus query type does not have.
		{"target", `"refId": "A"`, `"refId": "A", "bogus": 1`},
	}
	for _, tt := range tests {
		bad := bytes.Replace(raw, []byte(tt.old), []byte(tt.new), 1)
		if bytes.Equal(bad, raw) {
			t.Fatalf("%s: %q not found in the rendered dashboard", tt.name, tt.old)
		}
		if _, err := decodeStrict(bad); err == nil || !strings.Contains(err.Error(), "bogus") {
			t.Errorf("%s: got error %v, want one naming the unknown field bogus", tt.name, err)
		}
	}
	if _, err := decodeStrict(raw); err != nil {
		t.Errorf("unchanged: got %v, want no error", err)
	}
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		// Selector with a regex label matcher that looks like an identifier.
		{`picsoak_cycle_pass{instance=~"$instance",cycle=~"foo"}`, []string{"picsoak_cycle_pass"}},
		// Functions, grouping labels and a range are not metric names.
		{`histogram_quantile(0.99, sum by (cycle, le) (rate(x_bucket{a="b"}[$__rate_interval])))`, []string{"x_bucket"}},
		// A bare name without braces still counts.
		{`time() - max(up) or vector(0)`, []string{"up"}},
		// Two metrics and a comparison.
		{`a{x="1"} > 0 and on (cycle) b`, []string{"a", "b"}},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("metricNames(%q): got %v, want %v", tt.expr, got, tt.want)
		}
	}
}

// decodeCommitted decodes a committed file strictly: an unknown field anywhere, from a
// typo or an SDK the JSON no longer matches, fails.
func decodeCommitted(t *testing.T, file string) dashboard.Dashboard {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeStrict(raw)
	if err != nil {
		t.Fatalf("strict decode of %s: got %v, want no error", file, err)
	}
	return d
}

// decodeStrict decodes a dashboard into the SDK's types, failing on any field they do
// not have.
func decodeStrict(raw []byte) (dashboard.Dashboard, error) {
	plugins.RegisterDefaultPlugins()
	var d dashboard.Dashboard
	if err := strictError(d.UnmarshalJSONStrict(raw)); err != nil {
		return d, err
	}
	// SDK v0.0.22 trips over its own empty error inside: PanelOrRowPanel and the
	// target decoder treat it as a failure and drop every panel and target, while real
	// errors still surface above. Decode panels and targets one by one to look at them.
	var top struct{ Panels []json.RawMessage }
	if err := json.Unmarshal(raw, &top); err != nil {
		return d, err
	}
	d.Panels = nil
	for i, rp := range top.Panels {
		var row struct {
			Type   string
			Panels []json.RawMessage
		}
		if err := json.Unmarshal(rp, &row); err != nil {
			return d, err
		}
		if row.Type != "row" {
			p, err := decodePanel(rp)
			if err != nil {
				return d, fmt.Errorf("panels[%d]: %w", i, err)
			}
			d.Panels = append(d.Panels, dashboard.PanelOrRowPanel{Panel: p})
			continue
		}
		r := &dashboard.RowPanel{}
		if err := strictError(r.UnmarshalJSONStrict(rp)); err != nil {
			return d, fmt.Errorf("panels[%d]: %w", i, err)
		}
		r.Panels = nil
		for j, rp := range row.Panels {
			p, err := decodePanel(rp)
			if err != nil {
				return d, fmt.Errorf("panels[%d].panels[%d]: %w", i, j, err)
			}
			r.Panels = append(r.Panels, *p)
		}
		d.Panels = append(d.Panels, dashboard.PanelOrRowPanel{RowPanel: r})
	}
	return d, nil
}

func decodePanel(raw json.RawMessage) (*dashboard.Panel, error) {
	p := &dashboard.Panel{}
	if err := strictError(p.UnmarshalJSONStrict(raw)); err != nil {
		return nil, err
	}
	var targets struct{ Targets []json.RawMessage }
	if err := json.Unmarshal(raw, &targets); err != nil {
		return nil, err
	}
	p.Targets = nil
	for i, rt := range targets.Targets {
		q := &prometheus.Dataquery{}
		if err := strictError(q.UnmarshalJSONStrict(rt)); err != nil {
			return nil, fmt.Errorf("targets[%d]: %w", i, err)
		}
		p.Targets = append(p.Targets, q)
	}
	return p, nil
}

// strictError undoes an SDK quirk: UnmarshalJSONStrict returns an empty, non-nil
// cog.BuildErrors on success.
func strictError(err error) error {
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

func checkVariables(t *testing.T, vars []dashboard.VariableModel) {
	t.Helper()
	byName := map[string]dashboard.VariableModel{}
	for _, v := range vars {
		byName[v.Name] = v
	}
	ds, ok := byName[DatasourceVar]
	if !ok {
		t.Fatalf("got variables %v, want %q", names(vars), DatasourceVar)
	}
	if ds.Type != dashboard.VariableTypeDatasource || ds.Query == nil || ds.Query.String == nil || *ds.Query.String != "prometheus" {
		t.Errorf("datasource variable: got type %q query %v, want datasource of prometheus", ds.Type, ds.Query)
	}
	for _, name := range []string{"instance", "cycle"} {
		v, ok := byName[name]
		if !ok {
			t.Errorf("got variables %v, want %q", names(vars), name)
			continue
		}
		if v.Type != dashboard.VariableTypeQuery {
			t.Errorf("%s: got type %q, want query", name, v.Type)
		}
		if v.Query == nil || v.Query.String == nil || !strings.HasPrefix(*v.Query.String, "label_values(") || !strings.HasSuffix(*v.Query.String, ", "+name+")") {
			t.Errorf("%s: got query %v, want label_values(…, %s)", name, v.Query, name)
		}
		checkDatasource(t, name+" variable", v.Datasource)
	}
}

func checkPanel(t *testing.T, p *dashboard.Panel) {
	t.Helper()
	title := ""
	if p.Title != nil {
		title = *p.Title
	}
	if title == "" {
		t.Errorf("panel %d: got no title, want one", idOf(p))
	}
	if p.Description == nil || strings.TrimSpace(*p.Description) == "" {
		t.Errorf("panel %q: got no description, want one", title)
	}
	checkDatasource(t, "panel "+title, p.Datasource)
	if len(p.Targets) == 0 {
		t.Errorf("panel %q: got no targets, want at least one", title)
	}
	refIDs := map[string]bool{}
	for i, tg := range p.Targets {
		q, ok := tg.(*prometheus.Dataquery)
		if !ok {
			t.Errorf("panel %q target %d: got %T, want a prometheus query", title, i, tg)
			continue
		}
		if strings.TrimSpace(q.Expr) == "" {
			t.Errorf("panel %q target %d: got empty expr, want one", title, i)
		}
		if q.RefId == nil || *q.RefId == "" || refIDs[*q.RefId] {
			t.Errorf("panel %q target %d: got refId %v, want a unique one", title, i, q.RefId)
		} else {
			refIDs[*q.RefId] = true
		}
		checkDatasource(t, "panel "+title+" target "+q.Expr, q.Datasource)
	}
}

// checkDatasource requires the datasource variable, never a fixed UID, so the
// dashboard works against whichever Prometheus it is imported next to.
func checkDatasource(t *testing.T, what string, ref *common.DataSourceRef) {
	t.Helper()
	want := "${" + DatasourceVar + "}"
	if ref == nil || ref.Uid == nil || *ref.Uid != want || ref.Type == nil || *ref.Type != "prometheus" {
		t.Errorf("%s: got datasource %s, want prometheus %s", what, describeRef(ref), want)
	}
}

func describeRef(ref *common.DataSourceRef) string {
	if ref == nil {
		return "none"
	}
	s := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	return s(ref.Type) + " " + s(ref.Uid)
}

func idOf(p *dashboard.Panel) uint32 {
	if p.Id == nil {
		return 0
	}
	return *p.Id
}

func names(vars []dashboard.VariableModel) []string {
	var out []string
	for _, v := range vars {
		out = append(out, v.Name)
	}
	return out
}

type panelExpr struct{ panel, expr string }

// committedExprs reads every target expression from a committed file.
func committedExprs(t *testing.T, file string) []panelExpr {
	t.Helper()
	d := decodeCommitted(t, file)
	var out []panelExpr
	add := func(p *dashboard.Panel) {
		for _, tg := range p.Targets {
			if q, ok := tg.(*prometheus.Dataquery); ok {
				out = append(out, panelExpr{*p.Title, q.Expr})
			}
		}
	}
	for _, p := range d.Panels {
		if p.RowPanel != nil {
			for i := range p.RowPanel.Panels {
				add(&p.RowPanel.Panels[i])
			}
		} else {
			add(p.Panel)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: got no expressions, want some", file)
	}
	return out
}

var (
	quoted     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	braces     = regexp.MustCompile(`\{[^}]*\}`)
	brackets   = regexp.MustCompile(`\[[^\]]*\]`)
	grouping   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	keywords   = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true, "on": true, "ignoring": true}
)

// metricNames returns the metric names an expression selects, in order of appearance.
// Strings, label matchers, ranges and grouping clauses are removed first, so what is
// left that is not a function call or a keyword is a metric name. It is no PromQL
// parser, but the dashboards' expressions are simple enough, and TestMetricNames pins
// what it handles.
func metricNames(expr string) []string {
	s := quoted.ReplaceAllString(expr, `""`)
	s = braces.ReplaceAllString(s, " ")
	s = brackets.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	var out []string
	for _, m := range identifier.FindAllStringSubmatch(s, -1) {
		if m[1] != "" || keywords[m[0]] || slices.Contains(out, m[0]) {
			continue
		}
		out = append(out, m[0])
	}
	return out
}

// exportedSeries is every series name a picsoak scrape can carry, from a fresh registry
// fed one result of each cycle kind so that every labelled family has a child, plus
// Prometheus's own up. Histograms count by their classic series only.
func exportedSeries(t *testing.T) map[string]bool {
	t.Helper()
	reg := promclient.NewRegistry()
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := metrics.New(reg, cfg.Plan)
	metrics.RegisterRuntime(reg, "test", "test")
	metrics.RegisterBatchRun(reg, true, time.Hour)
	for _, r := range syntheticResults() {
		e.SetInterval(r.Cycle, 10*time.Minute)
		e.CycleFinished(r)
	}
	e.LateRequest(soak.Sustained)
	e.ObserveRequest(soak.Sustained, soak.Reply{Status: 200}, time.Millisecond)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// up is Prometheus's own, push_time_seconds the Pushgateway's.
	out := map[string]bool{"up": true, "push_time_seconds": true}
	// The recording rules' series are Prometheus's, from picsoak's: panels may use them.
	var rules struct {
		Groups []struct {
			Rules []struct {
				Record string `yaml:"record"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err := os.ReadFile("../alerts/picsoak.rules.yml")
	if err == nil {
		err = yaml.Unmarshal(b, &rules)
	}
	if err != nil {
		t.Fatalf("reading the recording rules: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				out[r.Record] = true
			}
		}
	}
	for _, f := range families {
		n := f.GetName()
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			out[n+"_bucket"], out[n+"_sum"], out[n+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			out[n], out[n+"_sum"], out[n+"_count"] = true, true, true
		default:
			out[n] = true
		}
	}
	// The families the dashboards need most must be there, or the fixture is wrong and
	// the name check above would pass vacuously.
	for _, n := range []string{"picsoak_burst_rps", "picsoak_streams_throughput_rps", "picsoak_target_suspected_leak",
		"picsoak_cycle_latency_seconds", "picsoak_cycle_service_time_seconds", "picsoak_request_duration_seconds_bucket", "process_cpu_seconds_total", "go_goroutines"} {
		if !out[n] {
			t.Fatalf("exported series: got no %s, want it (fixture incomplete)", n)
		}
	}
	return out
}

func syntheticResults() []*soak.Result {
	f := func(v float64) *float64 { return &v }
	sample := &soak.ResourceSample{ResidentMemoryBytes: f(1 << 20), Goroutines: f(10), Threads: f(5), CPUSeconds: f(1)}
	res := &soak.ResourceReport{Before: sample, After: sample, MemoryGrowthBytes: f(0), GoroutineGrowth: f(0), CPUSeconds: f(0.1)}
	lat := soak.LatencySummary{Count: 1, Sum: 0.001, Quantiles: []soak.QuantileValue{{Quantile: 0.99, Seconds: 0.001}}}
	now := time.Now()
	base := func(k soak.Kind) soak.Result {
		return soak.Result{Cycle: k, Start: now, End: now, Verdict: soak.VerdictPass, MinSuccessRatio: 0.9,
			SuccessRatio: 1, ThroughputRPS: 100, Latency: lat, Resources: res,
			Thresholds: []soak.ThresholdResult{{Threshold: soak.Threshold{Metric: "success", Op: ">=", Bound: 0.9}, Value: f(1), Met: true}}}
	}
	sus, bur, str := base(soak.Sustained), base(soak.Burst), base(soak.Streams)
	sus.TargetRPS = 100
	sus.Sustained = &soak.SustainedDetail{ThroughputChange: 1, P99Change: 1}
	sus.ServiceTime = &lat
	bur.Burst = &soak.BurstDetail{Bursts: []soak.BurstStat{{Index: 0, RPS: 100, DurationSeconds: 1, RecoverySeconds: 0.1, SuccessRatio: 1}}}
	str.Streams = &soak.StreamsDetail{Streams: []soak.StreamStat{{Index: 0, ThroughputRPS: 10, P99Seconds: 0.01}}, Fairness: 1, Starvation: 1}
	return []*soak.Result{&sus, &bur, &str}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
