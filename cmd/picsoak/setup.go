package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/picsim"
)

// loadConfig parses the environment, printing every problem at once on failure.
func loadConfig(environ []string, stderr io.Writer) (soak.Config, bool) {
	cfg, err := soak.LoadConfig(environ)
	if err != nil {
		fmt.Fprintf(stderr, "picsoak: %v\nRun 'picsoak help' for every variable and its default.\n", err)
		return cfg, false
	}
	return cfg.ForShard(), true // every command runs this replica's share of the load
}

// newLogger logs at cfg's level and format and hides every credential of cfg's target
// (and of any URL) in every message and value, whoever logs it.
func newLogger(cfg soak.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Daemon.LogLevel)) // validated by soak.Config.Validate
	red := soak.NewRedactor(cfg.Target)
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return redactAttr(red, a) }}
	if cfg.Daemon.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// redactAttr hides credentials in a log attribute: the whole value when its key names
// a credential, the credentials inside it otherwise (errors from net/http quote URLs).
func redactAttr(red *soak.Redactor, a slog.Attr) slog.Attr {
	if soak.IsSecretName(a.Key) {
		return slog.String(a.Key, soak.Redacted)
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
var cpuLatencyPath = soak.CPULatencyPath

// checkCPUsAwake makes sure PICSOAK_KEEP_CPUS_AWAKE can do what it says before a cycle
// counts on it; a cycle that still cannot says so in its report.
func checkCPUsAwake(cfg soak.Config, stderr io.Writer) bool {
	if !cfg.Daemon.KeepCPUsAwake {
		return true
	}
	awake, err := soak.KeepCPUsAwake(cpuLatencyPath)
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

// newRig builds the target from cfg. With no target URL it starts the PIC simulator on
// a free loopback port and soaks that.
func newRig(cfg soak.Config, log *slog.Logger, obs soak.Observer) (*soakRig, error) {
	rig := &soakRig{close: func() {}}
	if cfg.Target.URL == "" && cfg.Target.TargetsFile == "" {
		sim := picsim.New(simSettings(cfg.Sim))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("starting the built-in PIC simulator: %w", err)
		}
		srv := newHTTPServer(sim.Handler())
		go srv.Serve(ln)
		base := "http://" + ln.Addr().String()
		cfg.Target.URL = base + "/events"
		if cfg.Target.MetricsURL == "" {
			cfg.Target.MetricsURL = base + "/metrics"
		}
		rig.close = func() { srv.Close() }
		log.Info("no PICSOAK_TARGET_URL set: soaking the built-in PIC simulator (its resource figures are picsoak's own process)",
			"target", cfg.Target.URL, "control", base+"/control", "latency", cfg.Sim.Latency.String(), "jitter", cfg.Sim.Jitter.String(), "error_ratio", cfg.Sim.ErrorRatio)
	}
	if cfg.Target.InsecureSkipVerify {
		log.Warn("PICSOAK_TARGET_INSECURE_SKIP_VERIFY is set: PIC's TLS certificate is not verified, so anyone on the path can pose as PIC",
			"target", soak.RedactURL(cfg.Target.URL))
	}
	v, _ := buildVersion()
	target, err := soak.NewHTTPTarget(cfg.Target, cfg.MaxConcurrency(), "picsoak/"+v)
	if err != nil {
		rig.close()
		return nil, err
	}
	prev := rig.close
	rig.close = func() { target.CloseIdleConnections(); prev() }

	var samplers soak.MultiSampler
	if cfg.Target.MetricsURL != "" {
		samplers = append(samplers, &soak.MetricsSampler{URL: cfg.Target.MetricsURL, Client: &http.Client{Timeout: 5 * time.Second}})
	}
	if cfg.Target.PID > 0 {
		samplers = append(samplers, &soak.ProcSampler{PID: cfg.Target.PID})
	}
	rig.runner = &soak.Runner{
		Config:         cfg,
		Target:         target,
		TargetName:     target.Name(),
		Observer:       obs,
		CPULatencyPath: cpuLatencyPath,
	}
	if len(samplers) > 0 {
		rig.runner.Sampler = samplers
	}
	return rig, nil
}

func simSettings(c soak.SimConfig) picsim.Settings {
	return picsim.Settings{Latency: c.Latency, Jitter: c.Jitter, ErrorRatio: c.ErrorRatio}
}

// writeReport stores r and logs one line about it; the error is returned for counting.
func writeReport(store *soak.ReportStore, log *slog.Logger, r *soak.Result) error {
	path, err := store.Write(r)
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
		return err
	}
	log.Info("cycle finished", append(attrs, "report", path)...)
	return nil
}

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
