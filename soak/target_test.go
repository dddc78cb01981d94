package soak

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// newTestTarget returns an HTTPTarget for url with test-friendly settings.
func newTestTarget(t testing.TB, url string, edit func(*TargetConfig)) *HTTPTarget {
	t.Helper()
	cfg := TargetConfig{URL: url, Method: "GET", Timeout: 2 * time.Second, ExpectedStatus: "2xx", MaxBodyBytes: 1 << 20, Client: ClientFast}
	if edit != nil {
		edit(&cfg)
	}
	target, err := NewHTTPTarget(cfg, 4, "picsoak-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(target.CloseIdleConnections)
	return target
}

func TestOutcomeClassification(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, "fine")
		case "/fail":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		case "/reset":
			// Hijack and close without a reply: the connection breaks mid-request.
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		case "/garbage":
			conn, buf, _ := w.(http.Hijacker).Hijack()
			buf.WriteString("this is not HTTP\r\n\r\n")
			buf.Flush()
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)

	// A port with nothing listening: bind one, then close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()

	tests := []struct {
		name string
		url  string
		edit func(*TargetConfig)
		want Outcome
	}{
		{"200 is ok", srv.URL + "/ok", nil, OutcomeOK},
		{"500 is an http error", srv.URL + "/fail", nil, OutcomeHTTPError},
		{"500 expected is ok", srv.URL + "/fail", func(c *TargetConfig) { c.ExpectedStatus = "2xx,500" }, OutcomeOK},
		{"a redirect is a reply, not followed", srv.URL + "/redirect", nil, OutcomeHTTPError},
		{"no reply within the timeout", srv.URL + "/hang", func(c *TargetConfig) { c.Timeout = 100 * time.Millisecond }, OutcomeTimeout},
		{"refused connection", refused, nil, OutcomeConnError},
		{"connection reset", srv.URL + "/reset", nil, OutcomeConnError},
		{"malformed reply", srv.URL + "/garbage", nil, OutcomeOther},
	}
	for _, client := range []string{ClientFast, ClientNetHTTP} {
		for _, tt := range tests {
			t.Run(client+"/"+tt.name, func(t *testing.T) {
				target := newTestTarget(t, tt.url, func(c *TargetConfig) {
					c.Client = client
					if tt.edit != nil {
						tt.edit(c)
					}
				})
				got, err := target.NewSender(-1).Send(context.Background())
				if got != tt.want {
					t.Errorf("got %s (%v), want %s", got, err, tt.want)
				}
				if (err == nil) != (got == OutcomeOK) {
					t.Errorf("got error %v with outcome %s, want an error exactly when not ok", err, got)
				}
			})
		}
	}
}

func TestTargetSendsConfiguredRequest(t *testing.T) {
	forEachClient(t, testTargetSendsConfiguredRequest)
}

func testTargetSendsConfiguredRequest(t *testing.T, client string) {
	type seen struct{ method, auth, ctype, body, stream, ua string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b), r.Header.Get(StreamHeader), r.UserAgent()}
	}))
	t.Cleanup(srv.Close)
	target := newTestTarget(t, srv.URL, func(c *TargetConfig) {
		c.Client = client
		c.Method = "POST"
		c.Headers = "Authorization: Bearer token\nContent-Type: application/json"
		c.Body = `{"event":1}`
	})
	if o, err := target.NewSender(7).Send(context.Background()); o != OutcomeOK {
		t.Fatalf("got %s (%v), want ok", o, err)
	}
	want := seen{"POST", "Bearer token", "application/json", `{"event":1}`, "7", "picsoak-test"}
	if s := <-got; s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestLargeBodyIsReadBoundedAndNotAnError(t *testing.T) {
	forEachClient(t, testLargeBodyIsReadBoundedAndNotAnError)
}

func testLargeBodyIsReadBoundedAndNotAnError(t *testing.T, client string) {
	var written atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		// 64 MiB unless the client hangs up first.
		for range 1024 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	target := newTestTarget(t, srv.URL, func(c *TargetConfig) { c.Client, c.MaxBodyBytes = client, 128<<10 })
	if o, err := target.NewSender(-1).Send(context.Background()); o != OutcomeOK {
		t.Fatalf("got %s (%v), want ok", o, err)
	}
	srv.Close() // waits for the handler, so written is final
	if w := written.Load(); w >= 64<<20 {
		t.Errorf("server wrote the whole %d bytes, want the client to stop reading after its cap", w)
	}
}

func TestConnectionsAreReused(t *testing.T) { forEachClient(t, testConnectionsAreReused) }

func testConnectionsAreReused(t *testing.T, client string) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	sender := newTestTarget(t, srv.URL, func(c *TargetConfig) { c.Client = client }).NewSender(-1)
	for range 50 {
		if o, err := sender.Send(context.Background()); o != OutcomeOK {
			t.Fatalf("got %s (%v), want ok", o, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("50 sequential requests opened %d connections, want 1", n)
	}
}

func TestParseStatusSet(t *testing.T) {
	s, err := ParseStatusSet("2xx, 304")
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{200: true, 204: true, 299: true, 304: true, 199: false, 300: false, 500: false} {
		if got := s.Has(code); got != want {
			t.Errorf("Has(%d) = %v, want %v", code, got, want)
		}
	}
	for _, bad := range []string{"", "6xx", "abc", "99", "2xx,"} {
		if _, err := ParseStatusSet(bad); err == nil {
			t.Errorf("ParseStatusSet(%q) = nil error, want one", bad)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	h, err := ParseHeaders("X-One: 1\n\n  x-two:two words  \n")
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("X-One") != "1" || h.Get("X-Two") != "two words" || len(h) != 2 {
		t.Errorf("got %v, want X-One=1 and X-Two=two words", h)
	}
	if _, err := ParseHeaders("X-Ok: 1\nBad Header: 2"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("got %v, want an error naming line 2", err)
	}
}

func BenchmarkHTTPTargetSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	for _, client := range []string{ClientFast, ClientNetHTTP} {
		b.Run(client, func(b *testing.B) {
			sender := newTestTarget(b, srv.URL, func(c *TargetConfig) { c.Client = client }).NewSender(-1)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if o, err := sender.Send(ctx); o != OutcomeOK {
					b.Fatalf("got %s (%v), want ok", o, err)
				}
			}
		})
	}
}

func forEachClient(t *testing.T, test func(t *testing.T, client string)) {
	for _, client := range []string{ClientFast, ClientNetHTTP} {
		t.Run(client, func(t *testing.T) { test(t, client) })
	}
}
