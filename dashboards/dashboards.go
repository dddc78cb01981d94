// Package dashboards generates picsoak's Grafana dashboards from typed Go (the
// grafana-foundation-sdk builders). The JSON files beside this file are its output,
// provisioned by docker-compose; regenerate them with
//
//	go test ./dashboards -update
//
// and commit the result: a test fails when a committed file differs from the
// generator's output by one byte.
package dashboards

//go:generate go test -run TestCommittedJSONMatchesGenerator -update .

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// DatasourceVar is the name of the Prometheus datasource variable every panel and
// query uses, so a dashboard works against whichever Prometheus it is imported next to.
const DatasourceVar = "datasource"

// Tag marks every picsoak dashboard; the dashboards link to each other through it.
const Tag = "picsoak"

// Spec is one dashboard and the file it is written to.
type Spec struct {
	// File is the JSON file's name inside the dashboards folder.
	File string
	// Build returns a fresh builder; the dashboard's UID never changes.
	Build func() *dashboard.DashboardBuilder
}

// All lists every dashboard in a fixed order.
func All() []Spec {
	return []Spec{
		{File: "picsoak-overview.json", Build: overview},
		{File: "picsoak-burst.json", Build: burst},
		{File: "picsoak-streams.json", Build: streams},
		{File: "picsoak-resources.json", Build: resources},
	}
}

// Render builds the dashboard and returns its JSON as committed: two-space indent and a
// trailing newline. Map keys are sorted by encoding/json, so the output is stable.
func Render(s Spec) ([]byte, error) {
	d, err := s.Build().Build()
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", s.File, err)
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", s.File, err)
	}
	return append(b, '\n'), nil
}

// Datasource is the reference every panel and query carries: the datasource variable,
// never a fixed UID (STYLE.md 12).
func Datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + DatasourceVar + "}")}
}

// newDashboard sets what every picsoak dashboard shares: UID, tags, the three
// variables, time range and links to its siblings.
func newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{Tag}).
		Timezone(common.TimeZoneBrowser).
		Time("now-6h", "now").
		Refresh("30s").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("picsoak").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder(DatasourceVar).
			Label("Data source").
			Description("The Prometheus that scrapes picsoak.").
			Type("prometheus")).
		WithVariable(labelValues("job", "Job",
			"Prometheus jobs of picsoak's series: the daemon's scrape job, and each batch run's push job.",
			"label_values(picsoak_cycles_total, job)")).
		WithVariable(labelValues("instance", "Instance",
			"picsoak instances (their scrape address, or a batch run's push instance).",
			`label_values(picsoak_cycles_total{job=~"$job"}, instance)`)).
		WithVariable(labelValues("cycle", "Cycle",
			"Cycle kinds: sustained, burst, streams, capacity.",
			`label_values(picsoak_cycles_total{instance=~"$instance"}, cycle)`)).
		WithVariable(labelValues("endpoint", "Endpoint",
			"PIC's endpoints: a targets file's entries by name, or default for PICSOAK_TARGET_URL.",
			`label_values(picsoak_requests_total{instance=~"$instance"}, endpoint)`)).
		WithVariable(dashboard.NewCustomVariableBuilder("slo_window").
			Label("SLO window").
			Description("Window the error budget left is counted over: PICSOAK_SLO_WINDOW, 30d unless configured otherwise.").
			Values(dashboard.StringOrMap{String: ptr("30d,28d,7d")}).
			Current(dashboard.VariableOption{
				Selected: ptr(true),
				Text:     dashboard.StringOrArrayOfString{String: ptr("30d")},
				Value:    dashboard.StringOrArrayOfString{String: ptr("30d")},
			}))
}

// labelValues is a multi-value query variable whose "All" matches every value, so
// selectors use it as instance=~"$instance".
func labelValues(name, label, description, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Description(description).
		Datasource(Datasource()).
		Query(dashboard.StringOrMap{String: ptr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{String: ptr("All")},
			Value:    dashboard.StringOrArrayOfString{String: ptr("$__all")},
		})
}

// Selectors every query repeats. Burst and stream gauges carry no cycle label: they
// describe the last burst or streams cycle only.
const (
	sel      = `instance=~"$instance",cycle=~"$cycle"`
	selEp    = `instance=~"$instance",cycle=~"$cycle",endpoint=~"$endpoint"`
	selJob   = `job=~"$job"`
	selInst  = `instance=~"$instance"`
	selOwn   = `job="picsoak",instance=~"$instance"`
	rateWin  = `[$__rate_interval]`
	selBurst = `instance=~"$instance",cycle="burst"`
	selStrm  = `instance=~"$instance",cycle="streams"`
)

// quantileExpr is a quantile of picsoak_request_duration_seconds over the classic
// buckets, which every Prometheus keeps (native buckets vanish without a feature flag).
func quantileExpr(q, selector string) string {
	return fmt.Sprintf(`histogram_quantile(%s, sum by (cycle, le) (rate(picsoak_request_duration_seconds_bucket{%s}%s)))`, q, selector, rateWin)
}

func ptr[T any](v T) *T { return &v }
