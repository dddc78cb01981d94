package svgplot

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// element is a parsed SVG element with what the tests look at.
type element struct {
	name  string
	attrs map[string]string
	text  string
}

// parseSVG decodes s as XML and fails the test when it is not well-formed.
func parseSVG(t *testing.T, s string) []element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	var out []element
	var stack []int
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].text += string(tok)
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("SVG has %d unclosed elements", len(stack))
	}
	return out
}

func byClass(els []element, class string) []element {
	var out []element
	for _, e := range els {
		if slices.Contains(strings.Fields(e.attrs["class"]), class) {
			out = append(out, e)
		}
	}
	return out
}

var pathCommand = regexp.MustCompile(`[ML](-?[0-9.]+) (-?[0-9.]+)`)

func pathPoints(t *testing.T, d string) [][2]float64 {
	t.Helper()
	var pts [][2]float64
	for _, m := range pathCommand.FindAllStringSubmatch(d, -1) {
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		pts = append(pts, [2]float64{x, y})
	}
	return pts
}

func TestLineDrawsEveryPoint(t *testing.T) {
	l := Line{
		ID: "tp", Title: "throughput",
		X: Axis{Scale: Time}, Y: Axis{Label: "req/s", FromZero: true},
		Series: []Series{
			{Name: "sustained", Points: []Point{{1000, 50}, {1600, 49}, {2200, 51}}, Markers: true},
			{Name: "burst", Points: []Point{{1100, 900}, {1700, 1000}}},
			{Name: "empty"},
		},
	}
	els := parseSVG(t, string(l.SVG()))
	if els[0].name != "svg" || els[0].attrs["id"] != "tp" {
		t.Fatalf("root = <%s id=%q>, want <svg id=\"tp\">", els[0].name, els[0].attrs["id"])
	}
	lines := byClass(els, "line")
	if len(lines) != 2 {
		t.Fatalf("got %d paths, want 2 (the empty series draws none)", len(lines))
	}
	for i, want := range []int{3, 2} {
		if got := len(pathPoints(t, lines[i].attrs["d"])); got != want {
			t.Errorf("series %d: got %d points, want %d", i, got, want)
		}
	}
	if got := len(byClass(els, "marker")); got != 3 {
		t.Errorf("got %d markers, want 3 (only the first series has them)", got)
	}
	// Higher values are drawn higher, i.e. with smaller y.
	pts := pathPoints(t, lines[1].attrs["d"])
	if pts[1][1] >= pts[0][1] {
		t.Errorf("1000 req/s drawn at y=%g, not above 900 req/s at y=%g", pts[1][1], pts[0][1])
	}
	if got := len(byClass(els, "legend-swatch")); got != 3 {
		t.Errorf("got %d legend entries, want 3", got)
	}
}

func TestPercentileAxisTicks(t *testing.T) {
	tests := []struct {
		name string
		maxQ float64
		want []string
	}{
		// The axis always reaches 99 %, so a small cycle still shows its tail.
		{"median only", 0.5, []string{"0%", "90%", "99%"}},
		{"up to 99.9%", 0.999, []string{"0%", "90%", "99%", "99.9%"}},
		{"just past 99.9% rounds up a decade", 0.9995, []string{"0%", "90%", "99%", "99.9%", "99.99%"}},
		// The maximum (q = 1) cannot sit at infinity: it is drawn at the last decade.
		{"maximum", 1, []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Line{ID: "p", X: Axis{Scale: Percentile}, Series: []Series{{Points: []Point{{0, 1}, {tt.maxQ, 2}}}}}
			els := parseSVG(t, string(l.SVG()))
			var labels []string
			var xs []float64
			// Tick texts of the x axis follow their tick lines in document order.
			inX := false
			for _, e := range els {
				if e.name == "g" {
					classes := e.attrs["class"]
					if strings.Contains(classes, "axis") {
						inX = strings.Contains(classes, "x-axis")
					}
				}
				if inX && e.name == "text" {
					labels = append(labels, e.text)
					x, _ := strconv.ParseFloat(e.attrs["x"], 64)
					xs = append(xs, x)
				}
			}
			if !slices.Equal(labels, tt.want) {
				t.Fatalf("got ticks %q, want %q", labels, tt.want)
			}
			// Decades are equally spaced: that is what the log scale is for.
			for i := 2; i < len(xs); i++ {
				if d, d0 := xs[i]-xs[i-1], xs[1]-xs[0]; d-d0 > 0.2 || d0-d > 0.2 {
					t.Errorf("tick %d is %g from the previous one, want %g like the first", i, d, d0)
				}
			}
		})
	}
}

func TestPercentileDecades(t *testing.T) {
	tests := []struct {
		q, want float64
	}{
		{0, 0},
		{0.9, 1},
		{0.99, 2},
		{0.999, 3},
		{1, maxPercentileDecades}, // the maximum is pinned to the right edge
		{-1, 0},
	}
	for _, tt := range tests {
		if got := percentileDecades(tt.q); got-tt.want > 1e-9 || tt.want-got > 1e-9 {
			t.Errorf("percentileDecades(%g): got %g, want %g", tt.q, got, tt.want)
		}
	}
}

func TestNiceStep(t *testing.T) {
	tests := []struct{ raw, want float64 }{
		{0.7, 1},
		{1, 1},
		{1.2, 2},
		{3, 5},
		{7, 10},
		{230, 500},
		{0.013, 0.02},
		{0, 1}, // degenerate ranges still get a step
	}
	for _, tt := range tests {
		if got := NiceStep(tt.raw); got != tt.want {
			t.Errorf("NiceStep(%g): got %g, want %g", tt.raw, got, tt.want)
		}
	}
}

func TestBarsDrawOneBarPerValue(t *testing.T) {
	b := Bars{
		ID: "streams", Title: "per-stream latency", Categories: []string{"0", "1", "2"},
		Series: []BarSeries{{Name: "p50", Values: []float64{1, 2, 3}}, {Name: "p99", Values: []float64{2, 4, 6}}},
	}
	els := parseSVG(t, string(b.SVG()))
	bars := byClass(els, "bar")
	if len(bars) != 6 {
		t.Fatalf("got %d bars, want 6", len(bars))
	}
	h := func(e element) float64 { v, _ := strconv.ParseFloat(e.attrs["height"], 64); return v }
	if h(bars[5]) <= h(bars[3]) {
		t.Errorf("p99 of stream 2 (6) is %g high, not taller than stream 0's (2) %g", h(bars[5]), h(bars[3]))
	}
	if got := bars[4].attrs["data-value"]; got != "4" {
		t.Errorf("bar data-value: got %q, want \"4\"", got)
	}
}

func TestEmptyChartsSaySo(t *testing.T) {
	for name, svg := range map[string]string{
		"line": string(Line{ID: "l"}.SVG()),
		"bars": string(Bars{ID: "b"}.SVG()),
	} {
		els := parseSVG(t, svg)
		if no := byClass(els, "no-data"); len(no) != 1 || no[0].text != "no data yet" {
			t.Errorf("%s: got %v, want one 'no data yet' text", name, no)
		}
	}
}

func TestTextIsEscaped(t *testing.T) {
	evil := `<script>alert("x")</script> & 'q'`
	l := Line{ID: `a"b`, Title: evil, Y: Axis{Label: evil}, Series: []Series{{Name: evil, Points: []Point{{0, 1}}}, {Name: "b", Points: []Point{{1, 2}}}}}
	svg := string(l.SVG())
	if strings.Contains(svg, "<script>") {
		t.Fatalf("SVG contains an unescaped <script>:\n%s", svg)
	}
	els := parseSVG(t, svg)
	if got := els[0].attrs["id"]; got != `a"b` {
		t.Errorf("id: got %q, want %q", got, `a"b`)
	}
	titles := 0
	for _, e := range els {
		if e.name == "title" && e.text == evil {
			titles++
		}
	}
	if titles != 1 {
		t.Errorf("got %d <title> elements reading back the raw title, want 1", titles)
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.25, "0.25"}, {1500, "1500"}, {15000, "15k"}, {2.5e6, "2.5M"}, {-20, "-20"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.v); got != tt.want {
			t.Errorf("FormatNumber(%g): got %q, want %q", tt.v, got, tt.want)
		}
	}
}
