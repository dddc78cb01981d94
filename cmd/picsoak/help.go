package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/picsoak/picsoak/soak/config"
)

func writeHelp(w io.Writer) {
	fmt.Fprint(w, `picsoak soaks PIC with scheduled load cycles (sustained, burst, streams) and
exports throughput, latency quantiles, success ratios and PIC's resource usage as
Prometheus metrics.

Usage:
  picsoak [serve]            run the daemon: every cycle at start, then on its schedule
  picsoak run [flags]        run the cycles once, print a Markdown summary, write reports;
                             exit 0 all passed, 1 one failed or regressed or the push failed,
                             2 bad configuration or flags, 3 target unreachable (see 'picsoak
                             run -h' for the flags: --cycle, --json, --junit, --baseline and its
                             tolerances, --pushgateway, --progress)
  picsoak sim                serve the PIC simulator alone
  picsoak check              validate the configuration and exit (0 valid, 2 invalid)
  picsoak health             ask the daemon on PICSOAK_LISTEN_ADDR for /healthz, over TLS when
                             PICSOAK_WEB_CONFIG_FILE says so (a container health check);
                             exit 0 healthy, 1 not, 2 bad configuration
  picsoak version            print the version
  picsoak help               print this help

With PICSOAK_TARGET_URL empty, serve and run soak a built-in PIC simulator.

Configuration (environment variables):
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range config.Vars() {
		def := v.Default
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Help)
	}
	tw.Flush()
}
