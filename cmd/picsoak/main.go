// Command picsoak soaks PIC with scheduled load cycles and exports what it measures
// as Prometheus metrics. This package only wires the engine (soak), the simulator
// (soak/picsim) and the exporter (metrics) together; see `picsoak help`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Exit codes of every command.
const (
	exitOK     = 0
	exitFail   = 1 // a cycle failed, was aborted or regressed (run), or the daemon failed
	exitConfig = 2 // bad configuration or usage
	// exitUnreachable: run's preflight request could not connect to the target.
	exitUnreachable = 3
)

// version and revision are set at build time with -ldflags "-X main.version=…".
var version, revision string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, environ, stderr)
	case "run":
		return runOnce(ctx, args, environ, stdout, stderr)
	case "sim":
		return simulate(ctx, environ, stderr)
	case "check":
		return check(environ, stdout, stderr)
	case "health":
		return health(environ, stdout, stderr)
	case "version":
		v, rev := buildVersion()
		fmt.Fprintf(stdout, "picsoak %s (revision %s, %s)\n", v, rev, goVersion())
		return exitOK
	case "help", "-h", "-help", "--help":
		writeHelp(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "picsoak: unknown command %q\n\n", cmd)
	writeHelp(stderr)
	return exitConfig
}

// buildVersion prefers what the linker was given, then what the Go toolchain recorded.
func buildVersion() (string, string) {
	v, rev := version, revision
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && rev == "" {
				rev = s.Value
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	if rev == "" {
		rev = "unknown"
	}
	return v, rev
}

func goVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info.GoVersion
	}
	return "unknown"
}
