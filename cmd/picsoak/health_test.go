package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// healthOf runs `picsoak health` with env and returns its exit code and output.
func healthOf(t *testing.T, env ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := run(context.Background(), []string{"health"}, env, &out, &out)
	return code, out.String()
}

func TestHealthCommand(t *testing.T) {
	d := startDaemon(t, quietEnv(t))
	addr := strings.TrimPrefix(d.base, "http://")
	_, port, _ := net.SplitHostPort(addr)
	for _, listen := range []string{addr, ":" + port} {
		if code, out := healthOf(t, "PICSOAK_LISTEN_ADDR="+listen); code != exitOK || !strings.Contains(out, "healthy") {
			t.Errorf("PICSOAK_LISTEN_ADDR=%s: exit %d, %q; want 0 and healthy", listen, code, out)
		}
	}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if code, out := healthOf(t, "PICSOAK_LISTEN_ADDR="+closed.Addr().String()); code != exitFail || !strings.Contains(out, "unhealthy") {
		t.Errorf("nothing listening: exit %d, %q; want 1 and unhealthy", code, out)
	}

	for _, status := range []int{http.StatusServiceUnavailable, http.StatusUnauthorized} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
		code, out := healthOf(t, "PICSOAK_LISTEN_ADDR="+strings.TrimPrefix(srv.URL, "http://"))
		srv.Close()
		if code != exitFail || !strings.Contains(out, http.StatusText(status)) {
			t.Errorf("/healthz answering %d without a web config: exit %d, %q; want 1 naming the status", status, code, out)
		}
	}

	if code, out := healthOf(t, "PICSOAK_LISTEN_ADDR=127.0.0.1"); code != exitConfig || !strings.Contains(out, "PICSOAK_LISTEN_ADDR") {
		t.Errorf("a listen address without a port: exit %d, %q; want 2 naming PICSOAK_LISTEN_ADDR", code, out)
	}
}
