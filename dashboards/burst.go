package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// burst shows the last burst cycle burst by burst: how fast each went, how evenly,
// and how long PIC took to answer at its pre-burst latency again.
func burst() *dashboard.DashboardBuilder {
	notRecovered := valueText("-1", "not recovered", "red")
	return newDashboard("picsoak-burst", "picsoak / Burst",
		"Per-burst throughput, duration, success and recovery of the last burst cycle against PIC.").
		WithRow(row(1, "Last burst cycle")).
		WithPanel(statPanel(2, "Burst success ratio",
			"Share of ok requests over all bursts of the last complete burst cycle (picsoak_cycle_success_ratio), coloured against its pass threshold (picsoak_cycle_min_success_ratio, default 0.90).",
			"percentunit", 6, 5,
			instant("A", `picsoak_cycle_success_ratio{`+selBurst+`}`, "success"),
			instant("B", `picsoak_cycle_min_success_ratio{`+selBurst+`}`, "threshold")).
			Thresholds(thresholds("red", step(0.9, "green")))).
		WithPanel(statPanel(3, "Req/s spread across bursts",
			"Coefficient of variation of per-burst req/s in the last burst cycle (picsoak_burst_rps_coefficient_of_variation): stddev ÷ mean, 0 = every burst equally fast.",
			"percentunit", 6, 5,
			instant("A", `picsoak_burst_rps_coefficient_of_variation{`+selInst+`}`, "CoV")).
			Thresholds(thresholds("green", step(0.25, "orange"), step(0.5, "red")))).
		WithPanel(statPanel(4, "Slowest recovery",
			"Longest time after a burst until a probe request answered within the pre-burst latency threshold (max of picsoak_burst_recovery_seconds); it reads -1 (not recovered) only when no burst recovered within the cool-down; the next panel counts the ones that did not. Over every burst of the selected instances.",
			"s", 6, 5,
			instant("A", `max(picsoak_burst_recovery_seconds{`+selInst+`})`, "slowest")).
			Mappings(notRecovered).
			Thresholds(thresholds("green", step(1, "orange")))).
		WithPanel(statPanel(5, "Bursts not recovered",
			"Bursts after which PIC did not answer at its pre-burst latency within the cool-down (picsoak_burst_recovery_seconds = -1), counted over the selected instances.",
			"none", 6, 5,
			instant("A", `count(picsoak_burst_recovery_seconds{`+selInst+`} < 0) or vector(0)`, "not recovered")).
			Thresholds(thresholds("green", step(1, "red")))).
		WithPanel(barGauge(6, "Req/s per burst",
			"Requests per second each burst of the last burst cycle achieved (picsoak_burst_rps; the 20 slowest bursts, picsoak_burst_rps_spread has them all), sent as fast as the workers allow.",
			"reqps", 12, 8,
			instant("A", `picsoak_burst_rps{`+selInst+`}`, "burst {{burst}}")).
			Min(0)).
		WithPanel(barGauge(7, "Duration per burst",
			"Wall time each burst of the last burst cycle took from first request sent to last answer (picsoak_burst_duration_seconds).",
			"s", 12, 8,
			instant("A", `picsoak_burst_duration_seconds{`+selInst+`}`, "burst {{burst}}")).
			Min(0)).
		WithPanel(barGauge(8, "Recovery per burst",
			"Time after each burst until PIC answered at its pre-burst latency again (picsoak_burst_recovery_seconds); -1 (shown as not recovered) when it did not within the cool-down.",
			"s", 12, 8,
			instant("A", `picsoak_burst_recovery_seconds{`+selInst+`}`, "burst {{burst}}")).
			Mappings(notRecovered).
			Min(0)).
		WithPanel(barGauge(9, "Success ratio per burst",
			"Share of ok requests in each burst of the last burst cycle (picsoak_burst_success_ratio).",
			"percentunit", 12, 8,
			instant("A", `picsoak_burst_success_ratio{`+selInst+`}`, "burst {{burst}}")).
			Min(0).
			Max(1).
			Thresholds(thresholds("red", step(0.9, "green")))).
		WithRow(row(10, "Over time")).
		WithPanel(timeSeries(11, "Req/s per burst over time",
			"Each burst's req/s (picsoak_burst_rps) as the burst cycle reran: a burst whose line drops while the others hold is PIC slowing under repeated bursts.",
			"reqps", 12, 8,
			query("A", `picsoak_burst_rps{`+selInst+`}`, "burst {{burst}}")).
			Min(0)).
		WithPanel(timeSeries(12, "Spread and recovery over time",
			"Spread of per-burst req/s (picsoak_burst_rps_coefficient_of_variation, left axis) and the slowest recovery (max picsoak_burst_recovery_seconds over the selected instances, right axis, -1 = not recovered) per burst cycle.",
			"percentunit", 12, 8,
			query("A", `picsoak_burst_rps_coefficient_of_variation{`+selInst+`}`, "req/s CoV"),
			query("B", `max(picsoak_burst_recovery_seconds{`+selInst+`})`, "slowest recovery")).
			WithOverride(dashboard.MatcherConfig{Id: "byFrameRefID", Options: "B"}, []dashboard.DynamicConfigValue{
				{Id: "unit", Value: "s"},
				{Id: "custom.axisPlacement", Value: "right"},
			})).
		WithPanel(timeSeries(13, "Burst latency p50 / p99 (live)",
			"Latency quantiles while the burst cycle runs, from the classic buckets of picsoak_request_duration_seconds{cycle=\"burst\"}, the requests of every selected instance together.",
			"s", 12, 8,
			query("A", quantileExpr("0.5", selBurst), "p50"),
			query("B", quantileExpr("0.99", selBurst), "p99"))).
		WithPanel(timeSeries(14, "Burst duration over time",
			"Each burst's wall time (picsoak_burst_duration_seconds) as the burst cycle reran.",
			"s", 12, 8,
			query("A", `picsoak_burst_duration_seconds{`+selInst+`}`, "burst {{burst}}")).
			Min(0))
}
