package web

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/web/svgplot"
)

// percentileStep is the spacing of the percentile curve's points in decades of the
// log axis: 20 points from 0 % to 90 %, 20 more to 99 %, and so on.
const percentileStep = 0.05

// percentileCurve is the latency (ms) at quantiles spaced evenly on the log
// percentile axis, up to where h's count still resolves them, ending at the maximum.
func percentileCurve(h *hdrhistogram.Histogram) []svgplot.Point {
	n := h.TotalCount()
	if n == 0 {
		return nil
	}
	top := resolvedDecades(n)
	var pts []svgplot.Point
	for i := 0; float64(i)*percentileStep < top-1e-9; i++ {
		q := 1 - math.Pow(10, -float64(i)*percentileStep)
		pts = append(pts, svgplot.Point{X: q, Y: usToMS(h.ValueAtQuantile(q * 100))})
	}
	return append(pts, svgplot.Point{X: 1 - math.Pow(10, -top), Y: usToMS(h.Max())})
}

// resolvedDecades is how far, in decades of the log percentile axis, a curve of n
// values goes: past 1-1/n every quantile is the maximum and would only repeat it.
// At least to 99 %, so that small cycles share the axis of large ones.
func resolvedDecades(n int64) float64 { return math.Max(2, math.Log10(float64(n))) }

// summaryCurve is the fallback for results read back from reports, which keep only
// the summary quantiles: min at 0 %, each quantile, and the maximum at the end.
func summaryCurve(s soak.LatencySummary) []svgplot.Point {
	if s.Count == 0 {
		return nil
	}
	pts := []svgplot.Point{{X: 0, Y: s.Min * 1e3}}
	top := resolvedDecades(s.Count)
	for _, q := range s.Quantiles {
		if q.Quantile < 1 && -math.Log10(1-q.Quantile) <= top+1e-9 {
			pts = append(pts, svgplot.Point{X: q.Quantile, Y: q.Seconds * 1e3})
		}
	}
	// Like percentileCurve, the maximum sits where the count stops resolving quantiles.
	return append(pts, svgplot.Point{X: 1 - math.Pow(10, -top), Y: s.Max * 1e3})
}

func usToMS(v int64) float64 { return float64(v) / 1e3 }

// latencyPlot is the last result's percentile distribution.
func latencyPlot(kind soak.Kind, r *soak.Result) template.HTML {
	var pts []svgplot.Point
	source := "from its report's quantiles"
	if r != nil {
		if h := r.Histogram(); h != nil {
			pts, source = percentileCurve(h), "HDR histogram"
		} else {
			pts = summaryCurve(r.Latency)
		}
	}
	series := []svgplot.Series{{Name: "latency", Points: pts}}
	// Open-model cycles also know each request's service time; the gap between the
	// curves is time requests waited for picsoak itself.
	if r != nil && r.ServiceTime != nil && r.ServiceTime.Count > 0 {
		series = append(series, svgplot.Series{Name: "service time", Points: summaryCurve(*r.ServiceTime)})
	}
	return svgplot.Line{
		ID:    "latency-" + kind.String(),
		Title: "Latency by percentile, last cycle",
		// The source goes below, leaving the title row room for a legend.
		X:      svgplot.Axis{Scale: svgplot.Percentile, Label: "percentile (" + source + ")"},
		Y:      svgplot.Axis{Label: "ms", FromZero: true},
		Series: series,
	}.SVG()
}

// historyPlots are throughput and p99 over the recent cycles of one kind.
func historyPlots(kind soak.Kind, reports []storedReport) []template.HTML {
	var tp, p99 []svgplot.Point
	for _, rep := range reports {
		r := rep.Result
		x := unixSeconds(r.End)
		tp = append(tp, svgplot.Point{X: x, Y: r.ThroughputRPS})
		p99 = append(p99, svgplot.Point{X: x, Y: r.Latency.Quantile(0.99) * 1e3})
	}
	label := fmt.Sprintf("last %d cycles", len(reports))
	return []template.HTML{
		svgplot.Line{
			ID: "throughput-" + kind.String(), Title: "Throughput over recent cycles",
			X: svgplot.Axis{Scale: svgplot.Time, Label: label}, Y: svgplot.Axis{Label: "req/s", FromZero: true},
			Series: []svgplot.Series{{Name: "throughput", Points: tp, Markers: true}},
		}.SVG(),
		svgplot.Line{
			ID: "p99-" + kind.String(), Title: "p99 latency over recent cycles",
			X: svgplot.Axis{Scale: svgplot.Time, Label: label}, Y: svgplot.Axis{Label: "ms", FromZero: true},
			Series: []svgplot.Series{{Name: "p99", Points: p99, Markers: true}},
		}.SVG(),
	}
}

// detailPlot is the kind's own figure of its last result: req/s per burst, latency per
// stream; nothing for sustained, whose history plots say it all.
func detailPlot(kind soak.Kind, r *soak.Result) (template.HTML, bool) {
	switch kind {
	case soak.Burst:
		b := svgplot.Bars{ID: "bursts", Title: "Req/s per burst, last cycle", CategoryLabel: "burst", Y: svgplot.Axis{Label: "req/s"}}
		if r != nil && r.Burst != nil {
			s := svgplot.BarSeries{Name: "req/s"}
			for _, st := range r.Burst.Bursts {
				b.Categories = append(b.Categories, strconv.Itoa(st.Index+1))
				s.Values = append(s.Values, st.RPS)
			}
			b.Series = []svgplot.BarSeries{s}
		}
		b.Tooltip = func(cat string, _ svgplot.BarSeries, v float64) string {
			return fmt.Sprintf("burst %s: %.1f req/s", cat, v)
		}
		return b.SVG(), true
	case soak.Streams:
		b := svgplot.Bars{ID: "streams", Title: "Latency per stream, last cycle", CategoryLabel: "stream", Y: svgplot.Axis{Label: "ms"}}
		if r != nil && r.Streams != nil {
			shown := r.Streams.Streams
			if len(shown) > soak.SlowestShown {
				// As many bars as the exported series: the slowest streams; the spread
				// plot has every stream.
				shown = r.Streams.Slowest(soak.SlowestShown)
				b.Title = fmt.Sprintf("Latency of the %d slowest of %d streams, last cycle", len(shown), len(r.Streams.Streams))
			}
			p50, p99 := svgplot.BarSeries{Name: "p50"}, svgplot.BarSeries{Name: "p99"}
			for _, st := range shown {
				b.Categories = append(b.Categories, strconv.Itoa(st.Index))
				p50.Values = append(p50.Values, st.P50Seconds*1e3)
				p99.Values = append(p99.Values, st.P99Seconds*1e3)
			}
			b.Series = []svgplot.BarSeries{p50, p99}
		}
		b.Tooltip = func(cat string, s svgplot.BarSeries, v float64) string {
			return fmt.Sprintf("stream %s %s: %.3f ms", cat, s.Name, v)
		}
		return b.SVG(), true
	case soak.Capacity:
		return capacityPlot(r), true
	}
	return "", false
}

// streamSpreadPlot is every stream's req/s of the last streams cycle, slowest to
// fastest over the share of streams: flat when PIC serves them alike, with a tail at
// the left for starved ones, however many streams ran.
func streamSpreadPlot(r *soak.Result) template.HTML {
	l := svgplot.Line{ID: "streams-spread", Title: "Req/s of every stream, slowest to fastest, last cycle",
		X: svgplot.Axis{Label: "% of streams", FromZero: true}, Y: svgplot.Axis{Label: "req/s", FromZero: true}}
	if r == nil || r.Streams == nil || len(r.Streams.Streams) == 0 {
		return l.SVG()
	}
	all := r.Streams.Slowest(len(r.Streams.Streams))
	s := svgplot.Series{Name: "req/s"}
	for i, st := range all {
		s.Points = append(s.Points, svgplot.Point{X: 100 * float64(i+1) / float64(len(all)), Y: st.ThroughputRPS})
	}
	l.Series = []svgplot.Series{s}
	return l.SVG()
}

// capacityPlot is latency against the offered rate, one point per step of the last
// search, with the SLO's p99 as a flat line: where p99 crosses it is the knee.
func capacityPlot(r *soak.Result) template.HTML {
	l := svgplot.Line{
		ID: "capacity", Title: "p99 and p50 latency by offered rate, last search",
		X: svgplot.Axis{Label: "offered req/s", FromZero: true}, Y: svgplot.Axis{Label: "ms", FromZero: true},
	}
	if r == nil || r.Capacity == nil || len(r.Capacity.Steps) == 0 {
		return l.SVG()
	}
	d := r.Capacity
	p99, p50 := svgplot.Series{Name: "p99", Markers: true}, svgplot.Series{Name: "p50", Markers: true}
	for _, st := range d.Steps {
		p99.Points = append(p99.Points, svgplot.Point{X: st.OfferedRPS, Y: st.P99Seconds * 1e3})
		p50.Points = append(p50.Points, svgplot.Point{X: st.OfferedRPS, Y: st.P50Seconds * 1e3})
	}
	slo := svgplot.Series{Name: "SLO p99", Points: []svgplot.Point{
		{X: d.Steps[0].OfferedRPS, Y: d.MaxP99Seconds * 1e3}, {X: d.Steps[len(d.Steps)-1].OfferedRPS, Y: d.MaxP99Seconds * 1e3},
	}}
	l.Series = []svgplot.Series{p99, p50, slo}
	return l.SVG()
}

// resourcePlots are PIC's memory and goroutines after and at the peak of every recent
// cycle, of all kinds, in time order.
func resourcePlots(all []storedReport) []template.HTML {
	all = slices.Clone(all)
	slices.SortFunc(all, func(a, b storedReport) int { return a.Result.End.Compare(b.Result.End) })
	memAfter, memPeak := svgplot.Series{Name: "after", Markers: true}, svgplot.Series{Name: "peak", Markers: true}
	gorAfter, gorPeak := svgplot.Series{Name: "after", Markers: true}, svgplot.Series{Name: "peak", Markers: true}
	add := func(s *svgplot.Series, x float64, v *float64, scale float64) {
		if v != nil {
			s.Points = append(s.Points, svgplot.Point{X: x, Y: *v * scale})
		}
	}
	for _, rep := range all {
		res := rep.Result.Resources
		if res == nil {
			continue
		}
		x := unixSeconds(rep.Result.End)
		if res.After != nil {
			add(&memAfter, x, res.After.ResidentMemoryBytes, 1.0/(1<<20))
			add(&gorAfter, x, res.After.Goroutines, 1)
		}
		if res.Peak != nil {
			add(&memPeak, x, res.Peak.ResidentMemoryBytes, 1.0/(1<<20))
			add(&gorPeak, x, res.Peak.Goroutines, 1)
		}
	}
	return []template.HTML{
		svgplot.Line{
			ID: "pic-memory", Title: "PIC resident memory across cycles",
			X: svgplot.Axis{Scale: svgplot.Time, Label: "cycle end"}, Y: svgplot.Axis{Label: "MiB", FromZero: true},
			Series: []svgplot.Series{memAfter, memPeak},
		}.SVG(),
		svgplot.Line{
			ID: "pic-goroutines", Title: "PIC goroutines across cycles",
			X: svgplot.Axis{Scale: svgplot.Time, Label: "cycle end"}, Y: svgplot.Axis{Label: "goroutines", FromZero: true},
			Series: []svgplot.Series{gorAfter, gorPeak},
		}.SVG(),
	}
}

// unixSeconds keeps milliseconds, so cycles ending within the same second do not share
// an x position.
func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 }
