package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	k6Bin         = flag.String("k6", "k6", "k6 binary")
	scaleLevels   = flag.String("scale-levels", "50,1000,10000", "requests in flight of the scale stage's levels, ascending: the first is each generator's idle figure, the goals are checked at the last")
	scaleDuration = flag.Duration("scale-duration", 24*time.Second, "length of each scale-stage run, every generator the same; fortio gives each connection a whole number of requests, and 24s makes that 20 at a 1s delay and 1.2 × headroom, as many as the others send")
	scaleDelay    = flag.Duration("scale-delay", time.Second, "the slow target's delay; a level's rate is its requests in flight ÷ this (1s: 10,000 in flight at 10,000 req/s)")
	scaleHeadroom = flag.Float64("scale-headroom", 1.2, "workers, connections or VUs every generator gets per request in flight")
	scaleTools    = flag.String("scale-tools", "picsoak,fortio,vegeta,k6", "generators of the scale stage, in the order they run at each level")
	scaleMaxRSS   = flag.Int("scale-max-rss-mib", 6144, "a generator whose RSS passes this many MiB is stopped and its run counted as failed, so no generator takes the machine's memory from everything else on it")
	scaleHeap     = flag.Bool("scale-heap", true, "after each picsoak run, run the same load once more through picsoak serve and read its go_memstats_heap_inuse_bytes every second (picsoak run serves no /metrics)")
)

// slowAddr is the slow target's address: loopback only.
const slowAddr = "127.0.0.1:18090"

// scaleRun is one generator's run at one level, measured from outside the same way
// for every generator.
type scaleRun struct {
	tool string
	lv   level
	res  toolResult
	// cpu is the user + system time of the generator's process and the children it
	// waited for, from its rusage.
	cpu time.Duration
	// peakRSS is the generator's highest resident memory, bytes: the last VmHWM
	// sampled. Not rusage's maxrss, which Linux carries across exec from the process
	// that forked it: a generator smaller than the bench itself would show the
	// bench's peak.
	peakRSS float64
	fds     int // the most descriptors it held open, sampled every second
	// heap is picsoak's peak go_memstats_heap_inuse_bytes in the serve pass; 0 when
	// the generator exports none.
	heap      float64
	heapErr   string // why the heap pass has no figure
	targetCPU time.Duration
	// targetLate is how late the target's own timers answered during the run.
	targetLate targetLateness
	wall       time.Duration
	// failed says why the run's figures are no measurement of the level; empty when
	// they are.
	failed string
	// killed says the run was stopped at the RSS cap: its peak RSS is a lower bound.
	killed bool
}

func (r scaleRun) ok() bool { return r.failed == "" }

func (r scaleRun) cpuPerRequest() float64 {
	if r.res.requests == 0 {
		return 0
	}
	return r.cpu.Seconds() / r.res.requests
}

// maxErrorShare is the share of failed requests above which a run is called failed:
// the target is local and answers every request, so any more is the generator's.
const maxErrorShare = 0.001

// runGenerator runs one generator pinned to the generator core and measures it: its
// CPU from its rusage, its RSS and peak RSS every 200 ms (stopping it above the
// cap), its open descriptors
// every second, and the target's CPU meanwhile.
func runGenerator(name, bin string, tc toolCmd, lv level, targetPID int) scaleRun {
	r := scaleRun{tool: name, lv: lv}
	cmd := exec.Command("taskset", append([]string{"-c", genCore, bin}, tc.args...)...)
	cmd.Env = append(os.Environ(), tc.env...)
	if tc.stdin != "" {
		cmd.Stdin = strings.NewReader(tc.stdin)
	}
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = &tailBuffer{max: 4 << 10}, stderr
	// A process group of its own, so stopping it at the RSS cap stops whatever it
	// started too; and its output is not waited for once it is gone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	targetBefore, err := processCPU(targetPID)
	if err != nil {
		r.failed = "reading the target's CPU: " + err.Error()
		return r
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.failed = "starting: " + err.Error()
		return r
	}
	done := make(chan struct{})
	var sampled sync.WaitGroup
	var capHit float64
	sampled.Go(func() {
		limit := float64(*scaleMaxRSS) * (1 << 20)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			now, peak, err := residentMemory(cmd.Process.Pid)
			if err != nil {
				continue // exited since the tick
			}
			r.peakRSS = max(r.peakRSS, peak)
			if now > limit {
				capHit = now
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				return
			}
			if i%5 == 0 {
				if n, err := openFiles(cmd.Process.Pid); err == nil {
					r.fds = max(r.fds, n)
				}
			}
		}
	})
	werr := cmd.Wait()
	close(done)
	sampled.Wait()
	r.wall = time.Since(start)
	if t, err := processCPU(targetPID); err == nil {
		r.targetCPU = t - targetBefore
	}
	st := cmd.ProcessState
	r.cpu = st.UserTime() + st.SystemTime()
	switch {
	case capHit > 0:
		r.killed = true
		r.failed = fmt.Sprintf("stopped at %.0f MiB RSS, above -scale-max-rss-mib %d, after %s", capHit/(1<<20), *scaleMaxRSS, r.wall.Round(100*time.Millisecond))
		return r
	case werr != nil:
		r.failed = fmt.Sprintf("%v: %s", werr, lastLine(stderr.String()))
		return r
	}
	if r.res, err = tc.read(); err != nil {
		r.failed = "reading its output: " + err.Error() + " " + lastLine(stderr.String())
		return r
	}
	switch {
	case r.res.requests == 0:
		r.failed = "no requests completed: " + lastLine(stderr.String())
	case r.res.errors > maxErrorShare*r.res.requests:
		r.failed = fmt.Sprintf("%.0f of %.0f requests failed (%s)", r.res.errors, r.res.requests, r.res.example)
	}
	return r
}

// heapPass runs picsoak serve with the level's sustained cycle once at start and
// returns the highest go_memstats_heap_inuse_bytes of the scrapes, one a second,
// until the cycle finished. It is a run of its own: picsoak run, measured like the
// other generators, serves no /metrics, and scraping costs CPU the per-request
// figure should not carry.
func heapPass(lv level, dir string) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	reports := filepath.Join(dir, "serve-reports")
	cmd := exec.Command("taskset", "-c", genCore, *picsoakBin, "serve")
	cmd.Env = append(append(os.Environ(), picsoakScaleEnv(lv, reports)...),
		"PICSOAK_LISTEN_ADDR="+addr, "PICSOAK_RUN_ON_START=true", "PICSOAK_SUSTAINED_SCHEDULE=@every 24h")
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	var peak float64
	deadline := time.Now().Add(lv.duration + 2*lv.timeout() + time.Minute)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-tick.C:
		case <-exited:
			return 0, fmt.Errorf("picsoak serve exited: %s", lastLine(stderr.String()))
		}
		body, err := scrape(client, "http://"+addr+"/metrics")
		if err != nil {
			continue
		}
		peak = max(peak, counterValue(body, "go_memstats_heap_inuse_bytes"))
		finished := 0.0
		for _, v := range []string{"pass", "fail", "aborted"} {
			finished += counterValue(body, `picsoak_cycles_total{cycle="sustained",verdict="`+v+`"}`)
		}
		if finished >= 1 {
			res, err := readPicsoakReport(reports)
			if err != nil {
				return 0, err
			}
			if res.errors > maxErrorShare*res.requests {
				return 0, fmt.Errorf("the serve pass failed: %.0f of %.0f requests failed (%s)", res.errors, res.requests, res.example)
			}
			return peak, nil
		}
	}
	return 0, errors.New("the serve pass's cycle did not finish in time")
}

// startSlowTarget starts this binary as the slow target, pinned to the target core,
// and returns once it listens.
func startSlowTarget(delay time.Duration) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("taskset", "-c", nginxCore, self, "-slow-target", slowAddr, "-scale-delay", delay.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the slow target: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "listening" {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("the slow target did not start: %q %v", line, err)
	}
	return cmd, nil
}

// takeLateness reads, and so resets, the slow target's count of late replies.
func takeLateness() (targetLateness, error) {
	// No kept-alive connection: the target's descriptors tell when a run's are closed.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	body, err := scrape(c, "http://"+slowAddr+latenessPath)
	if err != nil {
		return targetLateness{}, fmt.Errorf("the slow target's lateness: %w", err)
	}
	var t targetLateness
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return targetLateness{}, fmt.Errorf("the slow target's lateness: %w", err)
	}
	return t, nil
}

// drained waits until the target holds no more descriptors than it did idle: the
// last generator's connections are closed, so the next starts from the same state.
func drained(pid, idle int) error {
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := openFiles(pid)
		if err != nil {
			return err
		}
		if n <= idle {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the target still holds %d descriptors a minute after the run, %d when idle", n, idle)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// raiseFileLimit lets this process and the children it starts open n descriptors.
// Go raises its own soft limit at start but hands children the original; a limit set
// here with setrlimit is inherited.
func raiseFileLimit(n uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= n && lim.Max >= n {
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	want := syscall.Rlimit{Cur: max(n, lim.Cur), Max: max(n, lim.Max)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return fmt.Errorf("raising RLIMIT_NOFILE to %d (now %d, hard %d; needs root or ulimit -Hn): %w", n, lim.Cur, lim.Max, err)
	}
	return nil
}

// parseLevels reads -scale-levels: ascending requests in flight, at least one.
func parseLevels(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(f, "_", "")))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-scale-levels %q: %q is no count of requests in flight", s, f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("-scale-levels %q: want ascending levels", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// scaleBins maps each generator the stage knows to its binary and command.
func scaleBins() map[string]struct {
	bin  *string
	tool scaleTool
} {
	return map[string]struct {
		bin  *string
		tool scaleTool
	}{
		"picsoak": {picsoakBin, picsoakScale},
		"fortio":  {fortioBin, fortioScale},
		"vegeta":  {vegetaBin, vegetaScale},
		"k6":      {k6Bin, k6Scale},
	}
}

// runScale runs the scale stage: every generator at every level against the slow
// target, one at a time, and returns picsoak's goals at the highest level.
func runScale(dir string) ([]goal, error) {
	inFlight, err := parseLevels(*scaleLevels)
	if err != nil {
		return nil, err
	}
	tools := strings.Split(*scaleTools, ",")
	bins := scaleBins()
	for _, t := range tools {
		if _, ok := bins[t]; !ok {
			return nil, fmt.Errorf("-scale-tools: no generator %q (want picsoak, fortio, vegeta or k6)", t)
		}
	}
	top := inFlight[len(inFlight)-1]
	// The target and the generator each hold a descriptor per connection (the limit
	// is per process), and a few more of their own.
	if err := raiseFileLimit(uint64(roundUp(top, *scaleHeadroom) + 1024)); err != nil {
		return nil, err
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(os.Stderr, "scale stage: load average before it %s", load)
	target, err := startSlowTarget(*scaleDelay)
	if err != nil {
		return nil, err
	}
	defer func() {
		target.Process.Signal(syscall.SIGTERM)
		target.Wait()
	}()
	pid := target.Process.Pid
	idleFDs, err := openFiles(pid)
	if err != nil {
		return nil, err
	}

	runs := map[string][]scaleRun{}
	for li, n := range inFlight {
		lv := level{inFlight: n, delay: *scaleDelay, duration: *scaleDuration, workers: roundUp(n, *scaleHeadroom), url: "http://" + slowAddr + "/"}
		if want, plans := fortioPlan(lv); slices.Contains(tools, "fortio") && plans < want {
			fmt.Fprintf(os.Stderr, "  note: at %d in flight fortio plans %.0f requests, not %.0f: it gives each of its %d connections a whole number (choose -scale-duration so they divide)\n", n, plans, want, lv.workers)
		}
		for _, name := range tools {
			sub := filepath.Join(dir, fmt.Sprintf("scale-%s-%d", name, n))
			if err := os.RemoveAll(sub); err != nil { // an earlier run's reports in -dir
				return nil, err
			}
			if err := os.MkdirAll(sub, 0o755); err != nil {
				return nil, err
			}
			b := bins[name]
			if _, err := takeLateness(); err != nil {
				return nil, err
			}
			var r scaleRun
			if tc, err := b.tool(lv, sub); err != nil {
				r = scaleRun{tool: name, lv: lv, failed: err.Error()}
			} else {
				r = runGenerator(name, *b.bin, tc, lv, pid)
			}
			if r.targetLate, err = takeLateness(); err != nil {
				return nil, err
			}
			if err := drained(pid, idleFDs); err != nil {
				return nil, err
			}
			if name == "picsoak" && *scaleHeap {
				if h, err := heapPass(lv, sub); err != nil {
					r.heapErr = err.Error()
				} else {
					r.heap = h
				}
				if err := drained(pid, idleFDs); err != nil {
					return nil, err
				}
			}
			runs[name] = append(runs[name], r)
			fmt.Fprintf(os.Stderr, "  scale %6d in flight %-8s %s\n", n, name, runLine(r, runs[name][0], li))
		}
	}
	printScaleTable(inFlight, tools, runs)
	return scaleGoals(tools, runs), nil
}

// perConnection is a run's RSS above its generator's first (idle) level per request
// in flight above it, in bytes; ok false at the first level or without an idle figure.
func perConnection(r, idle scaleRun) (float64, bool) {
	if r.lv.inFlight == idle.lv.inFlight || !idle.ok() || idle.peakRSS == 0 || r.peakRSS == 0 {
		return 0, false
	}
	return (r.peakRSS - idle.peakRSS) / float64(r.lv.inFlight-idle.lv.inFlight), true
}

// runLine is a run's progress line on stderr.
func runLine(r scaleRun, idle scaleRun, li int) string {
	s := fmt.Sprintf("%9.1f req/s  p99 %s  RSS %6.1f MiB  %5d fds  %6.1f µs CPU/req  target: %s",
		r.res.rate, ms(r.res.p99), r.peakRSS/(1<<20), r.fds, r.cpuPerRequest()*1e6, targetText(r))
	if pc, ok := perConnection(r, idle); ok && li > 0 {
		s += fmt.Sprintf("  %.1f KiB/conn", pc/1024)
	}
	if r.heap > 0 {
		s += fmt.Sprintf("  heap %.1f MiB", r.heap/(1<<20))
	}
	if !r.ok() {
		s += "  FAILED: " + r.failed
	}
	return s
}

func printScaleTable(inFlight []int, tools []string, runs map[string][]scaleRun) {
	fmt.Printf("\n### Scale: open model against a target answering after %s, %s each, %.1f × workers per request in flight\n\n", *scaleDelay, *scaleDuration, *scaleHeadroom)
	fmt.Println("| in flight (req/s) | generator | achieved req/s | p99 ÷ delay (p99) | peak RSS | RSS per connection above idle | open fds, peak | Go heap in use | CPU per request | target: its core, its own lateness | run |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for li, n := range inFlight {
		for _, t := range tools {
			r, idle := runs[t][li], runs[t][0]
			row := []string{fmt.Sprintf("%s (%s)", thousands(float64(n)), thousands(r.lv.rate())), t}
			if r.res.requests > 0 {
				p99 := fmt.Sprintf("%.3f (%s)", r.res.p99/r.lv.delay.Seconds(), ms(r.res.p99))
				if r.res.p99Due > 0 {
					p99 += fmt.Sprintf("; from the intended start %.3f, its last third %.3f", r.res.p99Due/r.lv.delay.Seconds(), r.res.p99Steady/r.lv.delay.Seconds())
				}
				row = append(row, fmt.Sprintf("%s (%.2f %%)", thousands1(r.res.rate), 100*r.res.rate/r.lv.rate()), p99)
			} else {
				row = append(row, "—", "—")
			}
			bound := ""
			if r.killed {
				bound = "≥ "
			}
			row = append(row, fmt.Sprintf("%s%.1f MiB", bound, r.peakRSS/(1<<20)))
			switch pc, ok := perConnection(r, idle); {
			case li == 0:
				row = append(row, "(the idle level)")
			case ok:
				cell := fmt.Sprintf("%s%.1f KiB", bound, pc/1024)
				if open := r.fds - idle.fds; open > 0 {
					cell += fmt.Sprintf(" (%.1f KiB per descriptor opened)", (r.peakRSS-idle.peakRSS)/float64(open)/1024)
				}
				row = append(row, cell)
			default:
				row = append(row, "— (no idle figure)")
			}
			row = append(row, thousands(float64(r.fds)))
			switch {
			case r.heap > 0:
				row = append(row, fmt.Sprintf("%.1f MiB", r.heap/(1<<20)))
			case r.heapErr != "":
				row = append(row, "— ("+r.heapErr+")")
			default:
				row = append(row, "not exported")
			}
			if r.res.requests > 0 {
				row = append(row, fmt.Sprintf("%.1f µs", r.cpuPerRequest()*1e6))
			} else {
				row = append(row, "—")
			}
			row = append(row, targetText(r))
			switch {
			case !r.ok():
				row = append(row, "**FAILED**: "+r.failed)
			case r.res.errors > 0:
				row = append(row, fmt.Sprintf("ok, %.0f errors (%s)", r.res.errors, r.res.example))
			default:
				row = append(row, "ok")
			}
			fmt.Println("| " + strings.Join(row, " | ") + " |")
		}
	}
	fmt.Printf("\nThe target (Go net/http, pinned to core %s) answered 200 after %s; each generator ran alone, pinned to core %s. Idle is each generator's own run at %d in flight; RSS per connection above idle is (peak RSS − idle peak RSS) ÷ (in flight − %d). CPU per request is the generator process's user + system time over its whole life ÷ the requests it completed. The p99 counts from each request's actual send; picsoak's also from its intended start.\n",
		nginxCore, *scaleDelay, genCore, inFlight[0], inFlight[0])
	fmt.Println("\nDescriptors are the most the generator held open, sampled every second: its connections and a few files. The target's lateness is how late its own timers woke the replies (it collects no garbage during a run); late replies there are in every generator's p99.")
}

// scaleGoals are picsoak's goals at the highest level (10,000 in flight in a full run).
func scaleGoals(tools []string, runs map[string][]scaleRun) []goal {
	ps, ok := runs["picsoak"]
	if !ok {
		return nil
	}
	top, idle := ps[len(ps)-1], ps[0]
	at := fmt.Sprintf("scale: picsoak at %s in flight, ", thousands(float64(top.lv.inFlight)))
	if !top.ok() {
		return []goal{{at + "a run that did not fail", top.failed, "no failure", false}}
	}
	delay := top.lv.delay.Seconds()
	worst := max(top.res.p99, top.res.p99Due)
	goals := []goal{
		{at + "≥ 99.5 % of the rate", fmt.Sprintf("%.2f %%", 100*top.res.rate/top.lv.rate()), "≥ 99.50 %", top.res.rate >= 0.995*top.lv.rate()},
		{at + "p99 within 5 % of the delay (from the actual send and from the intended start)",
			fmt.Sprintf("%.3f and %.3f × %s", top.res.p99/delay, top.res.p99Due/delay, top.lv.delay), "≤ 1.050 ×", worst <= 1.05*delay},
	}
	pc, pcOK := perConnection(top, idle)
	goals = append(goals, goal{at + "RSS per connection above idle ≤ 16 KiB", kib(pc, pcOK), "≤ 16.0 KiB", pcOK && pc <= 16<<10})
	var peers []string
	less := pcOK
	for _, t := range tools {
		if t == "picsoak" {
			continue
		}
		r := runs[t][len(runs[t])-1]
		ppc, ok := perConnection(r, runs[t][0])
		switch {
		case !ok:
			peers = append(peers, t+" no figure")
		case !r.ok() && !r.killed && r.fds < r.lv.inFlight:
			// A run that failed before it held the level's connections: its RSS is
			// no comparison.
			peers = append(peers, fmt.Sprintf("%s not compared (failed with %d descriptors open)", t, r.fds))
		default:
			// A run stopped at the RSS cap needed at least that; one that failed
			// otherwise held the connections all the same.
			bound, note := "", ""
			if r.killed {
				bound = "≥ "
			} else if !r.ok() {
				note = " (its run failed, with the connections open)"
			}
			peers = append(peers, fmt.Sprintf("%s %s%.1f KiB%s", t, bound, ppc/1024, note))
			less = less && pc < ppc
		}
	}
	goals = append(goals, goal{at + "RSS per connection less than every peer's", kib(pc, pcOK) + " vs " + strings.Join(peers, ", "), "less", less})
	if *scaleHeap {
		goals = append(goals, goal{at + "Go heap in use ≤ 256 MiB", heapText(top), "≤ 256 MiB", top.heap > 0 && top.heap <= 256<<20})
	}
	cpuOK := idle.ok() && top.cpuPerRequest() <= 1.5*idle.cpuPerRequest()
	goals = append(goals, goal{at + fmt.Sprintf("CPU per request ≤ 1.5 × its own at %s in flight", thousands(float64(idle.lv.inFlight))),
		fmt.Sprintf("%.1f µs vs %.1f µs (%.2f ×)", top.cpuPerRequest()*1e6, idle.cpuPerRequest()*1e6, top.cpuPerRequest()/idle.cpuPerRequest()), "≤ 1.50 ×", cpuOK})
	return goals
}

// targetText is what the target did during a run: its core's busy share and how
// late its own timers answered.
func targetText(r scaleRun) string {
	s := fmt.Sprintf("%.0f %% busy; %s of %s replies > 5 ms late, p99 %d ms", 100*r.targetCPU.Seconds()/r.wall.Seconds(),
		thousands(float64(r.targetLate.Over5ms)), thousands(float64(r.targetLate.Replies)), r.targetLate.P99Ms)
	if r.targetLate.GCs > 0 {
		s += fmt.Sprintf(", %d garbage collections", r.targetLate.GCs)
	}
	return s
}

func kib(b float64, ok bool) string {
	if !ok {
		return "no figure"
	}
	return fmt.Sprintf("%.1f KiB", b/1024)
}

func heapText(r scaleRun) string {
	if r.heap == 0 {
		return "no figure: " + r.heapErr
	}
	return fmt.Sprintf("%.1f MiB", r.heap/(1<<20))
}

// thousands formats a whole number with thousands separators: 10,000.
func thousands(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// thousands1 is thousands with one decimal: 9,998.7.
func thousands1(v float64) string {
	whole, frac := strconv.FormatFloat(v, 'f', 1, 64), ""
	if i := strings.IndexByte(whole, '.'); i >= 0 {
		whole, frac = whole[:i], whole[i:]
	}
	f, _ := strconv.ParseFloat(whole, 64)
	return thousands(f) + frac
}

// tailBuffer keeps the last max bytes written to it: a generator's output, for the
// reason it failed.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = slices.Clone(t.b[len(t.b)-t.max:])
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// lastLine is the last few non-empty lines of s, joined: a generator's last words.
func lastLine(s string) string {
	var lines []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	lines = lines[max(0, len(lines)-3):]
	out := strings.Join(lines, " / ")
	if len(out) > 400 {
		out = "…" + out[len(out)-400:]
	}
	return out
}

// execOutput runs a command (not pinned, not measured) and returns its stdout.
func execOutput(name string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, lastLine(stderr.String()))
	}
	return out, nil
}
