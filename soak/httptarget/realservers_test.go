package httptarget

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/report"
)

// The differential suite against real servers: nginx (Debian's package) and Node,
// started by the tests on free 127.0.0.1 ports with tight keep-alive settings, and
// Go's own h2c server. A missing server fails the test, naming the package to
// install; scripts/test.sh installs both.

// need returns the path of a server's binary, or fails the test naming its Debian
// package.
func need(t *testing.T, binary, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(binary)
	if err != nil {
		path, err = exec.LookPath("/usr/sbin/" + binary) // nginx, for a PATH without sbin
	}
	if err != nil {
		t.Fatalf("%s not found: install the Debian package %s (apt-get install -y %s; scripts/test.sh does so when it is missing)", binary, pkg, pkg)
	}
	return path
}

// freePort returns a 127.0.0.1 port nothing listens on, for a server that cannot be
// told to pick its own.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs cmd until the test ends and waits until addr accepts connections.
func startServer(t *testing.T, cmd *exec.Cmd, addr string, log func() string) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("%s exited (%v) before listening on %s:\n%s", cmd.Path, err, addr, log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening on %s after 15s:\n%s", cmd.Path, addr, log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nginxConf is the test's nginx: one process in the foreground, idle kept-alive
// connections closed after 1 s and every connection after 3 requests.
const nginxConf = `daemon off;
master_process off;
error_log {{DIR}}/error.log warn;
pid {{DIR}}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path {{DIR}}/body;
  proxy_temp_path {{DIR}}/proxy;
  fastcgi_temp_path {{DIR}}/fastcgi;
  uwsgi_temp_path {{DIR}}/uwsgi;
  scgi_temp_path {{DIR}}/scgi;
  keepalive_timeout 1s;
  keepalive_requests 3;
  server {
    listen 127.0.0.1:{{PORT}} default_server;
    listen 127.0.0.1:{{H2C}} http2;
    location /events { return 200 "ok\n"; }
    # A file, not return: return answers before auth_basic checks anything.
    location = /auth { auth_basic "pic"; auth_basic_user_file {{DIR}}/htpasswd; alias {{DIR}}/ok.txt; }
    location / { return 404; }
  }
  server {
    listen 127.0.0.1:{{PORT}};
    server_name pic.example;
    location / { return 200 "the pic.example virtual host\n"; }
  }
}
`

// startNginx starts nginx and returns the addresses of its HTTP/1.1 and its h2c
// (prior knowledge) listeners.
func startNginx(t *testing.T) (http1, h2c string) {
	t.Helper()
	bin := need(t, "nginx", "nginx")
	dir := t.TempDir()
	port, h2cPort := freePort(t), freePort(t)
	conf := strings.NewReplacer("{{DIR}}", dir, "{{PORT}}", fmt.Sprint(port), "{{H2C}}", fmt.Sprint(h2cPort)).Replace(nginxConf)
	for name, content := range map[string]string{"nginx.conf": conf, "htpasswd": "pic:{PLAIN}s3cret\n", "ok.txt": "ok\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	http1 = fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	startServer(t, cmd, http1, func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return out.String() + string(b)
	})
	return http1, fmt.Sprintf("127.0.0.1:%d", h2cPort)
}

// startNode starts testdata/server.js and returns its address.
func startNode(t *testing.T) string {
	t.Helper()
	bin := need(t, "node", "nodejs")
	cmd := exec.Command(bin, "testdata/server.js")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	port, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("node printed no port (%v):\n%s", err, stderr.String())
	}
	return "127.0.0.1:" + strings.TrimSpace(port)
}

// realRow is one behaviour of a real server: requests sent in sequence by one
// sender, each client's outcomes counted exactly.
type realRow struct {
	name string
	url  string // the endpoint, with the server's address
	env  []string
	// requests is how many requests one sender sends; waitIdle, when set, waits
	// before every request but the first until the server has closed the idle
	// connection (its keep-alive timeout, an inherent wait of about a second).
	requests int
	waitIdle bool
	want     tally
}

func runReal(t *testing.T, row realRow, client string, addr string) {
	sender := newTestTarget(t, row.url, func(c *config.Target) { c.Client = client }, row.env...).NewSender(-1)
	var got soak.OutcomeCounts
	errs := map[soak.Outcome]string{}
	for i := range row.requests {
		if i > 0 && row.waitIdle {
			waitClosed(t, addr)
		}
		r := sender.Send(context.Background())
		got[r.Outcome]++
		if r.Err != nil {
			errs[r.Outcome] = r.Err.Error()
		}
	}
	if got != row.want.counts() {
		t.Errorf("got %v, want %v; example errors %v", got, row.want.counts(), errs)
	}
}

func TestNginx(t *testing.T) {
	addr, h2c := startNginx(t)
	base := "http://" + addr
	rows := []realRow{
		// keepalive_requests 3: every third reply says Connection: close.
		{name: "GET through keepalive_requests", url: base + "/events", requests: 10, want: tally{ok: 10}},
		{name: "POST through keepalive_requests", url: base + "/events", env: post(`{"e":1}`), requests: 10, want: tally{ok: 10}},
		// keepalive_timeout 1s: nginx closes the idle connection without a word; the
		// next POST must not fail for it (issue 17's first case).
		{name: "POST after keepalive_timeout", url: base + "/events", env: post(`{"e":1}`), requests: 3, waitIdle: true, want: tally{ok: 3}},
		// Expect: 100-continue makes nginx answer 100 Continue before the reply.
		{name: "POST with Expect: 100-continue", url: base + "/events",
			env: append(post(`{"e":1}`), "PICSOAK_TARGET_HEADERS=Expect: 100-continue"), requests: 6, want: tally{ok: 6}},
		// A configured Host header reaches the pic.example server block; sent twice it
		// is a 400, not sent the default server's 404.
		{name: "a configured Host header", url: base + "/", env: []string{"PICSOAK_TARGET_HEADERS=Host: pic.example"}, requests: 6, want: tally{ok: 6}},
		// URL credentials are basic auth (auth_basic answers 401 without).
		{name: "URL credentials", url: "http://pic:s3cret@" + addr + "/auth", requests: 6, want: tally{ok: 6}},
		{name: "no credentials", url: base + "/auth", requests: 6, want: tally{httpError: 6}},
		// Not found is PIC's answer.
		{name: "404", url: base + "/missing", requests: 6, want: tally{httpError: 6}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			forEachClient(t, func(t *testing.T, client string) { runReal(t, row, client, addr) })
		})
	}
	// HTTP/2 with prior knowledge on nginx's `listen … http2` (nginx 1.22), through
	// net/http; the cycle's result says so.
	t.Run("h2c", func(t *testing.T) { testH2C(t, "http://"+h2c+"/events") })
}

func TestNode(t *testing.T) {
	addr := startNode(t)
	base := "http://" + addr
	rows := []realRow{
		// keepAliveTimeout 0.5s: Node closes the idle connection; the next POST goes out
		// on a fresh one.
		{name: "POST after keepAliveTimeout", url: base + "/events", env: post(`{"e":1}`), requests: 3, waitIdle: true, want: tally{ok: 3}},
		// writeEarlyHints sends 103 before every reply.
		{name: "103 Early Hints", url: base + "/hints", requests: 6, want: tally{ok: 6}},
		// maxRequestsPerSocket 3: the third reply says Connection: close.
		{name: "POST through maxRequestsPerSocket", url: base + "/events", env: post(`{"e":1}`), requests: 7, want: tally{ok: 7}},
		// Node answers Expect: 100-continue with 100 Continue.
		{name: "POST with Expect: 100-continue", url: base + "/events",
			env: append(post(`{"e":1}`), "PICSOAK_TARGET_HEADERS=Expect: 100-continue"), requests: 6, want: tally{ok: 6}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			forEachClient(t, func(t *testing.T, client string) { runReal(t, row, client, addr) })
		})
	}
}

// Go's own server with unencrypted HTTP/2 enabled (http.Server.Protocols).
func TestGoH2CServer(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "want HTTP/2, got "+r.Proto, http.StatusHTTPVersionNotSupported)
			return
		}
		w.Write([]byte("ok"))
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	testH2C(t, srv.URL+"/events")
}

// testH2C runs a streams cycle over h2c against url and checks every request was ok
// and the result names HTTP/2.
func testH2C(t *testing.T, url string) {
	cfg := soaktest.Config(t, url, "PICSOAK_TARGET_CLIENT=net/http", "PICSOAK_TARGET_PROTOCOL=h2c", "PICSOAK_TARGET_METHOD=POST", `PICSOAK_TARGET_BODY={"e":1}`)
	target := New(cfg.Target, cfg.Plan.MaxConcurrency(), "picsoak-test")
	t.Cleanup(target.CloseIdleConnections)
	res := soaktest.Runner(cfg, target).Run(context.Background(), soak.Streams)
	want := int64(cfg.Plan.Streams.Count * cfg.Plan.Streams.Requests)
	if res.Requests[soak.OutcomeOK] != want || res.Requests.Total() != want {
		t.Errorf("got %v, want %d ok; example errors %v", res.Requests, want, res.Errors)
	}
	if res.Protocol != "HTTP/2.0" {
		t.Errorf("got protocol %q, want HTTP/2.0", res.Protocol)
	}
	if md := report.Markdown(res); !strings.Contains(md, "| protocol | HTTP/2.0 |") {
		t.Errorf("report lacks the protocol:\n%s", md)
	}
}
