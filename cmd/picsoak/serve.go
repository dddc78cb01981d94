package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/picsoak/picsoak/metrics"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/report"
	"github.com/picsoak/picsoak/web"
)

// serve runs the daemon until ctx is done: cycles on their schedules, and /metrics,
// /healthz, /readyz, /api/v1/status and a status page on PICSOAK_LISTEN_ADDR.
func serve(ctx context.Context, args, environ []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	cfg, ok := loadConfig(environ, stderr)
	if !ok || !checkWebConfig(cfg, stderr) || !checkCPUsAwake(cfg, stderr) {
		return exitConfig
	}
	log := newLogger(cfg, stderr)

	reg := prometheus.NewRegistry()
	v, rev := buildVersion()
	metrics.RegisterRuntime(reg, v, rev)
	metrics.RegisterShard(reg, cfg.Plan.Shard)
	exp := metrics.New(reg, cfg.Plan)

	store := &report.Store{Dir: cfg.Daemon.ReportDir, Keep: cfg.Daemon.ReportKeep}
	rig, err := newRig(cfg, log, resultRoute(exp, store, log))
	if err != nil {
		log.Error("cannot set up the target", "err", err)
		return exitFail
	}
	defer rig.close()
	sched := soak.NewScheduler(rig.runner)
	restoreLastResults(store, sched, log)
	for _, st := range sched.Status() {
		exp.SetInterval(st.Cycle, st.Interval)
	}

	ln, err := net.Listen("tcp", cfg.Daemon.ListenAddr)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Daemon.ListenAddr, "err", err)
		return exitFail
	}
	var ready atomic.Bool
	status := &web.Page{Status: sched.Status, Store: store, ReportsPath: "/reports/", Target: rig.runner.TargetName, Version: v}
	srv := newHTTPServer(daemonHandler(reg, sched, cfg, &ready, status, log))
	base := webScheme(cfg.Daemon.WebConfigFile) + "://" + displayAddr(ln.Addr())
	log.Info("picsoak serving", "metrics", base+"/metrics",
		"status", base+"/", "target", rig.runner.TargetName, "reports", cfg.Daemon.ReportDir, "version", v, "shard", cfg.Plan.Shard.String(),
		"web_config", cfg.Daemon.WebConfigFile, "run_api", cfg.Daemon.APIToken != "")

	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		ready.Store(true)
		sched.Run(ctx, cfg.Daemon.RunOnStart)
	}()
	code := serveUntilDone(ctx, srv, ln, cfg.Daemon.WebConfigFile, log)
	<-schedDone // the aborted cycle's report is written before we exit
	return code
}

func daemonHandler(reg *prometheus.Registry, sched *soak.Scheduler, cfg config.Config, ready *atomic.Bool, status http.Handler, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
	}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("/api/v1/status", web.Status(sched.Status))
	mux.Handle("/reports/", http.StripPrefix("/reports/", http.FileServer(http.Dir(cfg.Daemon.ReportDir))))
	mux.Handle("/{$}", status)
	mux.Handle("POST /api/v1/cycles/{cycle}/run", web.NewRunAPI(sched, cfg.Daemon.APIToken, log))
	return web.LimitBodies(mux)
}

// displayAddr is addr as a person can open it: a listener on every interface ([::] or
// 0.0.0.0) is reachable as localhost.
func displayAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
}
