package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/picsoak/picsoak/soak"
)

// runOnce runs the chosen cycles once, one after another, for CI and cron jobs. It
// prints a Markdown summary on stdout, writes reports, and exits 0 when every cycle
// passed and 1 otherwise.
func runOnce(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cycles := fs.String("cycle", "", "comma-separated cycles to run (default: every cycle whose schedule is not off)")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	cfg, ok := loadConfig(environ, stderr)
	if !ok {
		return exitConfig
	}
	kinds, err := chooseKinds(cfg, *cycles)
	if err != nil {
		fmt.Fprintf(stderr, "picsoak run: --cycle: %v\n", err)
		return exitConfig
	}
	log := newLogger(cfg.Daemon, stderr)
	rig, err := newRig(cfg, log, nil)
	if err != nil {
		log.Error("cannot set up the target", "err", err)
		return exitConfig
	}
	defer rig.close()
	store := &soak.ReportStore{Dir: cfg.Daemon.ReportDir, Keep: cfg.Daemon.ReportKeep}

	var results []*soak.Result
	code := exitOK
	for _, k := range kinds {
		if ctx.Err() != nil {
			break
		}
		log.Info("cycle starting", "cycle", k.String(), "target", rig.runner.TargetName)
		r := rig.runner.Run(ctx, k)
		results = append(results, r)
		writeReport(store, log, r)
		if r.Verdict != soak.VerdictPass {
			code = exitFail
		}
	}
	if ctx.Err() != nil {
		code = exitFail
	}
	fmt.Fprint(stdout, soak.SummaryMarkdown(results))
	return code
}

func chooseKinds(cfg soak.Config, list string) ([]soak.Kind, error) {
	if list == "" {
		var out []soak.Kind
		for _, k := range soak.Kinds {
			if cfg.Schedule(k) != soak.ScheduleOff {
				out = append(out, k)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("every cycle's schedule is off; name cycles with --cycle sustained,burst,streams")
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
