package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"time"

	"github.com/picsoak/picsoak/metrics"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/httptarget"
	"github.com/picsoak/picsoak/soak/pace"
	"github.com/picsoak/picsoak/soak/picsim"
	"github.com/picsoak/picsoak/soak/redact"
	"github.com/picsoak/picsoak/soak/report"
	"github.com/picsoak/picsoak/soak/sample"
)

// loadConfig parses the environment, printing every problem at once on failure.
func loadConfig(environ []string, stderr io.Writer) (config.Config, bool) {
	cfg, err := config.Load(environ)
	if err != nil {
		fmt.Fprintf(stderr, "picsoak: %v\nRun 'picsoak help' for every variable and its default.\n", err)
		return cfg, false
	}
	return cfg, true
}

// newLogger logs at cfg's level and format and hides every credential of cfg's target
// (and of any URL) in every message and value, whoever logs it.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	red := cfg.Redactor
	opts := &slog.HandlerOptions{Level: cfg.Daemon.LogLevel, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return redactAttr(red, a) }}
	if cfg.Daemon.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// redactAttr hides credentials in a log attribute: the whole value when its key names
// a credential, the credentials inside it otherwise (errors from net/http quote URLs).
func redactAttr(red *redact.Redactor, a slog.Attr) slog.Attr {
	if redact.IsSecretName(a.Key) {
		return slog.String(a.Key, redact.Redacted)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		return slog.String(a.Key, red.String(a.Value.String()))
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			return slog.String(a.Key, red.String(v.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, red.String(v.String()))
		}
	}
	return a
}

func check(environ []string, stdout, stderr io.Writer) int {
	if cfg, ok := loadConfig(environ, stderr); !ok || !checkWebConfig(cfg, stderr) || !checkCPUsAwake(cfg, stderr) {
		return exitConfig
	}
	fmt.Fprintln(stdout, "configuration is valid")
	return exitOK
}

// cpuLatencyPath is where PICSOAK_KEEP_CPUS_AWAKE holds the CPU latency; tests point
// it elsewhere.
var cpuLatencyPath = pace.CPULatencyPath

// checkCPUsAwake makes sure PICSOAK_KEEP_CPUS_AWAKE can do what it says before a cycle
// counts on it; a cycle that still cannot says so in its report.
func checkCPUsAwake(cfg config.Config, stderr io.Writer) bool {
	if !cfg.Plan.KeepCPUsAwake {
		return true
	}
	awake, err := pace.KeepCPUsAwake(cpuLatencyPath)
	if err != nil {
		fmt.Fprintf(stderr, "picsoak: invalid configuration:\n  PICSOAK_KEEP_CPUS_AWAKE=true: %v\nGive picsoak write access to %s (run it as root; in a container also pass the device), or set PICSOAK_KEEP_CPUS_AWAKE=false.\n",
			err, cpuLatencyPath)
		return false
	}
	awake.Close()
	return true
}

// soakRig is what serve and run share: the runner and what must be closed after it.
type soakRig struct {
	runner *soak.Runner
	close  func()
}

// newRig builds the runner of cfg, handing its results to obs. With no target
// configured it starts the PIC simulator on a free loopback port and soaks that.
func newRig(cfg config.Config, log *slog.Logger, obs soak.Observers) (*soakRig, error) {
	rig := &soakRig{close: func() {}}
	if cfg.Target.Simulated {
		sim := picsim.New(simSettings(cfg.Sim))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("starting the built-in PIC simulator: %w", err)
		}
		srv := newHTTPServer(sim.Handler())
		go srv.Serve(ln)
		base := &url.URL{Scheme: "http", Host: ln.Addr().String(), Path: "/"}
		cfg.Target.Endpoints = slices.Clone(cfg.Target.Endpoints)
		cfg.Target.Endpoints[0].URL = base.JoinPath("/events")
		if cfg.Target.MetricsURL == "" {
			cfg.Target.MetricsURL = base.JoinPath("/metrics").String()
		}
		rig.close = func() { srv.Close() }
		log.Info("no PICSOAK_TARGET_URL set: soaking the built-in PIC simulator (its resource figures are picsoak's own process)",
			"target", cfg.Target.Endpoints[0].URL.String(), "control", base.JoinPath("/control").String(), "latency", cfg.Sim.Latency.String(), "jitter", cfg.Sim.Jitter.String(), "error_ratio", cfg.Sim.ErrorRatio)
	}
	if cfg.Target.InsecureSkipVerify {
		log.Warn("PICSOAK_TARGET_INSECURE_SKIP_VERIFY is set: PIC's TLS certificate is not verified, so anyone on the path can pose as PIC",
			"target", cfg.Target.Name())
	}
	v, _ := buildVersion()
	target := httptarget.New(cfg.Target, cfg.Plan.MaxConcurrency(), "picsoak/"+v)
	prev := rig.close
	rig.close = func() { target.CloseIdleConnections(); prev() }

	var samplers sample.Multi
	if cfg.Target.MetricsURL != "" {
		samplers = append(samplers, &sample.Metrics{URL: cfg.Target.MetricsURL, Client: &http.Client{Timeout: 5 * time.Second}})
	}
	if cfg.Target.PID > 0 {
		samplers = append(samplers, &sample.Proc{PID: cfg.Target.PID})
	}
	rig.runner = &soak.Runner{
		Plan:           cfg.Plan,
		Target:         target,
		TargetName:     cfg.Target.Name(),
		Observers:      obs,
		Redactor:       cfg.Redactor,
		CPULatencyPath: cpuLatencyPath,
	}
	if len(samplers) > 0 {
		rig.runner.Sampler = samplers
	}
	return rig, nil
}

func simSettings(c config.Sim) picsim.Settings {
	return picsim.Settings{Latency: c.Latency, Jitter: c.Jitter, ErrorRatio: c.ErrorRatio}
}

// resultRoute is where every finished cycle's result goes, in order, the same for
// serve and run: exp exports it (nil: no metrics), the report store keeps it and the
// log says so, and the memory the cycle used is given back; extra observers (run's
// progress display) follow.
func resultRoute(exp *metrics.Exporter, store *report.Store, log *slog.Logger, extra ...soak.Observer) soak.Observers {
	var route soak.Observers
	if exp != nil {
		route = append(route, exp)
	}
	route = append(route, &report.Writer{Store: store, Written: func(r *soak.Result, path string, err error) {
		logCycle(log, r, path, err)
		if err != nil && exp != nil {
			exp.ReportWriteFailed()
		}
	}}, releaseMemory{})
	return append(route, extra...)
}

// logCycle logs one line about a finished cycle and where its report went.
func logCycle(log *slog.Logger, r *soak.Result, path string, err error) {
	attrs := []any{
		"cycle", r.Cycle.String(), "verdict", string(r.Verdict), "requests", r.Requests.Total(),
		"success_ratio", r.SuccessRatio, "throughput_rps", r.ThroughputRPS,
		"p50_seconds", r.Latency.Quantile(0.5), "p99_seconds", r.Latency.Quantile(0.99),
		"duration_seconds", r.DurationSeconds,
	}
	if r.AbortReason != "" {
		attrs = append(attrs, "abort_reason", r.AbortReason)
	}
	if err != nil {
		log.Error("cycle finished but its report could not be written", append(attrs, "err", err)...)
		return
	}
	log.Info("cycle finished", append(attrs, "report", path)...)
}

// releaseMemory gives a finished cycle's memory back to the OS: a cycle leaves garbage
// measured in megabytes and then the daemon idles for minutes, so picsoak's memory
// stays flat across months of cycles instead of swaying with the collector's pacing.
type releaseMemory struct{ soak.NopObserver }

func (releaseMemory) CycleFinished(*soak.Result) { debug.FreeOSMemory() }

func simulate(ctx context.Context, environ []string, stderr io.Writer) int {
	cfg, ok := loadConfig(environ, stderr)
	if !ok {
		return exitConfig
	}
	log := newLogger(cfg, stderr)
	sim := picsim.New(simSettings(cfg.Sim))
	ln, err := net.Listen("tcp", cfg.Sim.ListenAddr)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Sim.ListenAddr, "err", err)
		return exitFail
	}
	srv := newHTTPServer(sim.Handler())
	log.Info("PIC simulator listening", "addr", ln.Addr().String(), "events", "/events", "control", "/control", "metrics", "/metrics")
	return serveUntilDone(ctx, srv, ln, "", log)
}

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// serveUntilDone serves until ctx is done, then shuts down gracefully. webConfig is
// an exporter-toolkit web config file; empty serves plain HTTP.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, webConfig string, log *slog.Logger) int {
	errc := make(chan error, 1)
	go func() { errc <- serveWeb(srv, ln, webConfig, log) }()
	select {
	case err := <-errc:
		log.Error("HTTP server failed", "err", err)
		return exitFail
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("HTTP server did not shut down cleanly", "err", err)
	}
	log.Info("stopped")
	return exitOK
}
