package svgplot

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Scale maps data values onto an axis.
type Scale int

const (
	// Linear spaces values evenly.
	Linear Scale = iota
	// Time takes Unix seconds and labels ticks as local clock times.
	Time
	// Percentile takes quantiles in [0, 1) and spaces them by -log10(1-q), so 0%, 90%,
	// 99%, 99.9% … are equally far apart: the tail, where latency problems live, gets
	// as much room as the median (HdrHistogram's plotter does the same).
	Percentile
)

// Axis describes one axis of a chart.
type Axis struct {
	Label string
	Scale Scale
	// Format renders a tick value; nil picks one that suits the scale.
	Format func(float64) string
	// FromZero extends a linear axis down (or up) to 0, so bars and rates are not
	// exaggerated by a cropped axis.
	FromZero bool
}

// Tick is one labelled position on an axis, in data units (for Percentile, the
// quantile).
type Tick struct {
	Value float64
	Label string
}

// maxPercentileDecades bounds the percentile axis at 99.9999 %: past that, a cycle
// would need millions of requests for the points to mean anything.
const maxPercentileDecades = 6

// transform maps a data value into the axis' linear space.
func (a Axis) transform(v float64) float64 {
	if a.Scale == Percentile {
		return percentileDecades(v)
	}
	return v
}

// percentileDecades is -log10(1-q): 0 at 0 %, 1 at 90 %, 2 at 99 %, capped at
// maxPercentileDecades (q = 1, the maximum, lands there too).
func percentileDecades(q float64) float64 {
	if q <= 0 {
		return 0
	}
	if q >= 1 {
		return maxPercentileDecades
	}
	return min(-math.Log10(1-q), maxPercentileDecades)
}

// domain returns the axis range in transformed units and its ticks for data spanning
// [lo, hi] (data units).
func (a Axis) domain(lo, hi float64) (float64, float64, []Tick) {
	switch a.Scale {
	case Percentile:
		top := math.Max(2, math.Ceil(percentileDecades(hi)-1e-9))
		top = math.Min(top, maxPercentileDecades)
		var ticks []Tick
		for d := 0.0; d <= top; d++ {
			ticks = append(ticks, Tick{Value: 1 - math.Pow(10, -d), Label: PercentileLabel(int(d))})
		}
		return 0, top, ticks
	case Time:
		if hi-lo < 1 {
			lo, hi = lo-30, hi+30
		}
		step := timeStep((hi - lo) / 5)
		format := a.Format
		if format == nil {
			layout := "15:04"
			switch {
			case step < 60:
				layout = "15:04:05"
			case hi-lo > 86400:
				layout = "Jan 2 15:04"
			}
			format = func(v float64) string { return time.Unix(int64(v), 0).Format(layout) }
		}
		var ticks []Tick
		for v := math.Ceil(lo/step) * step; v <= hi+1e-9; v += step {
			ticks = append(ticks, Tick{Value: v, Label: format(v)})
		}
		return lo, hi, ticks
	}
	if a.FromZero {
		lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	}
	if hi == lo {
		if lo == 0 {
			hi = 1
		} else {
			lo, hi = lo-math.Abs(lo)/2, hi+math.Abs(hi)/2
		}
	}
	step := NiceStep((hi - lo) / 5)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	format := a.Format
	if format == nil {
		format = FormatNumber
	}
	var ticks []Tick
	for i := 0; ; i++ {
		v := lo + float64(i)*step
		if v > hi+step/1e6 {
			break
		}
		ticks = append(ticks, Tick{Value: v, Label: format(v)})
	}
	return lo, hi, ticks
}

// NiceStep rounds a raw tick spacing up to 1, 2 or 5 times a power of ten.
func NiceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*pow*(1+1e-9) {
			return m * pow
		}
	}
	return 10 * pow
}

// timeSteps are tick spacings a clock reader finds natural, in seconds.
var timeSteps = []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800}

func timeStep(raw float64) float64 {
	for _, s := range timeSteps {
		if raw <= s {
			return s
		}
	}
	return timeSteps[len(timeSteps)-1] * math.Ceil(raw/timeSteps[len(timeSteps)-1])
}

// PercentileLabel names the quantile 1-10^-decades: 0%, 90%, 99%, 99.9%, 99.99% …
func PercentileLabel(decades int) string {
	switch {
	case decades <= 0:
		return "0%"
	case decades == 1:
		return "90%"
	case decades == 2:
		return "99%"
	}
	return "99." + strings.Repeat("9", decades-2) + "%"
}

// FormatNumber renders a tick value compactly: 1500 as 1.5k, 0.25 as 0.25.
func FormatNumber(v float64) string {
	abs := math.Abs(v)
	switch {
	case abs >= 1e9:
		return trim(v/1e9) + "G"
	case abs >= 1e6:
		return trim(v/1e6) + "M"
	case abs >= 1e4:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

func trim(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
