package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Panel constructors take their id and their queries' refIds from the caller, so a
// reordering shows up in review as a moved block, not as every id shifting.

// query is a range query over the datasource variable.
func query(refID, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(Datasource()).
		RefId(refID).
		Expr(expr).
		LegendFormat(legend).
		Range()
}

// instant is an instant query: the latest value, for stats and bar gauges of the last cycle.
func instant(refID, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(Datasource()).
		RefId(refID).
		Expr(expr).
		LegendFormat(legend).
		Instant()
}

func row(id uint32, title string) *dashboard.RowBuilder {
	return dashboard.NewRowBuilder(title).Id(id)
}

func timeSeries(id uint32, title, description, unit string, w, h uint32, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Id(id).
		Title(title).
		Description(description).
		Datasource(Datasource()).
		Unit(unit).
		Span(w).
		Height(h).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
	for _, t := range targets {
		p.WithTarget(t)
	}
	return p
}

func statPanel(id uint32, title, description, unit string, w, h uint32, targets ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	p := stat.NewPanelBuilder().
		Id(id).
		Title(title).
		Description(description).
		Datasource(Datasource()).
		Unit(unit).
		Span(w).
		Height(h).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeBackground).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
	for _, t := range targets {
		p.WithTarget(t)
	}
	return p
}

func barGauge(id uint32, title, description, unit string, w, h uint32, targets ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	p := bargauge.NewPanelBuilder().
		Id(id).
		Title(title).
		Description(description).
		Datasource(Datasource()).
		Unit(unit).
		Span(w).
		Height(h).
		Orientation(common.VizOrientationVertical).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ShowUnfilled(true).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
	for _, t := range targets {
		p.WithTarget(t)
	}
	return p
}

// thresholds are absolute: base is the colour below the first step.
func thresholds(base string, steps ...dashboard.Threshold) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().
		Mode(dashboard.ThresholdsModeAbsolute).
		Steps(append([]dashboard.Threshold{{Color: base}}, steps...))
}

// step is a threshold: from value v on, colour c.
func step(v float64, c string) dashboard.Threshold { return dashboard.Threshold{Value: &v, Color: c} }

// valueText maps exact values to text and colour, given as (value, text, colour)
// triples, e.g. "1", "PASS", "green".
func valueText(triples ...string) []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i := 0; i+2 < len(triples); i += 3 {
		opts[triples[i]] = dashboard.ValueMappingResult{Text: ptr(triples[i+1]), Color: ptr(triples[i+2]), Index: ptr(int32(i / 3))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// dashedByQuery draws one query's series as a dashed line: thresholds and targets
// next to the measured value.
func dashedByQuery(refID string) (dashboard.MatcherConfig, []dashboard.DynamicConfigValue) {
	return dashboard.MatcherConfig{Id: "byFrameRefID", Options: refID},
		[]dashboard.DynamicConfigValue{
			{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
			{Id: "custom.fillOpacity", Value: 0},
		}
}

// verdictColours colours series named pass, fail and aborted the same on every panel.
func verdictColours[B interface {
	OverrideByName(string, []dashboard.DynamicConfigValue) B
}](p B) B {
	for _, v := range []struct{ name, colour string }{{"pass", "green"}, {"fail", "red"}, {"aborted", "orange"}} {
		p = p.OverrideByName(v.name, []dashboard.DynamicConfigValue{
			{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": v.colour}},
		})
	}
	return p
}
