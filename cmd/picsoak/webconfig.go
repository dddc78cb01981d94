package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/redact"
	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v3"
)

// checkWebConfig validates PICSOAK_WEB_CONFIG_FILE (its YAML, bcrypt hashes,
// certificate and key) the way exporter-toolkit will read it, so a bad file stops the
// daemon at start-up with exit 2 instead of failing every scrape later.
func checkWebConfig(cfg config.Config, stderr io.Writer) bool {
	if err := web.Validate(cfg.Daemon.WebConfigFile); err != nil {
		fmt.Fprintf(stderr, "picsoak: invalid configuration:\n  PICSOAK_WEB_CONFIG_FILE=%q: %v\nSee https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md for the format.\n",
			cfg.Daemon.WebConfigFile, redact.Text(err.Error()))
		return false
	}
	return true
}

// webScheme is the scheme the daemon serves with the (validated) web config at path.
func webScheme(path string) string {
	if path == "" {
		return "http"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "http"
	}
	var c struct {
		TLS struct {
			Cert     string `yaml:"cert"`
			CertFile string `yaml:"cert_file"`
		} `yaml:"tls_server_config"`
	}
	if yaml.Unmarshal(b, &c) == nil && (c.TLS.Cert != "" || c.TLS.CertFile != "") {
		return "https"
	}
	return "http"
}

// serveWeb serves srv on ln through exporter-toolkit: TLS and basic auth from the
// web config file at path, plain HTTP when path is empty. srv.Shutdown stops it.
func serveWeb(srv *http.Server, ln net.Listener, path string, log *slog.Logger) error {
	return web.Serve(ln, srv, &web.FlagConfig{WebConfigFile: &path}, log)
}
