package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStatusPageRendersInChromium opens the daemon's status page in a real browser and
// checks what a person would see: every plot drawn with data and the verdicts and
// numbers shown, not just an HTTP 200. It saves a full-page screenshot to
// $PICSOAK_SCREENSHOT_DIR (the CI artifact; docs/status-page.png comes from it) or to
// the test's temporary directory.
func TestStatusPageRendersInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: run scripts/test.sh, or apt-get install -y chromium")
	}
	// Schedules every few seconds give the history plots more than one cycle to draw.
	env := fastEnv(t, "PICSOAK_SUSTAINED_SCHEDULE=@every 4s", "PICSOAK_BURST_SCHEDULE=@every 4s", "PICSOAK_STREAMS_SCHEDULE=@every 4s")
	d := startDaemon(t, env)
	reports := envValue(env, "PICSOAK_REPORT_DIR")
	waitFor(t, "two finished cycles of each kind", 90*time.Second, func() bool {
		for _, k := range []string{"sustained", "burst", "streams"} {
			if paths, _ := filepath.Glob(filepath.Join(reports, "*-"+k+".json")); len(paths) < 2 {
				return false
			}
		}
		return true
	})

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first Run starts the browser, which lives as long as its context: no timeout
	// on that one, a deadline on each step after it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	stepCtx, cancelStep := context.WithTimeout(ctx, 60*time.Second)
	defer cancelStep()
	if err := chromedp.Do(stepCtx,
		chromedp.Navigate(d.base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#cycle-streams svg#streams")),
	); err != nil {
		t.Fatalf("loading the status page: %v", err)
	}

	// What the browser rendered, read from its DOM.
	var dom struct {
		Plots map[string]struct {
			Points   int     `json:"points"` // points of the first line
			Bars     int     `json:"bars"`
			Width    float64 `json:"width"` // as laid out, in CSS pixels
			NoData   bool    `json:"noData"`
			XTickTxt []string
		} `json:"plots"`
		Verdicts      map[string]string `json:"verdicts"`
		SuccessRatios map[string]string `json:"successRatios"`
		Reports       int               `json:"reports"`
		PercentTicks  []string          `json:"percentTicks"`
	}
	js := `(() => {
		const out = {plots: {}, verdicts: {}, successRatios: {}};
		for (const svg of document.querySelectorAll("svg.plot")) {
			const line = svg.querySelector("path.line");
			out.plots[svg.id] = {
				points: line ? (line.getAttribute("d").match(/[ML]/g) || []).length : 0,
				bars: svg.querySelectorAll("rect.bar").length,
				width: svg.getBoundingClientRect().width,
				noData: !!svg.querySelector(".no-data"),
			};
		}
		for (const s of document.querySelectorAll("section.cycle")) {
			out.verdicts[s.dataset.cycle] = s.querySelector("[data-verdict]")?.textContent ?? "";
			out.successRatios[s.dataset.cycle] = s.querySelector("b.success-ratio")?.textContent ?? "";
		}
		out.reports = document.querySelectorAll("a.report-link").length;
		out.percentTicks = [...document.querySelectorAll("#latency-burst .x-axis text")].map(t => t.textContent);
		return JSON.stringify(out);
	})()`
	raw, err := chromedp.Run(stepCtx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("reading the DOM: %v", err)
	}
	if err := json.Unmarshal([]byte(raw), &dom); err != nil {
		t.Fatalf("DOM summary %s: %v", raw, err)
	}

	for _, k := range []string{"sustained", "burst", "streams"} {
		if got := dom.Verdicts[k]; got != "pass" {
			t.Errorf("%s verdict: got %q, want pass", k, got)
		}
		if got := dom.SuccessRatios[k]; got != "1.0000" {
			t.Errorf("%s success ratio: got %q, want 1.0000", k, got)
		}
		// A percentile curve from the HDR histogram has 20 points per decade.
		if p := dom.Plots["latency-"+k]; p.Points < 40 || p.NoData {
			t.Errorf("latency-%s: got %d points (no data: %v), want a curve of at least 40", k, p.Points, p.NoData)
		}
		for _, id := range []string{"throughput-" + k, "p99-" + k} {
			if p := dom.Plots[id]; p.Points < 2 {
				t.Errorf("%s: got %d points, want one per finished cycle, at least 2", id, p.Points)
			}
		}
	}
	// fastEnv: 2 bursts; 3 streams with p50 and p99 each.
	if got := dom.Plots["bursts"].Bars; got != 2 {
		t.Errorf("bursts: got %d bars, want 2", got)
	}
	if got := dom.Plots["streams"].Bars; got != 6 {
		t.Errorf("streams: got %d bars, want 6", got)
	}
	for _, id := range []string{"pic-memory", "pic-goroutines"} {
		if p := dom.Plots[id]; p.Points < 2 {
			t.Errorf("%s: got %d points, want one per cycle", id, p.Points)
		}
	}
	for id, p := range dom.Plots {
		if p.Width < 200 {
			t.Errorf("%s is laid out %g px wide, want at least 200", id, p.Width)
		}
	}
	if len(dom.PercentTicks) < 3 || dom.PercentTicks[0] != "0%" || dom.PercentTicks[1] != "90%" || dom.PercentTicks[2] != "99%" {
		t.Errorf("percentile axis ticks: got %q, want 0%%, 90%%, 99%% …", dom.PercentTicks)
	}
	if dom.Reports < 6 {
		t.Errorf("report links: got %d, want at least 6", dom.Reports)
	}

	png, err := chromedp.Run(stepCtx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG")
	}
	dir := os.Getenv("PICSOAK_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "status-page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
