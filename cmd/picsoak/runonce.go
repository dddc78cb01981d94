package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/picsoak/picsoak/metrics"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/redact"
	"github.com/picsoak/picsoak/soak/report"
	"github.com/prometheus/client_golang/prometheus"
)

// runOnce runs the chosen cycles once, one after another, for CI and cron jobs. It
// prints a Markdown summary on stdout, optionally writes the run as JSON and JUnit XML
// and compares it with a baseline run, and pushes its metrics to a Pushgateway. Exit
// codes: 0 every cycle passed and nothing regressed, 1 a cycle failed or was aborted
// or a metric regressed or the push failed, 2 bad configuration or flags, 3 the
// target was unreachable before the first cycle (pushed as a failed run).
func runOnce(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cycles := fs.String("cycle", "", "comma-separated cycles to run (default: every cycle whose schedule is not off)")
	jsonPath := fs.String("json", "", "write every result, and the baseline comparison, as JSON to `FILE` (what --baseline reads)")
	junitPath := fs.String("junit", "", "write JUnit XML to `FILE`: one testcase per cycle, a failure when it failed or regressed")
	baseline := fs.String("baseline", "", "compare with an earlier run's --json `FILE` (or one cycle report) and exit 1 on a regression")
	// The tolerances' defaults are the configuration's (PICSOAK_REGRESSION_*), which
	// the alert rules read too; a flag given overrides its variable for this run.
	var flagTol soak.Tolerances
	fs.Float64Var(&flagTol.MaxThroughputDrop, "max-throughput-drop", 0, "largest allowed throughput drop against the baseline, as a `fraction` (default PICSOAK_REGRESSION_MAX_THROUGHPUT_DROP)")
	fs.Float64Var(&flagTol.MaxP99Rise, "max-p99-rise", 0, "largest allowed p99 rise against the baseline, as a `fraction` (default PICSOAK_REGRESSION_MAX_P99_RISE)")
	fs.DurationVar(&flagTol.P99Slack, "p99-slack", 0, "p99 rises smaller than this `duration` never count as regressions (default PICSOAK_REGRESSION_P99_SLACK)")
	fs.Float64Var(&flagTol.MaxSuccessDrop, "max-success-drop", 0, "largest allowed success-ratio drop against the baseline, absolute: 0.01 = 1 point (default PICSOAK_REGRESSION_MAX_SUCCESS_DROP)")
	pushgateway := fs.String("pushgateway", "", "push the run's metrics to the Pushgateway at `URL` once it ended (default PICSOAK_PUSHGATEWAY_URL)")
	progressMode := fs.String("progress", "auto", "progress on stderr: auto (a live line on a terminal, plain lines otherwise), line, plain or off")
	progressEvery := fs.Duration("progress-interval", 5*time.Second, "spacing of plain progress lines")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "picsoak run: unexpected arguments %q\n", fs.Args())
		return exitConfig
	}
	var tty bool
	switch *progressMode {
	case "auto":
		tty = isTerminal(stderr)
	case "line":
		tty = true
	case "plain", "off":
	default:
		fmt.Fprintf(stderr, "picsoak run: --progress %q: want auto, line, plain or off\n", *progressMode)
		return exitConfig
	}
	if *progressEvery <= 0 {
		fmt.Fprintf(stderr, "picsoak run: --progress-interval %s: want > 0\n", *progressEvery)
		return exitConfig
	}
	if *pushgateway != "" {
		// The flag overrides the variable, and is checked and redacted like it.
		environ = append(slices.Clip(environ), "PICSOAK_PUSHGATEWAY_URL="+*pushgateway)
	}
	cfg, ok := loadConfig(environ, stderr)
	if !ok || !checkCPUsAwake(cfg, stderr) {
		return exitConfig
	}
	tol := cfg.Plan.Regression
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "max-throughput-drop":
			tol.MaxThroughputDrop = flagTol.MaxThroughputDrop
		case "max-p99-rise":
			tol.MaxP99Rise = flagTol.MaxP99Rise
		case "p99-slack":
			tol.P99Slack = flagTol.P99Slack
		case "max-success-drop":
			tol.MaxSuccessDrop = flagTol.MaxSuccessDrop
		}
	})
	if err := tol.Validate(); err != nil {
		fmt.Fprintf(stderr, "picsoak run: %v\n", err)
		return exitConfig
	}
	kinds, err := chooseKinds(cfg, *cycles)
	if err != nil {
		fmt.Fprintf(stderr, "picsoak run: --cycle: %v\n", err)
		return exitConfig
	}
	var base *report.Run
	if *baseline != "" {
		if base, err = report.ReadRun(*baseline); err != nil {
			fmt.Fprintf(stderr, "picsoak run: --baseline: %v\n", err)
			return exitConfig
		}
	}

	prog := newProgress(stderr, tty, len(kinds))
	logOut := stderr
	if *progressMode != "off" {
		logOut = prog // log lines clear the live line instead of running into it
	}
	log := newLogger(cfg, logOut)
	store := &report.Store{Dir: cfg.Daemon.ReportDir, Keep: cfg.Daemon.ReportKeep}
	// The run's metrics are the daemon's, on a registry of its own, so a pushed run
	// lands in the same dashboards and alerts.
	reg := prometheus.NewRegistry()
	v, rev := buildVersion()
	metrics.RegisterBuildInfo(reg, v, rev)
	exp := metrics.New(reg, cfg.Plan)
	rig, err := newRig(cfg, log, resultRoute(exp, store, log, prog))
	if err != nil {
		log.Error("cannot set up the target", "err", err)
		return exitFail
	}
	defer rig.close()
	if err := preflight(ctx, rig.runner.Target); err != nil {
		fmt.Fprintf(stderr, "picsoak run: target %s unreachable before start: %s\nCheck PICSOAK_TARGET_URL (and that PIC is up).\n", rig.runner.TargetName, cfg.Redactor.String(err.Error()))
		pushRun(cfg, reg, false, stderr) // a run that measured nothing failed, and says so
		return exitUnreachable
	}

	stop := make(chan struct{})
	displayDone := make(chan struct{})
	go func() {
		defer close(displayDone)
		if *progressMode != "off" {
			prog.run(stop, *progressEvery)
		}
	}()
	run := &report.Run{Version: v, Target: rig.runner.TargetName, Start: time.Now()}
	code := exitOK
	for _, k := range kinds {
		if ctx.Err() != nil {
			break
		}
		log.Info("cycle starting", "cycle", k.String(), "target", rig.runner.TargetName)
		r := rig.runner.Run(ctx, k)
		run.Results = append(run.Results, r)
		if r.Verdict != soak.VerdictPass {
			code = exitFail
		}
	}
	close(stop)
	<-displayDone
	run.End = time.Now()
	if ctx.Err() != nil {
		code = exitFail
	}
	if base != nil {
		cmp := report.Compare(base.Results, run.Results, tol)
		run.Baseline, run.Comparison = *baseline, &cmp
		if cmp.Regressed() {
			code = exitFail
		}
	}
	run.Passed = code == exitOK

	fmt.Fprint(stdout, report.SummaryMarkdown(run.Results))
	if run.Comparison != nil {
		fmt.Fprint(stdout, "\n"+run.Comparison.Markdown(*baseline))
	}
	if *jsonPath != "" {
		b, err := json.MarshalIndent(run, "", "  ")
		if err == nil {
			err = os.WriteFile(*jsonPath, append(b, '\n'), 0o644)
		}
		if err != nil {
			log.Error("cannot write --json", "path", *jsonPath, "err", err)
			code = exitFail
		}
	}
	if *junitPath != "" {
		b, err := report.JUnit(run)
		if err == nil {
			err = os.WriteFile(*junitPath, b, 0o644)
		}
		if err != nil {
			log.Error("cannot write --junit", "path", *junitPath, "err", err)
			code = exitFail
		}
	}
	if !pushRun(cfg, reg, run.Passed, stderr) {
		code = exitFail
	}
	return code
}

// pushRun pushes the run's metrics to the configured Pushgateway, grouped by job,
// instance and shard, and reports whether they got there (true with none
// configured). It runs under a deadline of its own, not the run's context: a run
// stopped by SIGTERM still pushes what it measured.
func pushRun(cfg config.Config, reg *prometheus.Registry, passed bool, stderr io.Writer) bool {
	if cfg.Push.URL == "" {
		return true
	}
	metrics.RegisterBatchRun(reg, passed, cfg.Push.ExpectedInterval)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Push.Timeout)
	defer cancel()
	grouping := map[string]string{"instance": cfg.Push.Instance, "shard": strconv.Itoa(cfg.Plan.Shard.Index)}
	if err := metrics.Push(ctx, cfg.Push.URL, cfg.Push.Job, grouping, reg); err != nil {
		fmt.Fprintf(stderr, "picsoak run: pushing the run's metrics to the Pushgateway %s failed: %s\nCheck PICSOAK_PUSHGATEWAY_URL (or --pushgateway) and that the Pushgateway is up.\n",
			redact.URL(cfg.Push.URL), cfg.Redactor.String(err.Error()))
		return false
	}
	return true
}

// preflight sends one request before any cycle, so a wrong URL or a PIC that is down
// ends the run with exit 3 and one clear message instead of a cycle of connection
// errors. Only a connection failure (refused, reset, DNS, TLS) counts: a PIC that
// answers with an error status or slowly is reachable, and the cycles measure it.
func preflight(ctx context.Context, target soak.Target) error {
	if r := target.NewSender(-1).Send(ctx); r.Outcome == soak.OutcomeConnError {
		return r.Err
	}
	return nil
}

func chooseKinds(cfg config.Config, list string) ([]soak.Kind, error) {
	if list == "" {
		var out []soak.Kind
		for _, k := range soak.Kinds {
			if !cfg.Plan.Schedule(k).Off() {
				out = append(out, k)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("every cycle's schedule is off; name cycles with --cycle sustained,burst,streams,capacity")
		}
		return out, nil
	}
	var out []soak.Kind
	for _, name := range strings.Split(list, ",") {
		k, err := soak.ParseKind(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}
