// Command matrix measures picsoak against nginx next to wrk, fortio and vegeta (the
// nginx stage), and at 50, 1,000 and 10,000 requests in flight against a slow target
// of its own next to fortio, vegeta and k6 (the scale stage), all in one run so the
// ratios hold however busy or fast the machine is, and checks the performance goals
// of issues 4 and 18. bench/run.sh installs the peers and starts it; see
// docs/performance.md.
//
// nginx or the slow target runs on core 1 and every generator on core 0, one at a
// time.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/pace"
	"github.com/picsoak/picsoak/soak/report"
)

var (
	picsoakBin = flag.String("picsoak", "", "picsoak binary (required)")
	// A change's cost per request is a few per cent, well within the machine's drift
	// between runs: only the same run, alternating, can show it.
	picsoakBase = flag.String("picsoak-baseline", "", "an earlier picsoak binary, run in the closed loop next to -picsoak as the row \"picsoak baseline\", with the goal that -picsoak's CPU per request is at most 1.05 × its")
	fortioBin   = flag.String("fortio", "fortio", "fortio binary")
	vegetaBin   = flag.String("vegeta", "vegeta", "vegeta binary")
	wrkBin      = flag.String("wrk", "wrk", "wrk binary")
	nginxBin    = flag.String("nginx", "nginx", "nginx binary")
	tcpdumpBin  = flag.String("tcpdump", "tcpdump", "tcpdump binary, for the target's latency as the packets show it")
	pollIdle    = flag.Bool("poll-idle", true, "keep idle cores polling (/dev/cpu_dma_latency 0) during the open-loop runs, for both generators alike, so no tail is a halted vCPU waking up")
	reps        = flag.Int("reps", 5, "repetitions of each closed-loop measurement; more than the issue's 3, because a rate on a shared VM varies ±15 % run to run")
	openReps    = flag.Int("open-reps", 5, "alternating picsoak/fortio pairs of open-loop runs; a p99 on a shared VM varies more than a rate, so it gets more")
	duration    = flag.Duration("duration", 10*time.Second, "length of each closed- and open-loop run")
	openRate    = flag.Float64("open-rate", 20000, "arrival rate of the open-loop runs (req/s)")
	memSmall    = flag.Int("mem-small", 1_000_000, "requests before the first RSS reading")
	memLarge    = flag.Int("mem-large", 10_000_000, "requests before the second RSS reading")
	workDir     = flag.String("dir", "", "working directory (default: a temp dir)")
	hiccupFor   = flag.Duration("hiccup-meter", 0, "internal: measure this process's core's hiccups for this long, print them as JSON and exit (the bench runs itself so, pinned, before each open-loop pair)")
	only        = flag.String("only", "", "run only these stages, comma-separated: nginx (closed loop, open loop, memory and scrapes, against nginx) or scale (the slow target at -scale-levels in flight); default both")
	slowTarget  = flag.String("slow-target", "", "internal: serve the scale stage's slow target on this address, answering after -scale-delay, until SIGTERM (the bench runs itself so, pinned to the target's core)")
)

const (
	conns     = 50
	nginxPort = "127.0.0.1:18089"
	genCore   = "0"
	nginxCore = "1"
)

func main() {
	flag.Parse()
	if *hiccupFor > 0 {
		h, err := measureHiccups(*hiccupFor)
		if err != nil {
			fatal(err)
		}
		json.NewEncoder(os.Stdout).Encode(h)
		return
	}
	if *slowTarget != "" {
		if err := serveSlowTarget(*slowTarget, *scaleDelay); err != nil {
			fatal(err)
		}
		return
	}
	if *picsoakBin == "" {
		fmt.Fprintln(os.Stderr, "matrix: -picsoak is required")
		os.Exit(2)
	}
	stages, err := parseStages(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "matrix:", err)
		os.Exit(2)
	}
	dir := *workDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "picsoak-bench"); err != nil {
			fatal(err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal(err)
	}
	var goals []goal
	if stages["nginx"] {
		stop, err := startNginx(dir)
		if err != nil {
			fatal(err)
		}
		g, err := runMatrix(dir)
		stop()
		if err != nil {
			fatal(err)
		}
		goals = append(goals, g...)
	}
	if stages["scale"] {
		g, err := runScale(dir)
		if err != nil {
			fatal(err)
		}
		goals = append(goals, g...)
	}
	if !printGoals(goals) {
		fmt.Println("\nRESULT: at least one goal missed")
		os.Exit(1)
	}
	fmt.Println("\nRESULT: every goal met")
}

// parseStages reads -only: the stages to run, every one when s is empty.
func parseStages(s string) (map[string]bool, error) {
	if s == "" {
		return map[string]bool{"nginx": true, "scale": true}, nil
	}
	stages := map[string]bool{}
	for f := range strings.SplitSeq(s, ",") {
		switch f = strings.TrimSpace(f); f {
		case "nginx", "scale":
			stages[f] = true
		default:
			return nil, fmt.Errorf("-only %q: no stage %q (want nginx or scale)", s, f)
		}
	}
	return stages, nil
}

// printGoals prints the goals table and says whether every goal was met.
func printGoals(goals []goal) bool {
	fmt.Println("\n### Goals\n\n| goal | got | want | met |\n|---|---|---|---|")
	all := true
	for _, g := range goals {
		mark := "yes"
		if !g.ok {
			mark, all = "**NO**", false
		}
		fmt.Printf("| %s | %s | %s | %s |\n", g.name, g.got, g.want, mark)
	}
	return all
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "matrix:", err)
	os.Exit(1)
}

func startNginx(dir string) (func(), error) {
	conf := filepath.Join(dir, "nginx.conf")
	err := os.WriteFile(conf, []byte(`worker_processes 1;
daemon off;
pid `+dir+`/nginx.pid;
error_log `+dir+`/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path `+dir+`;
  proxy_temp_path `+dir+`;
  fastcgi_temp_path `+dir+`;
  uwsgi_temp_path `+dir+`;
  scgi_temp_path `+dir+`;
  server { listen `+nginxPort+`; location / { return 200 "ok"; } }
}
`), 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("taskset", "-c", nginxCore, *nginxBin, "-c", conf, "-p", dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting nginx: %w", err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", nginxPort); err == nil {
			c.Close()
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, errors.New("nginx did not listen within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run is one generator run: what it achieved and what it cost.
type run struct {
	rps      float64
	requests float64
	cpu      time.Duration // user + sys of the generator process
	p99      float64       // seconds, counted from the actual send; open loop only
	// p99Due counts from each request's intended start (picsoak's latency; open loop).
	p99Due float64
	// wire is what the same run's packets on loopback show; open loop only.
	wire wireFigures
}

func (r run) cpuPerRequest() float64 { return r.cpu.Seconds() / r.requests }

// pinned runs a generator on the generator core and returns its output and CPU time.
func pinned(env []string, name string, args ...string) (string, time.Duration, error) {
	cmd := exec.Command("taskset", append([]string{"-c", genCore, name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%s: %w\n%s", name, err, ee.Stderr)
		}
		return "", 0, err
	}
	st := cmd.ProcessState
	return string(out), st.UserTime() + st.SystemTime(), nil
}

var target = "http://" + nginxPort + "/"

// picsoakRun runs `picsoak run` for one cycle and reads its report.
func picsoakRun(dir, bin string, env ...string) (*soak.Result, time.Duration, error) {
	reports := filepath.Join(dir, fmt.Sprintf("reports-%d", time.Now().UnixNano()))
	env = append(env, "PICSOAK_TARGET_URL="+target, "PICSOAK_REPORT_DIR="+reports, "PICSOAK_LOG_LEVEL=error", "PICSOAK_TARGET_SETTLE_TIME=0s")
	_, cpu, err := pinned(env, bin, "run")
	if err != nil {
		return nil, 0, err
	}
	paths, _ := filepath.Glob(filepath.Join(reports, "*.json"))
	if len(paths) != 1 {
		return nil, 0, fmt.Errorf("picsoak wrote %d reports, want 1", len(paths))
	}
	r, err := report.Read(paths[0])
	return r, cpu, err
}

func closedPicsoak(dir, bin string) (run, error) {
	// The burst cycle's shape: one burst sized to last about -duration at ~70k req/s.
	size := int(70000 * duration.Seconds())
	r, cpu, err := picsoakRun(dir, bin, "PICSOAK_SUSTAINED_SCHEDULE=off", "PICSOAK_STREAMS_SCHEDULE=off",
		"PICSOAK_BURST_COUNT=1", "PICSOAK_BURST_SIZE="+strconv.Itoa(size), "PICSOAK_BURST_WORKERS="+strconv.Itoa(conns), "PICSOAK_BURST_COOLDOWN=0s")
	if err != nil {
		return run{}, err
	}
	if r.SuccessRatio != 1 {
		return run{}, fmt.Errorf("picsoak closed loop: success ratio %g, want 1", r.SuccessRatio)
	}
	return run{rps: r.ThroughputRPS, requests: float64(r.Requests.Total()), cpu: cpu}, nil
}

func openPicsoak(dir string) (run, error) {
	r, cpu, err := picsoakRun(dir, *picsoakBin, "PICSOAK_BURST_SCHEDULE=off", "PICSOAK_STREAMS_SCHEDULE=off",
		"PICSOAK_SUSTAINED_RATE="+strconv.FormatFloat(*openRate, 'f', -1, 64), "PICSOAK_SUSTAINED_DURATION="+duration.String(),
		"PICSOAK_SUSTAINED_WORKERS="+strconv.Itoa(conns))
	if err != nil {
		return run{}, err
	}
	if r.ServiceTime == nil {
		return run{}, errors.New("picsoak open loop: the report has no service time")
	}
	return run{rps: r.Sustained.AchievedRateRPS, requests: float64(r.Requests.Total()), cpu: cpu,
		p99: r.ServiceTime.Quantile(0.99), p99Due: r.Latency.Quantile(0.99)}, nil
}

var wrkRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
var wrkTotal = regexp.MustCompile(`(\d+) requests in`)

func closedWrk() (run, error) {
	out, cpu, err := pinned(nil, *wrkBin, "-t1", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(int(duration.Seconds()))+"s", target)
	if err != nil {
		return run{}, err
	}
	m, n := wrkRPS.FindStringSubmatch(out), wrkTotal.FindStringSubmatch(out)
	if m == nil || n == nil {
		return run{}, fmt.Errorf("wrk output not understood:\n%s", out)
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	total, _ := strconv.ParseFloat(n[1], 64)
	return run{rps: rps, requests: total, cpu: cpu}, nil
}

// fortioResult is the part of fortio's -json output used here.
type fortioResult struct {
	ActualQPS         float64
	DurationHistogram struct {
		Count       float64
		Percentiles []struct{ Percentile, Value float64 }
	}
	RetCodes map[string]float64
}

func fortio(dir string, qps string, extra ...string) (run, error) {
	out := filepath.Join(dir, "fortio.json")
	// -r: fortio's default 1 ms histogram buckets would interpolate a p99 of a few ms
	// within a whole millisecond; 10 µs buckets match picsoak's 0.1 % resolution there.
	args := append([]string{"load", "-quiet", "-qps", qps, "-c", strconv.Itoa(conns), "-t", duration.String(), "-r", "0.00001", "-p", "50,99", "-json", out}, extra...)
	_, cpu, err := pinned(nil, *fortioBin, append(args, target)...)
	if err != nil {
		return run{}, err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return run{}, err
	}
	var f fortioResult
	if err := json.Unmarshal(b, &f); err != nil {
		return run{}, fmt.Errorf("fortio json: %w", err)
	}
	r := run{rps: f.ActualQPS, requests: f.DurationHistogram.Count, cpu: cpu}
	for _, p := range f.DurationHistogram.Percentiles {
		if p.Percentile == 99 {
			r.p99 = p.Value
		}
	}
	return r, nil
}

func closedVegeta(dir string) (run, error) {
	results := filepath.Join(dir, "vegeta.bin")
	cmd := exec.Command("taskset", "-c", genCore, *vegetaBin, "attack", "-rate=0", "-max-workers="+strconv.Itoa(conns),
		"-duration="+duration.String(), "-output="+results)
	cmd.Stdin = strings.NewReader("GET " + target + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return run{}, fmt.Errorf("vegeta attack: %w\n%s", err, out)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	out, err := exec.Command(*vegetaBin, "report", "-type=json", results).Output()
	if err != nil {
		return run{}, fmt.Errorf("vegeta report: %w", err)
	}
	var rep struct {
		Requests   float64
		Throughput float64
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return run{}, err
	}
	return run{rps: rep.Throughput, requests: rep.Requests, cpu: cpu}, nil
}

// coreTimes are one core's counters from /proc/stat, in clock ticks.
type coreTimes struct{ busy, idle, steal uint64 }

// readCoreTimes reads core's line of /proc/stat. Busy is user, nice, system, irq and
// softirq; idle includes iowait; steal is time the host ran something else while
// the core wanted to run.
func readCoreTimes(core string) (coreTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return coreTimes{}, err
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu"+core {
			continue
		}
		var v [8]uint64 // user nice system idle iowait irq softirq steal
		for i := range v {
			if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
				return coreTimes{}, fmt.Errorf("/proc/stat %s: %w", f[0], err)
			}
		}
		return coreTimes{busy: v[0] + v[1] + v[2] + v[5] + v[6], idle: v[3] + v[4], steal: v[7]}, nil
	}
	return coreTimes{}, fmt.Errorf("/proc/stat has no line for cpu%s", core)
}

// cores is what happened on both cores during one generator run, in per cent.
type cores struct {
	nginxBusy float64 // of nginx's core's time not stolen
	genSteal  float64 // of the generator core's time
}

// onCores runs f and measures both cores around it.
func onCores(f func() (run, error)) (run, cores, error) {
	readBoth := func() (g, n coreTimes, err error) {
		if g, err = readCoreTimes(genCore); err == nil {
			n, err = readCoreTimes(nginxCore)
		}
		return g, n, err
	}
	g0, n0, err := readBoth()
	if err != nil {
		return run{}, cores{}, err
	}
	r, err := f()
	if err != nil {
		return run{}, cores{}, err
	}
	g1, n1, err := readBoth()
	if err != nil {
		return run{}, cores{}, err
	}
	percent := func(part, rest uint64) float64 {
		if part+rest == 0 {
			return 0
		}
		return 100 * float64(part) / float64(part+rest)
	}
	return r, cores{
		nginxBusy: percent(n1.busy-n0.busy, n1.idle-n0.idle),
		genSteal:  percent(g1.steal-g0.steal, g1.busy-g0.busy+g1.idle-g0.idle),
	}, nil
}

// hiccupSpan is how long the hiccup meter runs before each open-loop pair.
const hiccupSpan = 5 * time.Second

// coreHiccups runs the hiccup meter on the generator's core while it is idle: how
// often the platform itself stalls that core, which no generator can tell apart
// from the target's latency.
func coreHiccups() (hiccups, error) {
	self, err := os.Executable()
	if err != nil {
		return hiccups{}, err
	}
	out, _, err := pinned(nil, self, "-hiccup-meter", hiccupSpan.String())
	if err != nil {
		return hiccups{}, err
	}
	var h hiccups
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		return hiccups{}, fmt.Errorf("hiccup meter: %w: %q", err, out)
	}
	return h, nil
}

// onWire runs f while tcpdump records its packets and adds what they show to its run.
func onWire(dir string, f func() (run, error)) (run, error) {
	pcap := filepath.Join(dir, "run.pcap")
	defer os.Remove(pcap)
	c, err := startCapture(*tcpdumpBin, pcap)
	if err != nil {
		return run{}, err
	}
	r, err := f()
	wire, werr := c.stop()
	if err != nil {
		return run{}, err
	}
	r.wire = wire
	return r, werr
}

// series collects one figure over the repetitions.
type series []float64

func (s series) median() float64 {
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// msText is the median and range of a series of seconds, in milliseconds.
func (s series) msText() string {
	return fmt.Sprintf("%s (%s – %s)", ms(s.median()), ms(slices.Min(s)), ms(slices.Max(s)))
}

func (s series) rangeText(format string) string {
	return fmt.Sprintf(format+" – "+format, slices.Min(s), slices.Max(s))
}

type goal struct {
	name, got, want string
	ok              bool
}

func runMatrix(dir string) ([]goal, error) {
	names := []string{"picsoak", "fortio", "wrk", "vegeta"}
	if *picsoakBase != "" {
		names = slices.Insert(names, 1, baselineName) // next to picsoak in either order
	}
	rps := map[string]series{}
	cpu := map[string]series{}
	nginxBusy, steal, openSteal := map[string]series{}, map[string]series{}, map[string]series{}
	var openPS, openPSP99, openPSP99Due, openFortioP99, openFortioRPS series
	openWire, overWire, perMs10, perMs90 := map[string]series{}, map[string]series{}, map[string]series{}, map[string]series{}
	for i := range *reps {
		fmt.Fprintf(os.Stderr, "repetition %d of %d\n", i+1, *reps)
		closed := map[string]func() (run, error){
			"picsoak":    func() (run, error) { return closedPicsoak(dir, *picsoakBin) },
			baselineName: func() (run, error) { return closedPicsoak(dir, *picsoakBase) },
			"wrk":        closedWrk,
			"fortio":     func() (run, error) { return fortio(dir, "0") },
			"vegeta":     func() (run, error) { return closedVegeta(dir) },
		}
		// The machine's speed drifts between runs. picsoak runs next to fortio, the
		// closest peer, and every other repetition in the mirrored order, so drift
		// favours neither generator.
		order := slices.Clone(names)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, n := range order {
			r, c, err := onCores(closed[n])
			if err != nil {
				return nil, err
			}
			rps[n] = append(rps[n], r.rps)
			cpu[n] = append(cpu[n], r.cpuPerRequest()*1e6)
			nginxBusy[n], steal[n] = append(nginxBusy[n], c.nginxBusy), append(steal[n], c.genSteal)
			fmt.Fprintf(os.Stderr, "  closed %-8s %9.0f req/s  %6.1f µs CPU/req  nginx's core %3.0f %% busy  %2.0f %% stolen\n", n, r.rps, r.cpuPerRequest()*1e6, c.nginxBusy, c.genSteal)
		}
	}
	// Only the open loop leaves cores idle between requests; the closed loop keeps
	// them busy, and a polling core would read as 100 % busy in /proc/stat.
	idle := "polling: /dev/cpu_dma_latency held at 0"
	if !*pollIdle {
		idle = "the kernel's default (-poll-idle=false)"
	} else if qos, err := pace.KeepCPUsAwake(pace.CPULatencyPath); err != nil {
		idle = fmt.Sprintf("the kernel's default, since /dev/cpu_dma_latency could not be held (%v): tails include halted cores waking up", err)
	} else {
		defer qos.Close()
	}
	var stalled, over1ms series
	for i := range *openReps {
		fmt.Fprintf(os.Stderr, "open-loop pair %d of %d\n", i+1, *openReps)
		h, err := coreHiccups()
		if err != nil {
			return nil, err
		}
		stalled, over1ms = append(stalled, 100*h.stalledShare()), append(over1ms, h.over1msPerSecond())
		fmt.Fprintf(os.Stderr, "  idle generator core: %.1f wake-ups a second more than 1 ms late, %.2f %% of the time stalled, worst %v\n",
			h.over1msPerSecond(), 100*h.stalledShare(), h.Worst.Round(time.Microsecond))
		p, pc, err := onCores(func() (run, error) { return onWire(dir, func() (run, error) { return openPicsoak(dir) }) })
		if err != nil {
			return nil, err
		}
		// -uniform spreads the connections' schedules evenly, the arrival process of
		// picsoak's pacer; without it fortio's 50 connections fire together every
		// 50/rate seconds, a different load with queueing of its own.
		f, fc, err := onCores(func() (run, error) {
			return onWire(dir, func() (run, error) { return fortio(dir, strconv.FormatFloat(*openRate, 'f', -1, 64), "-uniform") })
		})
		if err != nil {
			return nil, err
		}
		openPS, openPSP99, openPSP99Due = append(openPS, p.rps), append(openPSP99, p.p99), append(openPSP99Due, p.p99Due)
		openFortioRPS, openFortioP99 = append(openFortioRPS, f.rps), append(openFortioP99, f.p99)
		openSteal["picsoak"], openSteal["fortio"] = append(openSteal["picsoak"], pc.genSteal), append(openSteal["fortio"], fc.genSteal)
		for n, r := range map[string]run{"picsoak": p, "fortio": f} {
			openWire[n], overWire[n] = append(openWire[n], r.wire.p99), append(overWire[n], r.p99/r.wire.p99)
			perMs10[n], perMs90[n] = append(perMs10[n], float64(r.wire.perMs10)), append(perMs90[n], float64(r.wire.perMs90))
		}
		fmt.Fprintf(os.Stderr, "  open   picsoak %9.1f req/s p99 %s (from intended start %s, on the wire %s, %d–%d requests/ms), %.0f %% stolen; fortio %9.1f req/s p99 %s (on the wire %s, %d–%d requests/ms), %.0f %% stolen\n",
			p.rps, ms(p.p99), ms(p.p99Due), ms(p.wire.p99), p.wire.perMs10, p.wire.perMs90, pc.genSteal, f.rps, ms(f.p99), ms(f.wire.p99), f.wire.perMs10, f.wire.perMs90, fc.genSteal)
	}
	mem, scrapeMax, err := memoryAndScrape(dir)
	if err != nil {
		return nil, err
	}

	fmt.Printf("\n### Closed loop, %d connections, %s, %d repetitions (median, min – max)\n\n", conns, duration, *reps)
	fmt.Println("| generator | req/s | CPU per request | nginx's core busy | generator core stolen | picsoak ÷ this (req/s) | this ÷ picsoak (CPU/req) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, n := range names {
		fmt.Printf("| %s | %.0f (%s) | %.1f µs (%s) | %.0f %% (%s) | %.0f %% (%s) | %.2f | %.2f |\n", n, rps[n].median(), rps[n].rangeText("%.0f"),
			cpu[n].median(), cpu[n].rangeText("%.1f"), nginxBusy[n].median(), nginxBusy[n].rangeText("%.0f"), steal[n].median(), steal[n].rangeText("%.0f"),
			rps["picsoak"].median()/rps[n].median(), cpu[n].median()/cpu["picsoak"].median())
	}
	fmt.Println("\nnginx's core near 100 % busy means nginx, not the generator, limited that rate; stolen is the share of the generator core's time the host gave to something else.")
	fmt.Printf("\n### Open loop at %.0f req/s, %d connections, %s, %d alternating pairs (median, min – max)\n\n", *openRate, conns, duration, *openReps)
	fmt.Println("| generator | achieved req/s | p99 from the actual send | p99 from the intended start | p99 on the wire, same run | p99 ÷ wire p99 | requests per ms on the wire, p10 – p90 | generator core stolen |\n|---|---|---|---|---|---|---|---|")
	for _, g := range []struct{ name, label, rps, p99, p99Due string }{
		{"picsoak", "picsoak (sustained cycle)", fmt.Sprintf("%.1f (%s)", openPS.median(), openPS.rangeText("%.1f")), openPSP99.msText(), openPSP99Due.msText()},
		{"fortio", "fortio", fmt.Sprintf("%.1f (%s)", openFortioRPS.median(), openFortioRPS.rangeText("%.1f")), openFortioP99.msText(), "not measured"},
	} {
		fmt.Printf("| %s | %s | %s | %s | %s | %.1f (%s) | %.0f – %.0f | %.0f %% (%s) |\n", g.label, g.rps, g.p99, g.p99Due, openWire[g.name].msText(),
			overWire[g.name].median(), overWire[g.name].rangeText("%.1f"), perMs10[g.name].median(), perMs90[g.name].median(), openSteal[g.name].median(), openSteal[g.name].rangeText("%.0f"))
	}
	fmt.Printf("\nIdle cores during these runs: %s. On the wire: tcpdump on nginx's core timed each request from its first byte on loopback to its reply's, none of the generator's own time included; a ratio near 1 means the generator reported the target's latency, above 1 its own delays. Requests per ms: how evenly the generator spread its requests (at 20,000 req/s an even spread is 20 – 20); a wider range is bunched arrivals, which the target and the generator queue.\n", idle)
	fmt.Printf("\nHiccups of the generator's core, idle for %s before each pair (a thread sleeping %v at a time, noting how late it wakes): %.1f (%s) wake-ups a second more than 1 ms late, stalled %.2f %% (%s) of the time. Every request due or answered during a stall reports it, with any generator, and the wire does not see it; a stalled share near 1 %% sets the p99.\n",
		hiccupSpan, hiccupPeriod, over1ms.median(), over1ms.rangeText("%.1f"), stalled.median(), stalled.rangeText("%.2f"))
	fmt.Printf("\n### Memory and scrapes\n\n| figure | value |\n|---|---|\n")
	fmt.Printf("| RSS after %.0f requests | %.1f MiB |\n| RSS after %.0f requests | %.1f MiB |\n| slowest /metrics scrape during a closed-loop cycle | %s |\n",
		mem.smallAfter, mem.small/(1<<20), mem.largeAfter, mem.large/(1<<20), scrapeMax)

	goals := []goal{
		{"closed loop ≥ 50,000 req/s", fmt.Sprintf("%.0f", rps["picsoak"].median()), "≥ 50000", rps["picsoak"].median() >= 50000},
		{"closed-loop req/s ≥ 0.9 × wrk's", ratio(rps["picsoak"].median(), rps["wrk"].median()), "≥ 0.90", rps["picsoak"].median() >= 0.9*rps["wrk"].median()},
		{"≥ 0.7 × wrk", ratio(rps["picsoak"].median(), rps["wrk"].median()), "≥ 0.70", rps["picsoak"].median() >= 0.7*rps["wrk"].median()},
		{"≥ 2 × vegeta", ratio(rps["picsoak"].median(), rps["vegeta"].median()), "≥ 2.00", rps["picsoak"].median() >= 2*rps["vegeta"].median()},
		{"closed-loop CPU/request ≤ 0.9 × fortio's", ratio(cpu["picsoak"].median(), cpu["fortio"].median()), "≤ 0.90", cpu["picsoak"].median() <= 0.9*cpu["fortio"].median()},
		{"closed-loop CPU/request ≤ 1.15 × wrk's", ratio(cpu["picsoak"].median(), cpu["wrk"].median()), "≤ 1.15", cpu["picsoak"].median() <= 1.15*cpu["wrk"].median()},
		{"CPU/request ≤ 0.5 × vegeta's", ratio(cpu["picsoak"].median(), cpu["vegeta"].median()), "≤ 0.50", cpu["picsoak"].median() <= 0.5*cpu["vegeta"].median()},
		{"open loop ≥ 99.5 % of the rate", fmt.Sprintf("%.2f %%", 100*openPS.median() / *openRate), "≥ 99.50 %", openPS.median() >= 0.995**openRate},
		{"open-loop service-time p99 ≤ fortio's p99 (medians of the pairs, both from the actual send)", fmt.Sprintf("%s vs %s", ms(openPSP99.median()), ms(openFortioP99.median())),
			"≤ fortio's", openPSP99.median() <= openFortioP99.median()},
		{"RSS flat from 1 M to 10 M requests", fmt.Sprintf("%+.1f %%", 100*(mem.large/mem.small-1)), "≤ +5 %", mem.large <= 1.05*mem.small},
		{"/metrics under load", scrapeMax.String(), "< 50ms", scrapeMax < 50*time.Millisecond},
	}
	if *picsoakBase != "" {
		got, base := cpu["picsoak"].median(), cpu[baselineName].median()
		goals = append(goals, goal{"closed-loop CPU/request ≤ 1.05 × the baseline binary's", fmt.Sprintf("%.2f µs vs %.2f µs (%s)", got, base, ratio(got, base)), "≤ 1.05", got <= 1.05*base})
	}
	return goals, nil
}

// baselineName is the closed-loop row of -picsoak-baseline.
const baselineName = "picsoak baseline"

func ratio(a, b float64) string { return fmt.Sprintf("%.2f", a/b) }

func ms(s float64) string {
	if s < 1e-3 {
		return fmt.Sprintf("%.0fµs", s*1e6)
	}
	return fmt.Sprintf("%.2fms", s*1e3)
}

// rssReadings are the daemon's RSS (bytes) after a small and a large number of requests.
type rssReadings struct{ small, smallAfter, large, largeAfter float64 }

// memoryAndScrape runs picsoak serve with back-to-back burst cycles of mem-small
// requests, reads its RSS after the first and after mem-large requests, and times
// /metrics scrapes while cycles run.
func memoryAndScrape(dir string) (mem rssReadings, slowest time.Duration, err error) {
	perCycle := *memSmall
	cycles := *memLarge / perCycle
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return mem, 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command("taskset", "-c", genCore, *picsoakBin, "serve")
	cmd.Env = append(os.Environ(), "PICSOAK_TARGET_URL="+target, "PICSOAK_LISTEN_ADDR="+addr, "PICSOAK_LOG_LEVEL=error",
		"PICSOAK_REPORT_DIR="+filepath.Join(dir, "serve-reports"), "PICSOAK_TARGET_SETTLE_TIME=0s",
		"PICSOAK_SUSTAINED_SCHEDULE=off", "PICSOAK_STREAMS_SCHEDULE=off", "PICSOAK_BURST_SCHEDULE=@every 2s",
		"PICSOAK_BURST_COUNT=1", "PICSOAK_BURST_SIZE="+strconv.Itoa(perCycle), "PICSOAK_BURST_WORKERS="+strconv.Itoa(conns), "PICSOAK_BURST_COOLDOWN=0s")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return mem, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	fmt.Fprintf(os.Stderr, "memory: %d cycles of %d requests\n", cycles, perCycle)
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(time.Duration(cycles) * time.Minute)
	// RSS is read between cycles, once the daemon has handed the cycle's garbage back
	// (it frees memory just after a cycle's counters move): two scrapes 100 ms apart
	// that both show no cycle running and the same count of finished cycles.
	var idleDone float64 = -1
	for time.Now().Before(deadline) {
		start := time.Now()
		body, err := scrape(client, "http://"+addr+"/metrics")
		took := time.Since(start)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		running := strings.Contains(body, `picsoak_cycle_in_progress{cycle="burst"} 1`)
		if running {
			slowest = max(slowest, took)
		}
		done := counterValue(body, `picsoak_cycles_total{cycle="burst",verdict="pass"}`)
		settled := !running && done == idleDone
		idleDone = -1
		if !running {
			idleDone = done
		}
		if settled && done >= 1 && mem.small == 0 {
			if mem.small, err = rss(cmd.Process.Pid); err != nil {
				return mem, 0, err
			}
			mem.smallAfter = done * float64(perCycle)
			fmt.Fprintf(os.Stderr, "  RSS after %.0f requests: %.1f MiB\n", mem.smallAfter, mem.small/(1<<20))
		}
		if settled && done >= float64(cycles) {
			if mem.large, err = rss(cmd.Process.Pid); err != nil {
				return mem, 0, err
			}
			mem.largeAfter = done * float64(perCycle)
			fmt.Fprintf(os.Stderr, "  RSS after %.0f requests: %.1f MiB\n", mem.largeAfter, mem.large/(1<<20))
			return mem, slowest, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return mem, 0, errors.New("memory run did not finish in time")
}

func scrape(c *http.Client, url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func counterValue(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
