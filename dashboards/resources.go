package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// resources shows PIC's resource usage as sampled around each cycle (growth that does
// not return is a suspected leak) and picsoak's own, to rule out the generator.
func resources() *dashboard.DashboardBuilder {
	return newDashboard("picsoak-resources", "picsoak / Resources",
		"PIC's memory, goroutines and CPU around each cycle, suspected leaks, and picsoak's own resource usage.").
		WithRow(row(1, "PIC, sampled after each cycle")).
		WithPanel(statPanel(2, "Suspected leak",
			"1 when PIC's memory or goroutines grew during the cycle's last run and did not return (picsoak_target_suspected_leak); with several instances, 1 when any of them saw it.",
			"none", 12, 4,
			instant("A", `max by (cycle) (picsoak_target_suspected_leak{`+sel+`})`, "{{cycle}}")).
			Mappings(valueText("0", "no leak", "green", "1", "LEAK?", "red")).
			Thresholds(thresholds("green", step(1, "red")))).
		WithPanel(statPanel(3, "Resources sampled",
			"1 when PIC's resource usage could be sampled before and after the cycle's last run (picsoak_target_resources_available); 0 means PICSOAK_TARGET_METRICS_URL or PICSOAK_TARGET_PID is unset or unreachable and the panels below stay empty. With several instances, 1 when any of them sampled.",
			"none", 12, 4,
			instant("A", `max by (cycle) (picsoak_target_resources_available{`+sel+`})`, "{{cycle}}")).
			Mappings(valueText("1", "sampled", "green", "0", "not sampled", "orange")).
			Thresholds(thresholds("orange", step(1, "green")))).
		WithPanel(timeSeries(4, "PIC resident memory",
			"PIC's resident memory after each cycle's last run (picsoak_target_resident_memory_bytes). A staircase that never steps down is a leak.",
			"bytes", 8, 8,
			query("A", `picsoak_target_resident_memory_bytes{`+sel+`}`, "{{cycle}}")).
			Min(0)).
		WithPanel(timeSeries(5, "PIC goroutines and threads",
			"PIC's goroutines (picsoak_target_goroutines) and OS threads (picsoak_target_threads) after each cycle's last run.",
			"short", 8, 8,
			query("A", `picsoak_target_goroutines{`+sel+`}`, "{{cycle}} goroutines"),
			query("B", `picsoak_target_threads{`+sel+`}`, "{{cycle}} threads")).
			Min(0)).
		WithPanel(timeSeries(6, "PIC CPU per cycle",
			"CPU time PIC used during each cycle's last run (picsoak_target_cpu_seconds).",
			"s", 8, 8,
			query("A", `picsoak_target_cpu_seconds{`+sel+`}`, "{{cycle}}")).
			Min(0)).
		WithPanel(timeSeries(7, "PIC memory growth per cycle",
			"PIC's resident memory after each cycle's last run minus before it (picsoak_target_memory_growth_bytes). Positive every time is a leak; alternating signs are the garbage collector.",
			"bytes", 12, 8,
			query("A", `picsoak_target_memory_growth_bytes{`+sel+`}`, "{{cycle}}"))).
		WithPanel(timeSeries(8, "PIC goroutine growth per cycle",
			"PIC's goroutines after each cycle's last run minus before it (picsoak_target_goroutine_growth). Goroutines left behind by finished requests show up here.",
			"short", 12, 8,
			query("A", `picsoak_target_goroutine_growth{`+sel+`}`, "{{cycle}}"))).
		WithRow(row(9, "picsoak itself")).
		WithPanel(statPanel(10, "picsoak up",
			"Whether Prometheus reaches picsoak's /metrics (up{job=\"picsoak\"}). Every other panel is empty while it is down.",
			"none", 6, 8,
			instant("A", `up{`+selOwn+`}`, "{{instance}}")).
			Mappings(valueText("1", "UP", "green", "0", "DOWN", "red")).
			Thresholds(thresholds("red", step(1, "green")))).
		WithPanel(timeSeries(11, "picsoak resident memory",
			"picsoak's own resident memory (process_resident_memory_bytes) and Go heap in use (go_memstats_heap_inuse_bytes). It should stay flat across cycles: picsoak records into fixed-size histograms.",
			"bytes", 6, 8,
			query("A", `process_resident_memory_bytes{`+selOwn+`}`, "{{instance}} resident"),
			query("B", `go_memstats_heap_inuse_bytes{`+selOwn+`}`, "{{instance}} heap in use")).
			Min(0)).
		WithPanel(timeSeries(12, "picsoak goroutines",
			"picsoak's own goroutines (go_goroutines): they rise with the workers of a running cycle and must fall back after it.",
			"short", 6, 8,
			query("A", `go_goroutines{`+selOwn+`}`, "{{instance}}")).
			Min(0)).
		WithPanel(timeSeries(13, "picsoak CPU",
			"CPU cores picsoak itself uses (rate of process_cpu_seconds_total). Near the machine's core count during a cycle, picsoak may be the bottleneck: check Generator limited on the overview.",
			"short", 6, 8,
			query("A", `rate(process_cpu_seconds_total{`+selOwn+`}`+rateWin+`)`, "{{instance}} cores")).
			Min(0))
}
