// Package svgplot draws small line and bar charts as inline SVG, so picsoak's status
// page needs no JavaScript and nothing from the internet. Colours come from CSS classes
// (series-0, series-1 …) that the page styles; every text is escaped, so labels taken
// from reports cannot inject markup.
package svgplot

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Default chart size in SVG user units; the page scales the viewBox to its column.
const (
	DefaultWidth  = 480
	DefaultHeight = 220
)

// Margins leave room for the title and legend (top) and tick labels (left, bottom).
const (
	marginLeft   = 52
	marginRight  = 24
	marginTop    = 30
	marginBottom = 38
)

// Point is one data point in the axes' data units.
type Point struct{ X, Y float64 }

// Series is one named line.
type Series struct {
	Name   string
	Points []Point
	// Markers draws a dot on every point: for sparse series, where the line alone hides
	// how many measurements there are.
	Markers bool
}

// Line is a line chart.
type Line struct {
	// ID becomes the svg element's id; it must be unique on the page.
	ID, Title     string
	X, Y          Axis
	Series        []Series
	Width, Height int
}

// BarSeries is one value per category.
type BarSeries struct {
	Name   string
	Values []float64
}

// Bars is a grouped bar chart: one group per category, one bar per series.
type Bars struct {
	ID, Title     string
	Categories    []string
	CategoryLabel string
	Y             Axis
	Series        []BarSeries
	Width, Height int
	// Tooltip renders a bar's hover text; nil shows the series name and value.
	Tooltip func(category string, s BarSeries, v float64) string
}

// canvas accumulates one SVG document.
type canvas struct {
	b    strings.Builder
	w, h float64
}

func newCanvas(id, class, title string, w, h int) *canvas {
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	c := &canvas{w: float64(w), h: float64(h)}
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" id="%s" class="plot %s" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		esc(id), esc(class), w, h, esc(title))
	c.printf(`<title>%s</title>`, esc(title))
	c.printf(`<text class="plot-title" x="%d" y="18">%s</text>`, marginLeft, esc(title))
	return c
}

func (c *canvas) printf(format string, args ...any) { fmt.Fprintf(&c.b, format, args...) }

func (c *canvas) left() float64   { return marginLeft }
func (c *canvas) right() float64  { return c.w - marginRight }
func (c *canvas) top() float64    { return marginTop }
func (c *canvas) bottom() float64 { return c.h - marginBottom }

func (c *canvas) done() template.HTML {
	c.b.WriteString(`</svg>`)
	return template.HTML(c.b.String()) // every text inside went through esc
}

func (c *canvas) empty(msg string) template.HTML {
	c.printf(`<text class="no-data" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, c.w/2, c.h/2, esc(msg))
	return c.done()
}

// legend writes the series names right-aligned in the title row.
func (c *canvas) legend(names []string) {
	if len(names) < 2 {
		return
	}
	c.b.WriteString(`<g class="legend">`)
	x := c.right()
	for i := len(names) - 1; i >= 0; i-- {
		x -= 7 * float64(len([]rune(names[i])))
		c.printf(`<text class="legend-label" x="%.1f" y="18">%s</text>`, x, esc(names[i]))
		x -= 14
		c.printf(`<rect class="legend-swatch series-%d" x="%.1f" y="9" width="10" height="10"/>`, i, x)
		x -= 10
	}
	c.b.WriteString(`</g>`)
}

// yAxis draws horizontal grid lines and labels; it returns the data→pixel mapping.
func (c *canvas) yAxis(a Axis, lo, hi float64, ticks []Tick) func(float64) float64 {
	y := func(v float64) float64 {
		return c.bottom() - (a.transform(v)-lo)/(hi-lo)*(c.bottom()-c.top())
	}
	c.b.WriteString(`<g class="axis y-axis">`)
	for _, t := range ticks {
		py := y(t.Value)
		c.printf(`<g class="tick"><line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/><text x="%.1f" y="%.1f" text-anchor="end">%s</text></g>`,
			c.left(), py, c.right(), py, c.left()-5, py+4, esc(t.Label))
	}
	if a.Label != "" {
		c.printf(`<text class="axis-label" transform="translate(12 %.1f) rotate(-90)" text-anchor="middle">%s</text>`, (c.top()+c.bottom())/2, esc(a.Label))
	}
	c.b.WriteString(`</g>`)
	return y
}

func (c *canvas) xLabel(label string) {
	if label != "" {
		c.printf(`<text class="axis-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, (c.left()+c.right())/2, c.h-4, esc(label))
	}
}

// SVG renders the chart. Series without points are left out; a chart without any
// points says so instead of drawing empty axes.
func (l Line) SVG() template.HTML {
	c := newCanvas(l.ID, "plot-line", l.Title, l.Width, l.Height)
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	var names []string
	for _, s := range l.Series {
		names = append(names, s.Name)
		for _, p := range s.Points {
			xlo, xhi = math.Min(xlo, p.X), math.Max(xhi, p.X)
			ylo, yhi = math.Min(ylo, p.Y), math.Max(yhi, p.Y)
		}
	}
	if math.IsInf(xlo, 1) {
		return c.empty("no data yet")
	}
	c.legend(names)
	ylo, yhi, yticks := l.Y.domain(ylo, yhi)
	y := c.yAxis(l.Y, ylo, yhi, yticks)
	xlo, xhi, xticks := l.X.domain(xlo, xhi)
	x := func(v float64) float64 {
		return c.left() + (l.X.transform(v)-xlo)/(xhi-xlo)*(c.right()-c.left())
	}
	c.b.WriteString(`<g class="axis x-axis">`)
	c.printf(`<line class="axis-line" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, c.left(), c.bottom(), c.right(), c.bottom())
	for _, t := range xticks {
		px := x(t.Value)
		c.printf(`<g class="tick"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text></g>`,
			px, c.bottom(), px, c.bottom()+4, px, c.bottom()+16, esc(t.Label))
	}
	c.b.WriteString(`</g>`)
	c.xLabel(l.X.Label)
	for i, s := range l.Series {
		if len(s.Points) == 0 {
			continue
		}
		c.printf(`<g class="series series-%d" data-name="%s" data-points="%d">`, i, esc(s.Name), len(s.Points))
		c.b.WriteString(`<path class="line" fill="none" d="`)
		for j, p := range s.Points {
			cmd := "L"
			if j == 0 {
				cmd = "M"
			}
			c.printf("%s%.1f %.1f", cmd, x(p.X), y(p.Y))
		}
		c.b.WriteString(`"/>`)
		if s.Markers {
			for _, p := range s.Points {
				c.printf(`<circle class="marker" cx="%.1f" cy="%.1f" r="2.5"/>`, x(p.X), y(p.Y))
			}
		}
		c.b.WriteString(`</g>`)
	}
	return c.done()
}

// SVG renders the chart; a chart without categories says so.
func (b Bars) SVG() template.HTML {
	c := newCanvas(b.ID, "plot-bars", b.Title, b.Width, b.Height)
	if len(b.Categories) == 0 || len(b.Series) == 0 {
		return c.empty("no data yet")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var names []string
	for _, s := range b.Series {
		names = append(names, s.Name)
		for _, v := range s.Values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 1) {
		return c.empty("no data yet")
	}
	c.legend(names)
	a := b.Y
	a.Scale, a.FromZero = Linear, true // a bar's length is its value
	lo, hi, ticks := a.domain(lo, hi)
	y := c.yAxis(a, lo, hi, ticks)
	band := (c.right() - c.left()) / float64(len(b.Categories))
	barW := band * 0.8 / float64(len(b.Series))
	tooltip := b.Tooltip
	if tooltip == nil {
		tooltip = func(cat string, s BarSeries, v float64) string {
			return fmt.Sprintf("%s %s: %s", s.Name, cat, FormatNumber(v))
		}
	}
	c.b.WriteString(`<g class="axis x-axis">`)
	c.printf(`<line class="axis-line" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, c.left(), y(0), c.right(), y(0))
	for i, cat := range b.Categories {
		c.printf(`<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, c.left()+band*(float64(i)+0.5), c.bottom()+16, esc(cat))
	}
	c.b.WriteString(`</g>`)
	c.xLabel(b.CategoryLabel)
	for si, s := range b.Series {
		c.printf(`<g class="series series-%d" data-name="%s">`, si, esc(s.Name))
		for i, cat := range b.Categories {
			if i >= len(s.Values) {
				break
			}
			v := s.Values[i]
			x := c.left() + band*float64(i) + band*0.1 + barW*float64(si)
			top, bottom := y(math.Max(v, 0)), y(math.Min(v, 0))
			c.printf(`<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" data-value="%g"><title>%s</title></rect>`,
				x, top, barW, bottom-top, v, esc(tooltip(cat, s, v)))
		}
		c.b.WriteString(`</g>`)
	}
	return c.done()
}

// esc escapes text for SVG content and attributes alike (html.EscapeString covers the
// five XML specials).
func esc(s string) string { return html.EscapeString(s) }
