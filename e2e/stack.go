// Package e2e runs picsoak against the real Prometheus and Alertmanager. Its
// non-test half is the harness the tests of alerts/ and deploy/ share: finding the
// Prometheus tools, starting processes that are stopped by PID when the test ends,
// and polling under a deadline.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// toolPackages names the Debian package of each tool the tests run.
var toolPackages = map[string]string{
	"promtool":                "prometheus",
	"prometheus":              "prometheus",
	"prometheus-alertmanager": "prometheus-alertmanager",
	"alertmanager":            "prometheus-alertmanager",
	"amtool":                  "prometheus-alertmanager",
	"prometheus-pushgateway":  "prometheus-pushgateway",
	"pushgateway":             "prometheus-pushgateway",
}

// RequireTool returns the path of the first of names found in PATH, and fails the
// test (never skips it: CI must not pass without the tools) when none is.
func RequireTool(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("%s: got none in PATH, want one installed: run  apt-get update && apt-get install -y %s  (or ./scripts/test.sh, which does)",
		strings.Join(names, " or "), toolPackages[names[0]])
	return ""
}

// RunTool runs a tool to completion under a one-minute deadline and returns its
// combined output and error.
func RunTool(t testing.TB, dir, tool string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// RepoRoot is the module's root directory, found from this source file so tests
// of any package can reach alerts/, deploy/ and dashboards/.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller: got no file, want e2e/stack.go")
	}
	return filepath.Dir(filepath.Dir(file))
}

// ReadYAML decodes the YAML file at path into v, failing the test when it cannot.
func ReadYAML(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is a child process started by Start.
type Process struct {
	Name string
	Cmd  *exec.Cmd
	Log  string // path of its combined stdout and stderr

	done chan struct{}
	err  error // Wait's result, set before done is closed
}

// Start starts name with args and env (added to the test's environment), its output
// in a log file under dir. A cleanup stops it by PID (SIGTERM, then SIGKILL after
// 10s) and, if the test failed, logs the end of its output.
func Start(t testing.TB, dir, name, bin string, env []string, args ...string) *Process {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create %s: %v", logPath, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Name: name, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Logf("started %s (pid %d): %s %s", name, cmd.Process.Pid, bin, strings.Join(args, " "))
	t.Cleanup(func() {
		if err := p.Stop(10 * time.Second); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
		if t.Failed() {
			t.Logf("last lines of %s's log:\n%s", name, tail(logPath, 30))
		}
	})
	return p
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process and waits for it to exit, sending SIGKILL after
// grace. Stopping an exited process does nothing.
func (p *Process) Stop(grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGTERM pid %d: %w", p.Cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	p.Cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("pid %d ignored SIGTERM for %s and was killed", p.Cmd.Process.Pid, grace)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("pid %d still running after SIGKILL", p.Cmd.Process.Pid)
	}
}

// WaitExit waits up to timeout for the process to end and returns Wait's error.
func (p *Process) WaitExit(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("%s (pid %d) still running after %s", p.Name, p.Cmd.Process.Pid, timeout)
	}
}

// Eventually calls cond every interval until it returns true or timeout passes,
// then fails the test with what the last call said. It stops early, failing, if
// any of watch has exited, since a dead child will not make cond true.
func Eventually(t testing.TB, what string, timeout, interval time.Duration, cond func() (bool, string), watch ...*Process) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	var last string
	for {
		var ok bool
		ok, last = cond()
		if ok {
			t.Logf("%s: after %s", what, time.Since(start).Round(100*time.Millisecond))
			return
		}
		for _, p := range watch {
			if p.Exited() {
				t.Fatalf("%s: %s exited (%v) while waiting; last check: %s", what, p.Name, p.err, last)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last check: %s", what, timeout, last)
		}
		time.Sleep(interval)
	}
}

// WaitHTTP waits until url answers 200.
func WaitHTTP(t testing.TB, url string, timeout time.Duration, watch ...*Process) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	Eventually(t, "GET "+url, timeout, 100*time.Millisecond, func() (bool, string) {
		resp, err := c.Get(url)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("got status %d, want 200", resp.StatusCode)
	}, watch...)
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
