package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// overview answers "is PIC passing, and how fast": verdicts, success ratio against its
// threshold, throughput against the target rate, live request rate and latency.
func overview() *dashboard.DashboardBuilder {
	return newDashboard("picsoak-overview", "picsoak / Overview",
		"Verdict, success ratio, throughput and latency of every picsoak cycle against PIC.").
		WithRow(row(1, "Verdict")).
		WithPanel(statPanel(2, "Last verdict per cycle",
			"Verdict of each cycle's last complete run (picsoak_cycle_pass): PASS when every one of its thresholds held (PICSOAK_<CYCLE>_THRESHOLDS and its success ratio). Aborted runs keep the previous verdict. With several instances (PICSOAK_SHARD replicas), the worst of them: FAIL when any failed.",
			"none", 8, 5,
			instant("A", `min by (cycle) (picsoak_cycle_pass{`+sel+`})`, "{{cycle}}")).
			Mappings(valueText("1", "PASS", "green", "0", "FAIL", "red")).
			Thresholds(thresholds("red", step(1, "green")))).
		WithPanel(statPanel(3, "Since last cycle ended",
			"Time since each cycle last finished (picsoak_cycle_last_end_timestamp_seconds). It should stay under the cycle's schedule interval (picsoak_cycle_interval_seconds) plus its duration; more means cycles stopped running. With several instances, the one whose last cycle ended longest ago.",
			"s", 8, 5,
			instant("A", `time() - min by (cycle) (picsoak_cycle_last_end_timestamp_seconds{`+sel+`})`, "{{cycle}}")).
			// The limit depends on each cycle's schedule, so no fixed colour threshold:
			// the stale-cycle alert compares against picsoak_cycle_interval_seconds.
			Thresholds(thresholds("blue"))).
		WithPanel(statPanel(4, "Generator limited",
			"1 when picsoak, not PIC, set the pace of the cycle's last run (picsoak_cycle_generator_limited): its numbers understate PIC and the verdict is not about PIC. With several instances, 1 when any of them was.",
			"none", 8, 5,
			instant("A", `max by (cycle) (picsoak_cycle_generator_limited{`+sel+`})`, "{{cycle}}")).
			Mappings(valueText("0", "PIC-limited (valid)", "green", "1", "picsoak-limited", "orange")).
			Thresholds(thresholds("green", step(1, "orange")))).
		// Counted over a fixed hour rather than $__interval: cycles run minutes apart,
		// so a per-bar window as short as the graph's step would mostly hold nothing.
		WithPanel(timeSeries(5, "Cycles finished per hour by verdict",
			"Cycles finished in the hour up to each point, by verdict (picsoak_cycles_total): pass, fail or aborted; skipped counts runs dropped because the same cycle was still waiting or running (picsoak_cycles_skipped_total); summed over the selected instances.",
			"short", 16, 7,
			query("A", `sum by (cycle, verdict) (increase(picsoak_cycles_total{`+sel+`}[1h]))`, "{{cycle}} {{verdict}}"),
			query("B", `sum by (cycle) (increase(picsoak_cycles_skipped_total{`+sel+`}[1h]))`, "{{cycle}} skipped")).
			Min(0).
			Decimals(0).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))).
		WithPanel(verdictColours(barGauge(16, "Cycles by verdict in the time range",
			"Cycles finished in the dashboard's time range, by verdict (picsoak_cycles_total, all selected cycles and instances together).",
			"short", 8, 7,
			instant("A", `round(sum by (verdict) (increase(picsoak_cycles_total{`+sel+`}[$__range])))`, "{{verdict}}")).
			Min(0).
			Decimals(0).
			Orientation(common.VizOrientationHorizontal))).
		WithPanel(statPanel(25, "Thresholds of the last cycle",
			"Each threshold of each cycle's last complete run (picsoak_cycle_threshold_met): held or missed, named NAME OP as configured (PICSOAK_<CYCLE>_THRESHOLDS, MIN_SUCCESS_RATIO as success >=); its bound is picsoak_cycle_threshold. With several instances, missed when any missed it.",
			"none", 24, 5,
			instant("A", `min by (cycle, metric, op) (picsoak_cycle_threshold_met{`+sel+`})`, "{{cycle}} {{metric}} {{op}}")).
			Mappings(valueText("1", "held", "green", "0", "missed", "red")).
			Thresholds(thresholds("red", step(1, "green")))).
		WithRow(row(6, "Success and throughput")).
		WithPanel(timeSeries(7, "Success ratio vs threshold",
			"Share of ok requests in each cycle's last complete run (picsoak_cycle_success_ratio, solid) against the pass threshold it is judged by (picsoak_cycle_min_success_ratio, dashed). A solid line under its dashed line is a failed cycle.",
			"percentunit", 12, 8,
			query("A", `picsoak_cycle_success_ratio{`+sel+`}`, "{{cycle}}"),
			query("B", `picsoak_cycle_min_success_ratio{`+sel+`}`, "{{cycle}} threshold")).
			Max(1).
			WithOverride(dashedByQuery("B"))).
		WithPanel(timeSeries(8, "Throughput vs target rate",
			"Requests per second each cycle's last complete run completed (picsoak_cycle_throughput_rps, solid) against the arrival rate it aimed for (picsoak_cycle_target_rps, dashed; only open-model cycles have one, closed-loop cycles send as fast as PIC answers), summed over the selected instances: the shards of one load (PICSOAK_SHARD) add up to the configured rate.",
			"reqps", 12, 8,
			query("A", `sum by (cycle) (picsoak_cycle_throughput_rps{`+sel+`})`, "{{cycle}}"),
			query("B", `sum by (cycle) (picsoak_cycle_target_rps{`+sel+`}) > 0`, "{{cycle}} target")).
			Min(0).
			WithOverride(dashedByQuery("B"))).
		WithPanel(timeSeries(9, "Request rate by outcome (live)",
			"Requests per second sent to PIC while cycles run, by how they ended (picsoak_requests_total): ok, http_error, timeout, conn_error, other. Anything but ok counts against the success ratio. Summed over the selected instances and endpoints.",
			"reqps", 12, 8,
			query("A", `sum by (cycle, outcome) (rate(picsoak_requests_total{`+selEp+`}`+rateWin+`))`, "{{cycle}} {{outcome}}")).
			Min(0)).
		WithPanel(timeSeries(23, "Responses by endpoint and status code (live)",
			"Requests per second by PIC's endpoint and the HTTP status it answered with (picsoak_responses_total); code none is a request no reply came to (timeouts, connection errors). Summed over the selected instances and cycles.",
			"reqps", 12, 8,
			query("A", `sum by (endpoint, code) (rate(picsoak_responses_total{`+selEp+`}`+rateWin+`))`, "{{endpoint}} {{code}}")).
			Min(0)).
		WithPanel(timeSeries(24, "Request latency p99 by endpoint (live)",
			"p99 latency of each endpoint while cycles run, from the classic buckets of picsoak_request_duration_seconds; the requests of every selected instance and cycle count together.",
			"s", 12, 8,
			query("A", `histogram_quantile(0.99, sum by (endpoint, le) (rate(picsoak_request_duration_seconds_bucket{`+selEp+`}`+rateWin+`)))`, "{{endpoint}} p99"))).
		WithPanel(timeSeries(10, "Sustained degradation (last third ÷ first third)",
			"Inside the last sustained cycle: ok req/s of its last third ÷ its first third (picsoak_sustained_throughput_change_ratio; under 1 = slowed down) and p99 of its last third ÷ first third (picsoak_sustained_p99_change_ratio; over 1 = got slower), averaged over the selected instances.",
			"none", 12, 8,
			query("A", `avg(picsoak_sustained_throughput_change_ratio{`+sel+`})`, "throughput change"),
			query("B", `avg(picsoak_sustained_p99_change_ratio{`+sel+`})`, "p99 change"))).
		WithRow(row(11, "Latency")).
		WithPanel(timeSeries(12, "Request latency p50 / p99 (live)",
			"Latency quantiles while cycles run, from the classic buckets of picsoak_request_duration_seconds (accurate to a bucket boundary). Sustained latency counts from each request's intended start, so a stalled PIC cannot hide behind a stalled generator. The requests of every selected instance count together.",
			"s", 12, 8,
			query("A", quantileExpr("0.5", selEp), "{{cycle}} p50"),
			query("B", quantileExpr("0.99", selEp), "{{cycle}} p99"))).
		WithPanel(barGauge(13, "Last cycle latency quantiles",
			"Exact latency quantiles (0.5 … 1 = max) of each cycle's last complete run, computed once at its end from an HDR histogram (picsoak_cycle_latency_seconds); with several instances, the worst of them.",
			"s", 12, 8,
			instant("A", `max by (cycle, quantile) (picsoak_cycle_latency_seconds{`+sel+`})`, "{{cycle}} q{{quantile}}"))).
		WithPanel(timeSeries(14, "Late requests (generator fell behind)",
			"Requests per second that started late because every sustained worker was busy (picsoak_generator_late_requests_total). Non-zero means PIC answered slower than the arrival rate allows for the configured workers; latency still counts from the intended start. Summed over the selected instances.",
			"reqps", 12, 8,
			query("A", `sum by (cycle) (rate(picsoak_generator_late_requests_total{`+sel+`}`+rateWin+`))`, "{{cycle}}")).
			Min(0)).
		WithPanel(timeSeries(15, "Cycle duration",
			"Wall time of each cycle's last run (picsoak_cycle_duration_seconds), and 1 while a cycle is running (picsoak_cycle_in_progress, right axis); with several instances, the longest, and 1 while any runs.",
			"s", 12, 8,
			query("A", `max by (cycle) (picsoak_cycle_duration_seconds{`+sel+`})`, "{{cycle}} duration"),
			query("B", `max by (cycle) (picsoak_cycle_in_progress{`+sel+`})`, "{{cycle}} running")).
			Min(0).
			WithOverride(dashboard.MatcherConfig{Id: "byFrameRefID", Options: "B"}, []dashboard.DynamicConfigValue{
				{Id: "custom.axisPlacement", Value: "right"},
				{Id: "unit", Value: "none"},
				{Id: "custom.drawStyle", Value: "bars"},
			})).
		WithPanel(timeSeries(22, "p99: latency vs service time (sustained, capacity)",
			"p99 of each open-model cycle's last complete run counted from each request's intended start (picsoak_cycle_latency_seconds, what the alerts use) and from its actual send (picsoak_cycle_service_time_seconds, dashed; what fortio and k6 report). A gap between them is time due requests waited for picsoak: busy workers (see Late requests), or a generator CPU that was halted or taken by the host (docs/performance.md, PICSOAK_KEEP_CPUS_AWAKE). With several instances, the worst of them.",
			"s", 24, 8,
			query("A", `max by (cycle) (picsoak_cycle_latency_seconds{quantile="0.99",cycle=~"sustained|capacity",`+sel+`})`, "{{cycle}} latency p99"),
			query("B", `max by (cycle) (picsoak_cycle_service_time_seconds{quantile="0.99",`+sel+`})`, "{{cycle}} service time p99")).
			Min(0).
			WithOverride(dashedByQuery("B"))).
		// The SLO row reads the recording rules of alerts/picsoak.rules.yml, which
		// aggregate by job: the SLO is PIC's, whichever instance measured it.
		WithRow(row(26, "SLOs (error budgets)")).
		WithPanel(timeSeries(27, "SLIs vs objective (last hour)",
			"Share of PIC's requests in the last hour that were ok (availability) or answered within the latency threshold (latency, picsoak_slo_latency_threshold_seconds), from picsoak:slo_errors:ratio_rate1h, against each SLO's objective (picsoak_slo_objective_ratio, dashed). The capacity cycle's requests are no SLI. Gaps are hours without a request.",
			"percentunit", 12, 8,
			query("A", `1 - picsoak:slo_errors:ratio_rate1h{`+selJob+`}`, "{{job}} {{slo}}"),
			query("B", `max by (job, slo) (picsoak_slo_objective_ratio{`+selJob+`})`, "{{job}} {{slo}} objective")).
			Max(1).
			WithOverride(dashedByQuery("B"))).
		WithPanel(statPanel(28, "Error budget left",
			"Share of each SLO's error budget (1 − objective) left over the SLO window ($slo_window): 1 − the window's mean 15-minute error ratio ÷ the budget. Under 0 the SLO is broken for the window.",
			"percentunit", 12, 8,
			instant("A", `1 - avg_over_time(picsoak:slo_errors:ratio_rate15m{`+selJob+`}[$slo_window]) / on (job, slo) picsoak:slo_error_budget:ratio`, "{{job}} {{slo}}")).
			Thresholds(thresholds("red", step(0.25, "orange"), step(0.5, "green")))).
		WithPanel(timeSeries(29, "Burn rates",
			"How many times faster than the SLO window allows each SLO's budget burns, over 15m, 1h, 6h and 1d (error ratio ÷ budget; 1 uses the budget up exactly at the window's end). The fast-burn page fires over 14.4 (1h and 15m) or 6 (6h and 30m) for a 30-day window; the slow-burn ticket over 3 (1d and 2h) or 1 (3d and 6h).",
			"none", 24, 8,
			query("A", `picsoak:slo_errors:ratio_rate15m{`+selJob+`} / on (job, slo) picsoak:slo_error_budget:ratio`, "{{job}} {{slo}} 15m"),
			query("B", `picsoak:slo_errors:ratio_rate1h{`+selJob+`} / on (job, slo) picsoak:slo_error_budget:ratio`, "{{job}} {{slo}} 1h"),
			query("C", `picsoak:slo_errors:ratio_rate6h{`+selJob+`} / on (job, slo) picsoak:slo_error_budget:ratio`, "{{job}} {{slo}} 6h"),
			query("D", `picsoak:slo_errors:ratio_rate1d{`+selJob+`} / on (job, slo) picsoak:slo_error_budget:ratio`, "{{job}} {{slo}} 1d")).
			Min(0)).
		// Batch runs (picsoak run --pushgateway) are the pushed groups: they carry a
		// shard label, which a daemon's series do not.
		WithRow(row(30, "Batch runs (picsoak run --pushgateway)")).
		WithPanel(statPanel(31, "Last verdict per batch job",
			"Verdict of each batch job's last pushed run, over all its shards (job:picsoak_run_pass:min, from picsoak_run_pass): PASS when every shard's run passed, FAIL when any failed, regressed against its baseline, or found PIC unreachable.",
			"none", 8, 6,
			instant("A", `job:picsoak_run_pass:min{`+selJob+`}`, "{{job}}")).
			Mappings(valueText("1", "PASS", "green", "0", "FAIL", "red")).
			Thresholds(thresholds("red", step(1, "green")))).
		WithPanel(statPanel(32, "Since last push",
			"Time since each batch job's shard last pushed (push_time_seconds, the Pushgateway's), against its expected interval (picsoak_push_expected_interval_seconds): past it, PicsoakBatchRunMissing fires.",
			"s", 8, 6,
			instant("A", `time() - (push_time_seconds{`+selJob+`} and on (job, instance, shard) picsoak_push_expected_interval_seconds)`, "{{job}} {{instance}} shard {{shard}}")).
			Thresholds(thresholds("blue"))).
		WithPanel(statPanel(33, "Batch runs' thresholds",
			"Each threshold of the cycles of each batch job's last pushed run (picsoak_cycle_threshold_met of the pushed groups): held or missed; with several shards, missed when any shard missed it.",
			"none", 8, 6,
			instant("A", `min by (job, cycle, metric, op) (picsoak_cycle_threshold_met{shard!="",`+selJob+`})`, "{{job}} {{cycle}} {{metric}} {{op}}")).
			Mappings(valueText("1", "held", "green", "0", "missed", "red")).
			Thresholds(thresholds("red", step(1, "green")))).
		WithPanel(timeSeries(34, "Batch runs' throughput",
			"Requests per second each batch job's last pushed run completed per cycle, summed over its shards (job_cycle:picsoak_run_throughput_rps:sum).",
			"reqps", 24, 7,
			query("A", `job_cycle:picsoak_run_throughput_rps:sum{`+selJob+`}`, "{{job}} {{cycle}}")).
			Min(0)).
		// Summed over the selected instances: shards of one load (PICSOAK_SHARD) each
		// run their share of every step, so PIC's capacity is the sum of theirs.
		WithRow(row(17, "Capacity (capacity cycle, off by default)")).
		WithPanel(statPanel(18, "Highest sustained rate",
			"Highest offered rate PIC met its SLO at in the last capacity cycle (picsoak_capacity_max_sustained_rps), summed over the selected instances. 0 until a capacity cycle ran (PICSOAK_CAPACITY_SCHEDULE is off by default) or when not even its first step met the SLO.",
			"reqps", 8, 5,
			instant("A", `sum(picsoak_capacity_max_sustained_rps{`+selInst+`})`, "sustained")).
			Thresholds(thresholds("blue"))).
		WithPanel(statPanel(19, "Knee",
			"Offered rate of the first step where PIC missed its SLO in the last capacity cycle (picsoak_capacity_knee_rps), summed over the selected instances; 0 when there was none: the ceiling was reached, or picsoak's generator fell behind first (see Generator limited).",
			"reqps", 8, 5,
			instant("A", `sum(picsoak_capacity_knee_rps{`+selInst+`})`, "knee")).
			Mappings(valueText("0", "none", "text")).
			Thresholds(thresholds("blue"))).
		WithPanel(statPanel(20, "Achievement vs enterprise target",
			"Highest sustained rate ÷ the enterprise target (PICSOAK_ENTERPRISE_TARGET_RPS, default 50,000 req/s) (picsoak_capacity_achievement_ratio), summed over the selected instances.",
			"percentunit", 8, 5,
			instant("A", `sum(picsoak_capacity_achievement_ratio{`+selInst+`})`, "achievement")).
			Thresholds(thresholds("red", step(0.5, "orange"), step(1, "green")))).
		WithPanel(timeSeries(21, "Capacity over time",
			"Highest sustained rate (picsoak_capacity_max_sustained_rps) and knee (picsoak_capacity_knee_rps, dashed) of each capacity cycle, summed over the selected instances: a falling line is PIC losing capacity.",
			"reqps", 24, 8,
			query("A", `sum(picsoak_capacity_max_sustained_rps{`+selInst+`})`, "highest sustained"),
			query("B", `sum(picsoak_capacity_knee_rps{`+selInst+`})`, "knee")).
			Min(0).
			WithOverride(dashedByQuery("B")))
}
