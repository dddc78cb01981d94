package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The committed example web config, with a test certificate in place of its paths,
// passes promtool, and the real Prometheus scrapes picsoak through it over TLS with
// basic auth, while a job without the credentials is refused.
func TestPrometheusScrapesOverTLSWithBasicAuth(t *testing.T) {
	promBin := RequireTool(t, "prometheus")
	promtool := RequireTool(t, "promtool")
	root := RepoRoot(t)
	dir := t.TempDir()

	// The example's hash is of "change-me".
	w := NewWebTLS(t, dir, "prometheus", "change-me")
	var webCfg map[string]any
	ReadYAML(t, filepath.Join(root, "deploy", "picsoak", "web-config.example.yml"), &webCfg)
	tlsCfg := webCfg["tls_server_config"].(map[string]any)
	tlsCfg["cert_file"], tlsCfg["key_file"] = w.CAFile, w.KeyFile
	webConfig := writeYAML(t, filepath.Join(dir, "example-web-config.yml"), webCfg)
	if out, err := RunTool(t, dir, promtool, "check", "web-config", webConfig); err != nil {
		t.Fatalf("promtool check web-config: got %v, want success\n%s", err, out)
	}

	bin := buildPicsoak(t, root, dir)
	soakAddr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	soak := Start(t, dir, "picsoak", bin, []string{
		"PICSOAK_LISTEN_ADDR=" + soakAddr,
		"PICSOAK_WEB_CONFIG_FILE=" + webConfig,
		"PICSOAK_REPORT_DIR=" + filepath.Join(dir, "reports"),
		"PICSOAK_RUN_ON_START=false", // the scrape is under test, not the cycles
	}, "serve")
	client := w.Client()
	Eventually(t, "picsoak ready over TLS", 15*time.Second, 100*time.Millisecond, func() (bool, string) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+soakAddr+"/readyz", nil)
		req.SetBasicAuth(w.User, w.Password)
		resp, err := client.Do(req)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("got status %d, want 200", resp.StatusCode)
	}, soak)

	passwordFile := filepath.Join(dir, "scrape-password")
	if err := os.WriteFile(passwordFile, []byte(w.Password), 0o600); err != nil {
		t.Fatal(err)
	}
	job := func(name string, auth bool) map[string]any {
		j := map[string]any{
			"job_name":       name,
			"scheme":         "https",
			"tls_config":     map[string]any{"ca_file": w.CAFile},
			"static_configs": []any{map[string]any{"targets": []any{soakAddr}}},
		}
		if auth {
			j["basic_auth"] = map[string]any{"username": w.User, "password_file": passwordFile}
		}
		return j
	}
	promCfg := writeYAML(t, filepath.Join(dir, "prometheus.yml"), map[string]any{
		"global":         map[string]any{"scrape_interval": "1s"},
		"scrape_configs": []any{job("picsoak", true), job("picsoak-noauth", false)},
	})
	promAddr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	prom := Start(t, dir, "prometheus", promBin, nil,
		"--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr)
	WaitHTTP(t, "http://"+promAddr+"/-/ready", 30*time.Second, prom)

	api := PromAPI{Base: "http://" + promAddr, Client: &http.Client{Timeout: 5 * time.Second}}
	for _, tc := range []struct {
		expr string
		want string
	}{
		{`up{job="picsoak"}`, "1"},                 // scraped with TLS and basic auth
		{`up{job="picsoak-noauth"}`, "0"},          // refused without the credentials
		{`picsoak_build_info{job="picsoak"}`, "1"}, // and the body is picsoak's metrics
	} {
		Eventually(t, tc.expr+" == "+tc.want, 30*time.Second, 250*time.Millisecond, func() (bool, string) {
			res, err := api.Query(tc.expr)
			if err != nil {
				return false, err.Error()
			}
			if len(res) != 1 || len(res[0].Value) != 2 {
				return false, fmt.Sprintf("got %d series, want 1", len(res))
			}
			return res[0].Value[1] == tc.want, fmt.Sprintf("got %v, want %s", res[0].Value[1], tc.want)
		}, soak, prom)
	}
}
