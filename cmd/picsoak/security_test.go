package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picsoak/picsoak/e2e"
	"github.com/picsoak/picsoak/web"
)

// testToken is the run API token of the tests that start a daemon with one.
const testToken = "0123456789abcdef-test-token"

// quietEnv is fastEnv with no cycle started, for tests of the HTTP surface alone.
func quietEnv(t *testing.T, extra ...string) []string {
	return fastEnv(t, append([]string{"PICSOAK_RUN_ON_START=false",
		"PICSOAK_SUSTAINED_SCHEDULE=@every 1h", "PICSOAK_BURST_SCHEDULE=@every 1h", "PICSOAK_STREAMS_SCHEDULE=@every 1h"}, extra...)...)
}

func TestWebConfigServesTLSWithBasicAuth(t *testing.T) {
	w := e2e.NewWebTLS(t, t.TempDir(), "prometheus", "scrape-password")
	d := startDaemon(t, quietEnv(t, "PICSOAK_WEB_CONFIG_FILE="+w.Config, "PICSOAK_API_TOKEN="+testToken))
	if !strings.HasPrefix(d.base, "https://127.0.0.1:") {
		t.Fatalf("logged address: got %q, want https://127.0.0.1:port", d.base)
	}
	client := w.Client()
	for _, tc := range []struct {
		name, method, path string
		user, password     string
		header             map[string]string
		want               int
	}{
		{name: "metrics without credentials", path: "/metrics", want: http.StatusUnauthorized},
		{name: "metrics with a wrong password", path: "/metrics", user: w.User, password: "wrong", want: http.StatusUnauthorized},
		{name: "status page without credentials", path: "/", want: http.StatusUnauthorized},
		{name: "health without credentials", path: "/healthz", want: http.StatusUnauthorized},
		{name: "run API without basic auth, even with the token", method: http.MethodPost, path: "/api/v1/cycles/streams/run",
			header: map[string]string{"Authorization": "Bearer " + testToken}, want: http.StatusUnauthorized},
		{name: "metrics", path: "/metrics", user: w.User, password: w.Password, want: http.StatusOK},
		{name: "health", path: "/healthz", user: w.User, password: w.Password, want: http.StatusOK},
		{name: "readiness", path: "/readyz", user: w.User, password: w.Password, want: http.StatusOK},
		{name: "status API", path: "/api/v1/status", user: w.User, password: w.Password, want: http.StatusOK},
		{name: "status page", path: "/", user: w.User, password: w.Password, want: http.StatusOK},
		{name: "run API with basic auth but no token", method: http.MethodPost, path: "/api/v1/cycles/streams/run",
			user: w.User, password: w.Password, want: http.StatusUnauthorized},
		{name: "run API with basic auth and the token beside it", method: http.MethodPost, path: "/api/v1/cycles/streams/run",
			user: w.User, password: w.Password, header: map[string]string{web.TokenHeader: testToken}, want: http.StatusAccepted},
	} {
		method := tc.method
		if method == "" {
			method = http.MethodGet
		}
		req, _ := http.NewRequest(method, d.base+tc.path, nil)
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.password)
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %s %s got %d, want %d", tc.name, method, tc.path, resp.StatusCode, tc.want)
		}
	}
	// Plain HTTP on the TLS port is refused.
	plain := "http://" + strings.TrimPrefix(d.base, "https://") + "/metrics"
	if resp, err := http.Get(plain); err != nil {
		t.Errorf("GET %s: got %v, want a 400 reply", plain, err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: got %d, want 400", plain, resp.StatusCode)
		}
	}
	// The container health check needs neither the CA nor the password.
	if code, out := healthOf(t, "PICSOAK_WEB_CONFIG_FILE="+w.Config, "PICSOAK_LISTEN_ADDR="+strings.TrimPrefix(d.base, "https://")); code != exitOK || !strings.Contains(out, "https://") {
		t.Errorf("picsoak health with TLS and basic auth: exit %d, %q; want 0 over https", code, out)
	}
	// Shutdown still works through exporter-toolkit.
	d.stop(t)
	if d.exitErr != nil {
		t.Errorf("exit after SIGTERM: got %v, want 0\n%s", d.exitErr, d.logs)
	}
}

func TestInvalidWebConfigExits2(t *testing.T) {
	dir := t.TempDir()
	w := e2e.NewWebTLS(t, dir, "u", "p")
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		// A file that is not there.
		{"missing file", filepath.Join(dir, "nope.yml"), "no such file"},
		// YAML that is not a web config (unknown key, strict parsing).
		{"unknown key", write("unknown.yml", "tls_config:\n  cert_file: cert.pem\n"), "field tls_config not found"},
		// A plain-text password where a bcrypt hash belongs.
		{"password not hashed", write("plain.yml", "basic_auth_users:\n  u: hunter2\n"), "hashedSecret too short"},
		// A certificate without its key.
		{"cert without key", write("nokey.yml", "tls_server_config:\n  cert_file: cert.pem\n"), "missing one of key or key_file"},
		// A key file that does not exist.
		{"key file missing", write("badkey.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: nokey.pem\n"), "nokey.pem"},
	} {
		for _, cmd := range []string{"serve", "check"} {
			r := runBinary(t, quietEnv(t, "PICSOAK_WEB_CONFIG_FILE="+tc.path), cmd)
			if r.code != 2 || !strings.Contains(r.stderr, "PICSOAK_WEB_CONFIG_FILE=") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s: %s got exit %d, stderr:\n%s\nwant 2 naming PICSOAK_WEB_CONFIG_FILE and %q", tc.name, cmd, r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, "serving") {
				t.Errorf("%s: %s started serving despite the bad web config:\n%s", tc.name, cmd, r.stderr)
			}
		}
	}
	if r := runBinary(t, quietEnv(t, "PICSOAK_WEB_CONFIG_FILE="+w.Config), "check"); r.code != 0 {
		t.Errorf("check with a valid web config: got exit %d, want 0\n%s", r.code, r.stderr)
	}
}

func TestHTTPServerTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	// Every timeout is set: a client cannot hold a connection or a goroutine forever.
	for _, tc := range []struct {
		name string
		got  time.Duration
	}{
		{"ReadHeaderTimeout", srv.ReadHeaderTimeout}, // slowloris headers
		{"ReadTimeout", srv.ReadTimeout},             // slow bodies
		{"WriteTimeout", srv.WriteTimeout},           // clients that never read
		{"IdleTimeout", srv.IdleTimeout},             // idle keep-alive connections
	} {
		if tc.got <= 0 || tc.got > 2*time.Minute {
			t.Errorf("%s: got %s, want set, at most 2m", tc.name, tc.got)
		}
	}

	// And they act: a client sending its headers a byte at a time is cut off once
	// ReadHeaderTimeout passes (shortened here so the test is quick).
	srv.ReadHeaderTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	go func() {
		for _, b := range []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200)) {
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond) // the slowloris pace, not synchronisation
		}
	}()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	// The server closes (EOF) or resets the connection; only our own deadline is a failure.
	_, err = io.Copy(io.Discard, bufio.NewReader(conn))
	if elapsed := time.Since(start); errors.Is(err, os.ErrDeadlineExceeded) || elapsed > 2*time.Second {
		t.Errorf("slow headers: connection ended after %s with %v, want closed by the server within 2s", elapsed, err)
	}
}
