package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// plantedSecrets are credentials the test configures; no output may contain any.
var plantedSecrets = []string{"PLANTED-SECRET-1", "PLANTED-SECRET-2", "PLANTED-SECRET-3", "PLANTED-SECRET-4", "PLANTED-SECRET-5", "PLANTED-TOKEN-6"}

// failingPIC answers a third of the requests ok, a third 503 and hangs up on the
// rest, so every kind of example error is produced; its /metrics is broken, so the
// resource samples fail too. It counts the requests that carried the planted
// Authorization header, to prove the secret was in use.
func failingPIC(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n, authorized atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		if r.Header.Get("Authorization") == "Bearer PLANTED-SECRET-3" {
			authorized.Add(1)
		}
		switch n.Add(1) % 3 {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &authorized
}

// secretEnv points picsoak at pic with a credential in every place one can go.
func secretEnv(t *testing.T, pic string, extra ...string) []string {
	host := strings.TrimPrefix(pic, "http://")
	return fastEnv(t, append([]string{
		"PICSOAK_TARGET_URL=http://user:PLANTED-SECRET-1@" + host + "/events?token=PLANTED-SECRET-2&page=1",
		"PICSOAK_TARGET_HEADERS=Authorization: Bearer PLANTED-SECRET-3\nX-Api-Key: PLANTED-SECRET-4",
		"PICSOAK_TARGET_METRICS_URL=http://" + host + "/metrics?api_key=PLANTED-SECRET-5",
		"PICSOAK_SUSTAINED_MIN_SUCCESS_RATIO=0", "PICSOAK_BURST_MIN_SUCCESS_RATIO=0", "PICSOAK_STREAMS_MIN_SUCCESS_RATIO=0",
	}, extra...)...)
}

// leaks names every planted secret found in out.
func leaks(t *testing.T, where, out string) {
	t.Helper()
	if out == "" {
		t.Errorf("%s: got nothing, want output to search", where)
	}
	for _, s := range plantedSecrets {
		if i := strings.Index(out, s); i >= 0 {
			t.Errorf("%s: got %s in %q, want it nowhere", where, s, out[max(0, i-200):min(len(out), i+100)])
		}
	}
}

// leaksInDir searches every file under dir.
func leaksInDir(t *testing.T, dir string) int {
	t.Helper()
	files := 0
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
		}
		leaks(t, path, string(b))
		files++
		return nil
	})
	return files
}

func TestSecretsNeverLeave(t *testing.T) {
	t.Run("daemon", func(t *testing.T) {
		pic, authorized := failingPIC(t)
		env := secretEnv(t, pic.URL, "PICSOAK_TARGET_CLIENT=net/http") // net/http's errors quote URLs
		d := startDaemon(t, env)
		waitFor(t, "a finished cycle of each kind", 60*time.Second, func() bool {
			mf := d.families(t)["picsoak_cycles_total"]
			return counterSum(mf, "cycle", "sustained") >= 1 && counterSum(mf, "cycle", "burst") >= 1 && counterSum(mf, "cycle", "streams") >= 1
		})
		_, status := d.get(t, "/api/v1/status")
		for _, want := range []string{`"conn_error":`, `"http_error":`, `"missing":`} {
			if !strings.Contains(status, want) {
				t.Errorf("/api/v1/status lacks %s: the test needs every kind of error to search", want)
			}
		}
		for _, path := range []string{"/metrics", "/", "/api/v1/status", "/reports/"} {
			_, body := d.get(t, path)
			leaks(t, "GET "+path, body)
		}
		leaks(t, "daemon log", d.stop(t))
		if n := leaksInDir(t, envValue(env, "PICSOAK_REPORT_DIR")); n < 6 {
			t.Errorf("report files: got %d, want a JSON and a Markdown per cycle", n)
		}
		if authorized.Load() == 0 {
			t.Errorf("requests with the planted Authorization header: got 0, want PIC to have received it")
		}
	})

	t.Run("run", func(t *testing.T) {
		// A fresh PIC: its first reply, the preflight's, is a 503, which is reachable.
		pic, _ := failingPIC(t)
		out := t.TempDir()
		env := secretEnv(t, pic.URL)
		jsonPath, junitPath := filepath.Join(out, "run.json"), filepath.Join(out, "run.xml")
		r := runBinary(t, env, "run", "--progress", "plain", "--json", jsonPath, "--junit", junitPath)
		if r.code != 0 {
			t.Errorf("run: got exit %d, want 0 (thresholds are 0)\n%s", r.code, r.stderr)
		}
		leaks(t, "run stdout", r.stdout)
		leaks(t, "run stderr", r.stderr)
		leaksInDir(t, out)
		leaksInDir(t, envValue(env, "PICSOAK_REPORT_DIR"))
	})

	t.Run("unreachable target", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String()
		ln.Close()
		r := runBinary(t, secretEnv(t, closed, "PICSOAK_TARGET_CLIENT=net/http"), "run")
		if r.code != exitUnreachable {
			t.Errorf("run against a closed port: got exit %d, want %d\n%s", r.code, exitUnreachable, r.stderr)
		}
		leaks(t, "preflight error", r.stderr)
	})

	t.Run("configuration errors", func(t *testing.T) {
		for _, env := range [][]string{
			// A URL of the wrong scheme, with credentials.
			{"PICSOAK_TARGET_URL=ftp://user:PLANTED-SECRET-1@pic/?token=PLANTED-SECRET-2"},
			// An unparseable URL with credentials.
			{"PICSOAK_TARGET_URL=http://user:PLANTED-SECRET-1@pic:port/", "PICSOAK_TARGET_METRICS_URL=http://pic:x/?token=PLANTED-SECRET-2"},
			// A bad header line and a good credential header.
			{"PICSOAK_TARGET_HEADERS=Authorization: Bearer PLANTED-SECRET-3\nnot a header PLANTED-SECRET-4"},
			// An API token too short to be safe (15 characters).
			{"PICSOAK_API_TOKEN=PLANTED-TOKEN-6"},
		} {
			for _, cmd := range []string{"check", "serve", "run"} {
				r := runBinary(t, append(env, "PICSOAK_LISTEN_ADDR=127.0.0.1:0"), cmd)
				if r.code != exitConfig {
					t.Errorf("%s with %q: got exit %d, want %d\n%s", cmd, env, r.code, exitConfig, r.stderr)
				}
				leaks(t, fmt.Sprintf("%s error for %q", cmd, env), r.stderr)
			}
		}
	})

}
