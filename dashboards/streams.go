package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// streams shows whether PIC serves independent streams fairly: Jain's index, the
// slowest stream against the median, starved streams, and each stream's figures.
func streams() *dashboard.DashboardBuilder {
	return newDashboard("picsoak-streams", "picsoak / Streams",
		"Fairness, starvation and per-stream throughput and latency of the last streams cycle against PIC.").
		WithRow(row(1, "Last streams cycle")).
		WithPanel(statPanel(2, "Fairness (Jain's index)",
			"Jain's fairness index over stream throughputs in the last streams cycle (picsoak_streams_fairness_index): 1 = every stream got the same throughput, 1/n = one stream got everything.",
			"none", 6, 5,
			instant("A", `picsoak_streams_fairness_index{`+selInst+`}`, "fairness")).
			Decimals(3).
			Thresholds(thresholds("red", step(0.8, "orange"), step(0.95, "green")))).
		WithPanel(statPanel(3, "Slowest ÷ median stream",
			"Slowest stream's throughput ÷ the median stream's in the last streams cycle (picsoak_streams_slowest_to_median_ratio): 1 = no laggard; under 0.5 that stream is starved.",
			"percentunit", 6, 5,
			instant("A", `picsoak_streams_slowest_to_median_ratio{`+selInst+`}`, "slowest/median")).
			Thresholds(thresholds("red", step(0.5, "orange"), step(0.8, "green")))).
		WithPanel(statPanel(4, "Starved streams",
			"Streams that ran at under half the median stream's throughput in the last streams cycle (picsoak_streams_starved).",
			"none", 6, 5,
			instant("A", `picsoak_streams_starved{`+selInst+`}`, "starved")).
			Thresholds(thresholds("green", step(1, "red")))).
		WithPanel(statPanel(5, "Streams success ratio",
			"Share of ok requests over all streams of the last complete streams cycle (picsoak_cycle_success_ratio), coloured against the default pass threshold 0.95 (picsoak_cycle_min_success_ratio holds the configured one).",
			"percentunit", 6, 5,
			instant("A", `picsoak_cycle_success_ratio{`+selStrm+`}`, "success"),
			instant("B", `picsoak_cycle_min_success_ratio{`+selStrm+`}`, "threshold")).
			Thresholds(thresholds("red", step(0.95, "green")))).
		WithPanel(barGauge(6, "Throughput of the slowest streams",
			"Requests per second each of the 20 slowest streams of the last streams cycle completed, sending one request after another (picsoak_streams_throughput_rps; only the slowest 20 are exported one by one, the spread panel has them all). Stream indexes are global across PICSOAK_SHARD replicas, so every shard's streams show side by side.",
			"reqps", 12, 8,
			instant("A", `picsoak_streams_throughput_rps{`+selInst+`}`, "stream {{stream}}")).
			Min(0)).
		WithPanel(barGauge(7, "p99 latency of the slowest streams",
			"99th percentile latency of each of the 20 slowest streams of the last streams cycle (picsoak_streams_p99_latency_seconds).",
			"s", 12, 8,
			instant("A", `picsoak_streams_p99_latency_seconds{`+selInst+`}`, "stream {{stream}}")).
			Min(0)).
		WithPanel(barGauge(14, "Spread over all streams",
			"The per-stream req/s (picsoak_streams_throughput_spread_rps) and p99 latency (picsoak_streams_p99_latency_spread_seconds, right) over every stream of the last streams cycle: slowest (q0), median (q0.5), p90 and fastest or worst (q1), however many streams ran.",
			"reqps", 24, 6,
			instant("A", `max by (quantile) (picsoak_streams_throughput_spread_rps{`+selInst+`})`, "req/s q{{quantile}}"),
			instant("B", `max by (quantile) (picsoak_streams_p99_latency_spread_seconds{`+selInst+`})`, "p99 q{{quantile}}")).
			Min(0).
			WithOverride(dashboard.MatcherConfig{Id: "byFrameRefID", Options: "B"}, []dashboard.DynamicConfigValue{{Id: "unit", Value: "s"}}).
			Orientation(common.VizOrientationHorizontal)).
		WithRow(row(8, "Over time")).
		WithPanel(timeSeries(9, "Fairness and slowest ÷ median over time",
			"Jain's index (picsoak_streams_fairness_index) and slowest ÷ median stream throughput (picsoak_streams_slowest_to_median_ratio) per streams cycle; both 1 when PIC is fair.",
			"none", 12, 8,
			query("A", `picsoak_streams_fairness_index{`+selInst+`}`, "fairness"),
			query("B", `picsoak_streams_slowest_to_median_ratio{`+selInst+`}`, "slowest/median")).
			Min(0).
			Max(1)).
		WithPanel(timeSeries(10, "Starved streams over time",
			"Streams under half the median throughput per streams cycle (picsoak_streams_starved).",
			"none", 12, 8,
			query("A", `picsoak_streams_starved{`+selInst+`}`, "starved")).
			Min(0).
			Decimals(0)).
		WithPanel(timeSeries(11, "Throughput per stream over time",
			"The req/s of each of the 20 slowest streams (picsoak_streams_throughput_rps) as the streams cycle reran.",
			"reqps", 12, 8,
			query("A", `picsoak_streams_throughput_rps{`+selInst+`}`, "stream {{stream}}")).
			Min(0)).
		WithPanel(timeSeries(12, "p99 per stream over time",
			"The p99 latency of each of the 20 slowest streams (picsoak_streams_p99_latency_seconds) as the streams cycle reran.",
			"s", 12, 8,
			query("A", `picsoak_streams_p99_latency_seconds{`+selInst+`}`, "stream {{stream}}")).
			Min(0)).
		WithPanel(timeSeries(13, "Streams latency p50 / p99 (live)",
			"Latency quantiles while the streams cycle runs, from the classic buckets of picsoak_request_duration_seconds{cycle=\"streams\"}, the requests of every selected instance together.",
			"s", 24, 8,
			query("A", quantileExpr("0.5", selStrm), "p50"),
			query("B", quantileExpr("0.99", selStrm), "p99")))
}
