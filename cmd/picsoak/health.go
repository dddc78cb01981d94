package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthTimeout is under the compose health check's 3 s timeout, so a hung daemon is
// reported by this command rather than killed by Docker.
const healthTimeout = 2 * time.Second

// health asks the daemon configured by environ for /healthz on its own listener, over
// TLS when PICSOAK_WEB_CONFIG_FILE turns it on, so container health checks keep
// working when the web config does. Exit 0 healthy, 1 not, 2 bad configuration.
func health(environ []string, stdout, stderr io.Writer) int {
	cfg, ok := loadConfig(environ, stderr)
	if !ok || !checkWebConfig(cfg, stderr) {
		return exitConfig
	}
	host, port, err := net.SplitHostPort(cfg.Daemon.ListenAddr)
	if err != nil {
		fmt.Fprintf(stderr, "picsoak: invalid configuration:\n  PICSOAK_LISTEN_ADDR=%q: %v\n", cfg.Daemon.ListenAddr, err)
		return exitConfig
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening on every address: ask on loopback
	}
	url := webScheme(cfg.Daemon.WebConfigFile) + "://" + net.JoinHostPort(host, port) + "/healthz"
	client := &http.Client{
		Timeout: healthTimeout,
		// The probe asks its own daemon and sends no credential, so an unverified
		// certificate risks nothing; verifying would need the CA inside the container.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "picsoak: unhealthy: %v\n", err)
		return exitFail
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		fmt.Fprintf(stdout, "healthy: %s answered %s\n", url, resp.Status)
		return exitOK
	case resp.StatusCode == http.StatusUnauthorized && cfg.Daemon.WebConfigFile != "":
		// The web config's basic auth answered: the server runs. The probe has no
		// password, only its hash.
		fmt.Fprintf(stdout, "healthy: %s answered %s (basic auth from PICSOAK_WEB_CONFIG_FILE)\n", url, resp.Status)
		return exitOK
	}
	fmt.Fprintf(stderr, "picsoak: unhealthy: %s answered %s\n", url, resp.Status)
	return exitFail
}
