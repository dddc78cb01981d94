// Package web serves what people and scripts ask the daemon: the status page (every
// cycle's schedule, state and last verdict, inline SVG plots of what it measured by
// web/svgplot, links to the reports), /api/v1/status (the same as JSON) and the run
// API (POST /api/v1/cycles/{cycle}/run). The page is server-rendered from embedded
// templates and loads nothing else, so it works where picsoak runs without internet
// access.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/report"
)

//go:embed templates/*.html
var templates embed.FS

var page = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"seconds": formatSeconds,
	"percent": func(ratio float64) string { return fmt.Sprintf("%.2f%%", 100*ratio) },
	"time":    func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 MST") },
	"codes":   report.FormatCodes,
}).ParseFS(templates, "templates/*.html"))

// Defaults of Page's optional fields.
const (
	DefaultRefresh = 10 * time.Second
	DefaultHistory = 50
	// listedReports bounds the report list on the page; /reports/ lists them all.
	listedReports = 60
)

// Page serves the status page. It is safe for concurrent use.
type Page struct {
	// Status returns the scheduler's view of every cycle kind; its last results carry
	// their HDR histograms.
	Status func() []soak.CycleStatus
	// Store is where the history plots and the report list come from; ReportsPath is
	// the URL prefix under which Store.Dir is served.
	Store       *report.Store
	ReportsPath string
	Target      string
	Version     string
	// Refresh is how often the browser reloads the page; 0 means DefaultRefresh.
	Refresh time.Duration
	// History is how many recent cycles of each kind the history plots show; 0 means
	// DefaultHistory.
	History int

	hist history
}

// view is what the template renders.
type view struct {
	Target, Version string
	Generated       time.Time
	RefreshSeconds  int
	ReportsPath     string
	Cycles          []cycleView
	ResourcePlots   []template.HTML
	Reports         []reportLink
	MoreReports     int
	Problems        []string
}

type cycleView struct {
	Name     string
	Schedule string
	Enabled  bool
	Running  bool
	Next     time.Time
	Last     *soak.Result
	// LastReport is the newest stored report's base name, "" when there is none.
	LastReport string
	Verdict    string
	P50, P99   float64
	Plots      []template.HTML
}

type reportLink struct {
	Base    string
	Cycle   string
	End     time.Time
	Verdict string
}

// ServeHTTP renders the page; it reads the report store, so a slow disk slows it,
// never the cycles.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := p.build()
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		http.Error(w, "rendering the status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (p *Page) build() view {
	refresh := p.Refresh
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	n := p.History
	if n <= 0 {
		n = DefaultHistory
	}
	v := view{
		Target: p.Target, Version: p.Version, Generated: time.Now(),
		RefreshSeconds: max(1, int(refresh.Seconds())), ReportsPath: strings.TrimSuffix(p.ReportsPath, "/") + "/",
	}
	var all []storedReport
	for _, st := range p.Status() {
		reports, errs := p.hist.recent(p.Store, st.Cycle, n)
		for _, err := range errs {
			v.Problems = append(v.Problems, err.Error())
		}
		all = append(all, reports...)
		v.Cycles = append(v.Cycles, cycleViewOf(st, reports))
	}
	v.ResourcePlots = resourcePlots(all)
	slices.SortFunc(all, func(a, b storedReport) int { return strings.Compare(b.Base, a.Base) }) // newest first: names start with the time
	for i, rep := range all {
		if i == listedReports {
			v.MoreReports = len(all) - i
			break
		}
		v.Reports = append(v.Reports, reportLink{Base: rep.Base, Cycle: rep.Result.Cycle.String(), End: rep.Result.End, Verdict: string(rep.Result.Verdict)})
	}
	return v
}

func cycleViewOf(st soak.CycleStatus, reports []storedReport) cycleView {
	c := cycleView{Name: st.Cycle.String(), Schedule: st.Schedule, Enabled: st.Enabled, Running: st.Running, Next: st.Next, Last: st.Last}
	if len(reports) > 0 {
		newest := reports[len(reports)-1]
		c.LastReport = newest.Base
		// After a restart the scheduler has no last result yet; the newest report is it.
		if c.Last == nil {
			c.Last = newest.Result
		}
	}
	if c.Last != nil {
		c.Verdict = string(c.Last.Verdict)
		c.P50, c.P99 = c.Last.Latency.Quantile(0.5), c.Last.Latency.Quantile(0.99)
	}
	c.Plots = append(c.Plots, latencyPlot(st.Cycle, c.Last))
	if d, ok := detailPlot(st.Cycle, c.Last); ok {
		c.Plots = append(c.Plots, d)
	}
	if st.Cycle == soak.Streams {
		c.Plots = append(c.Plots, streamSpreadPlot(c.Last))
	}
	c.Plots = append(c.Plots, historyPlots(st.Cycle, reports)...)
	return c
}

// formatSeconds renders a latency with a unit that keeps three significant digits.
func formatSeconds(s float64) string {
	switch {
	case s == 0:
		return "0"
	case s < 1e-3:
		return fmt.Sprintf("%.0f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.3g ms", s*1e3)
	}
	return fmt.Sprintf("%.3g s", s)
}
