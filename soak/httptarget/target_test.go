package httptarget

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

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

// newTestTarget returns a Target for url with test-friendly settings: the
// configuration of environ, then edit (which may be nil).
func newTestTarget(t testing.TB, url string, edit func(*config.Target), environ ...string) *Target {
	t.Helper()
	cfg, err := config.Load(append([]string{"PICSOAK_TARGET_URL=" + url, "PICSOAK_TARGET_TIMEOUT=2s"}, environ...))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&cfg.Target)
	}
	target := New(cfg.Target, 4, "picsoak-test")
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
		env  string
		edit func(*config.Target)
		want soak.Outcome
	}{
		{"200 is ok", srv.URL + "/ok", "", nil, soak.OutcomeOK},
		{"500 is an http error", srv.URL + "/fail", "", nil, soak.OutcomeHTTPError},
		{"500 expected is ok", srv.URL + "/fail", "PICSOAK_TARGET_EXPECTED_STATUS=2xx,500", nil, soak.OutcomeOK},
		{"a redirect is a reply, not followed", srv.URL + "/redirect", "", nil, soak.OutcomeHTTPError},
		{"no reply within the timeout", srv.URL + "/hang", "", func(c *config.Target) { c.Timeout = 100 * time.Millisecond }, soak.OutcomeTimeout},
		{"refused connection", refused, "", nil, soak.OutcomeConnError},
		{"connection reset", srv.URL + "/reset", "", nil, soak.OutcomeConnError},
		{"malformed reply", srv.URL + "/garbage", "", nil, soak.OutcomeOther},
	}
	for _, client := range []string{config.ClientFast, config.ClientNetHTTP} {
		for _, tt := range tests {
			t.Run(client+"/"+tt.name, func(t *testing.T) {
				var env []string
				if tt.env != "" {
					env = append(env, tt.env)
				}
				target := newTestTarget(t, tt.url, func(c *config.Target) {
					c.Client = client
					if tt.edit != nil {
						tt.edit(c)
					}
				}, env...)
				reply := target.NewSender(-1).Send(context.Background())
				got, err := reply.Outcome, reply.Err
				if got != tt.want {
					t.Errorf("got %s (%v), want %s", got, err, tt.want)
				}
				if (err == nil) != (got == soak.OutcomeOK) {
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
	target := newTestTarget(t, srv.URL, func(c *config.Target) { c.Client = client },
		"PICSOAK_TARGET_METHOD=POST", "PICSOAK_TARGET_HEADERS=Authorization: Bearer token\nContent-Type: application/json", `PICSOAK_TARGET_BODY={"event":1}`)
	if r := target.NewSender(7).Send(context.Background()); r.Outcome != soak.OutcomeOK {
		o, err := r.Outcome, r.Err
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
	target := newTestTarget(t, srv.URL, func(c *config.Target) { c.Client, c.MaxBodyBytes = client, 128<<10 })
	if r := target.NewSender(-1).Send(context.Background()); r.Outcome != soak.OutcomeOK {
		o, err := r.Outcome, r.Err
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
	sender := newTestTarget(t, srv.URL, func(c *config.Target) { c.Client = client }).NewSender(-1)
	for range 50 {
		if r := sender.Send(context.Background()); r.Outcome != soak.OutcomeOK {
			o, err := r.Outcome, r.Err
			t.Fatalf("got %s (%v), want ok", o, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("50 sequential requests opened %d connections, want 1", n)
	}
}

func BenchmarkHTTPTargetSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	for _, client := range []string{config.ClientFast, config.ClientNetHTTP} {
		b.Run(client, func(b *testing.B) {
			sender := newTestTarget(b, srv.URL, func(c *config.Target) { c.Client = client }).NewSender(-1)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if r := sender.Send(ctx); r.Outcome != soak.OutcomeOK {
					o, err := r.Outcome, r.Err
					b.Fatalf("got %s (%v), want ok", o, err)
				}
			}
		})
	}
}

func forEachClient(t *testing.T, test func(t *testing.T, client string)) {
	for _, client := range []string{config.ClientFast, config.ClientNetHTTP} {
		t.Run(client, func(t *testing.T) { test(t, client) })
	}
}

// The stand-in PIC of the shared test helpers reads the header this package writes.
func TestStreamHeaderIsTheOneTestsRead(t *testing.T) {
	if soaktest.StreamHeader != StreamHeader {
		t.Errorf("soaktest.StreamHeader = %q, want %q", soaktest.StreamHeader, StreamHeader)
	}
}

// PICSOAK_TARGET_PROTOCOL over TLS: auto takes what ALPN agrees on, http1 and h2 force
// their version; the target reports what the replies came in.
func TestProtocolOverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tests := []struct{ protocol, want string }{
		{config.ProtocolAuto, "HTTP/2.0"},
		{config.ProtocolHTTP1, "HTTP/1.1"},
		{config.ProtocolH2, "HTTP/2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			target := newTestTarget(t, srv.URL, func(c *config.Target) { c.InsecureSkipVerify = true },
				"PICSOAK_TARGET_PROTOCOL="+tt.protocol, "PICSOAK_TARGET_EXPECT_BODY="+tt.want)
			if r := target.NewSender(-1).Send(context.Background()); r.Outcome != soak.OutcomeOK {
				o, err := r.Outcome, r.Err
				t.Fatalf("got %s (%v), want ok over %s", o, err, tt.want)
			}
			if got := target.ReplyProtocols(); got != tt.want {
				t.Errorf("got protocol %q, want %q", got, tt.want)
			}
			if got := target.ReplyProtocols(); got != "" {
				t.Errorf("got protocol %q on a second call with no reply between, want none", got)
			}
		})
	}
}
