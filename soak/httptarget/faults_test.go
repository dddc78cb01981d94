package httptarget

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
	"github.com/picsoak/picsoak/soak/report"
)

// The fault matrix of issue 5 at the engine level: every way PIC can misbehave, served
// for real on 127.0.0.1, under one sustained cycle per client. Daemon-level rows (what
// /metrics, /healthz and the report directory do meanwhile) are in
// cmd/picsoak/faults_test.go.

// faultServer serves raw TCP on 127.0.0.1, handing every connection to handle. Cleanup
// closes the listener and every connection and waits for the handlers, so a fault
// server leaves no goroutine behind for the next row's baseline.
func faultServer(t testing.TB, handle func(conn net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[conn] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					conn.Close()
					mu.Lock()
					delete(conns, conn)
					mu.Unlock()
				}()
				handle(conn, bufio.NewReader(conn))
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/events"
}

// readRequest reads one bodiless request's head; false when the client went away.
func readRequest(br *bufio.Reader) bool {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return false
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return true
		}
	}
}

// endless streams body chunks until the client hangs up, counting the bytes written.
func endless(head string, chunked bool, written *atomic.Int64) func(net.Conn, *bufio.Reader) {
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	if chunked {
		chunk = append(append([]byte("10000\r\n"), chunk...), "\r\n"...)
	}
	return func(conn net.Conn, br *bufio.Reader) {
		if !readRequest(br) {
			return
		}
		if _, err := io.WriteString(conn, head); err != nil {
			return
		}
		for {
			n, err := conn.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
}

// quietTLSServer is an httptest TLS server that does not log the handshakes picsoak
// refuses.
func quietTLSServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func okHandler(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

// Each row runs a sustained cycle of faultRequests requests in faultDuration with a
// worker per request, so all may be in flight at once and the cycle's bound is its
// duration plus one request timeout.
const (
	faultDuration = 500 * time.Millisecond
	faultRequests = 20
)

// intermittentRequests is the intermittent row's sample: enough for a tight binomial
// tolerance.
const intermittentRequests = 400

type faultRow struct {
	name string
	// url starts the faulty PIC and returns its URL.
	url     func(t *testing.T) string
	timeout time.Duration
	edit    func(*config.Target)
	// requests is the cycle's request count; 0 means faultRequests.
	requests int
	// want is the exact count per outcome; check, when set, replaces the exact check.
	want  soak.OutcomeCounts
	check func(t *testing.T, got soak.OutcomeCounts)
	// verdict is the expected verdict; errText, a substring of the example error of
	// the first outcome in want that is not ok.
	verdict soak.Verdict
	errText string
	// heapBound, when set, bounds how far the heap in use may grow during the cycle.
	heapBound uint64
	// minLatency, when set, is the least every request must have taken (timeouts).
	minLatency time.Duration
	// after checks the row's server once the cycle is over.
	after func(t *testing.T)
}

func faultRows() []faultRow {
	counts := func(o soak.Outcome, n int64) soak.OutcomeCounts { var c soak.OutcomeCounts; c[o] = n; return c }
	var endlessWritten atomic.Int64
	return []faultRow{
		// 1: nothing listens on the port.
		{
			name: "refused",
			url: func(t *testing.T) string {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				ln.Close()
				return "http://" + ln.Addr().String() + "/events"
			},
			timeout: time.Second, want: counts(soak.OutcomeConnError, faultRequests), verdict: soak.VerdictFail, errText: "connection refused",
		},
		// 2: PIC accepts and reads the request, then never answers.
		{
			name: "hang",
			url: func(t *testing.T) string {
				return faultServer(t, func(conn net.Conn, br *bufio.Reader) {
					readRequest(br)
					io.Copy(io.Discard, br) // until picsoak hangs up
				})
			},
			timeout: 500 * time.Millisecond, want: counts(soak.OutcomeTimeout, faultRequests), verdict: soak.VerdictFail,
			minLatency: 500 * time.Millisecond,
		},
		// 3: the connection is reset after the head and part of the body.
		{
			name: "reset mid-response",
			url: func(t *testing.T) string {
				return faultServer(t, func(conn net.Conn, br *bufio.Reader) {
					if readRequest(br) {
						io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("x", 100))
						conn.(*net.TCPConn).SetLinger(0) // close sends RST, not FIN
					}
				})
			},
			timeout: time.Second, want: counts(soak.OutcomeConnError, faultRequests), verdict: soak.VerdictFail,
			errText: "read tcp 127.0.0.1", // the operation and addresses, not a bare errno
		},
		// 4: a valid head, then the body one byte per second: the request timeout
		// covers the body, so every request ends at the timeout.
		{
			name: "trickling body",
			url: func(t *testing.T) string {
				done := make(chan struct{})
				t.Cleanup(func() { close(done) })
				return faultServer(t, func(conn net.Conn, br *bufio.Reader) {
					if !readRequest(br) {
						return
					}
					io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
					tick := time.NewTicker(time.Second)
					defer tick.Stop()
					for {
						if _, err := io.WriteString(conn, "x"); err != nil {
							return
						}
						select {
						case <-tick.C:
						case <-done:
							return
						}
					}
				})
			},
			timeout: 1500 * time.Millisecond, want: counts(soak.OutcomeTimeout, faultRequests), verdict: soak.VerdictFail,
			minLatency: 1500 * time.Millisecond,
		},
		// 5a: an endless body declared as 8 GiB: read up to the cap, then the connection
		// is dropped; memory stays flat.
		{
			name: "endless body, Content-Length 8 GiB",
			url: func(t *testing.T) string {
				endlessWritten.Store(0)
				return faultServer(t, endless("HTTP/1.1 200 OK\r\nContent-Length: 8589934592\r\n\r\n", false, &endlessWritten))
			},
			timeout: 5 * time.Second, want: counts(soak.OutcomeOK, faultRequests), verdict: soak.VerdictPass, heapBound: 32 << 20,
			after: func(t *testing.T) { checkCapped(t, endlessWritten.Load()) },
		},
		// 5b: an endless chunked body.
		{
			name: "endless body, chunked",
			url: func(t *testing.T) string {
				endlessWritten.Store(0)
				return faultServer(t, endless("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true, &endlessWritten))
			},
			timeout: 5 * time.Second, want: counts(soak.OutcomeOK, faultRequests), verdict: soak.VerdictPass, heapBound: 32 << 20,
			after: func(t *testing.T) { checkCapped(t, endlessWritten.Load()) },
		},
		// 5c: an endless body delimited by the connection's end, which never comes.
		{
			name: "endless body, until close",
			url: func(t *testing.T) string {
				endlessWritten.Store(0)
				return faultServer(t, endless("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", false, &endlessWritten))
			},
			timeout: 5 * time.Second, want: counts(soak.OutcomeOK, faultRequests), verdict: soak.VerdictPass, heapBound: 32 << 20,
			after: func(t *testing.T) { checkCapped(t, endlessWritten.Load()) },
		},
		// 6a: a 5xx storm: every request answered 503.
		{
			name: "503 storm",
			url: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(http.StatusServiceUnavailable)
				}))
				t.Cleanup(srv.Close)
				return srv.URL
			},
			timeout: time.Second, want: counts(soak.OutcomeHTTPError, faultRequests), verdict: soak.VerdictFail, errText: "unexpected status 503",
		},
		// 6b: half the requests answered 503 at random.
		{
			name: "intermittent 50% 503",
			url: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					if rand.IntN(2) == 0 {
						w.WriteHeader(http.StatusServiceUnavailable)
						return
					}
					io.WriteString(w, "ok")
				}))
				t.Cleanup(srv.Close)
				return srv.URL
			},
			timeout: time.Second, verdict: soak.VerdictFail, requests: intermittentRequests,
			check: func(t *testing.T, got soak.OutcomeCounts) {
				if got.Total() != intermittentRequests || got[soak.OutcomeOK]+got[soak.OutcomeHTTPError] != intermittentRequests {
					t.Errorf("got %v, want %d requests, each ok or http_error", got, intermittentRequests)
				}
				// Binomial(400, 0.5) has a standard deviation of 10: five of them either
				// side of 200 fail a correct picsoak once in two million runs.
				n, sd := float64(intermittentRequests), math.Sqrt(intermittentRequests*0.25)
				if ok := float64(got[soak.OutcomeOK]); math.Abs(ok-n/2) > 5*sd {
					t.Errorf("got %g ok of %g, want %g ± %g", ok, n, n/2, 5*sd)
				}
			},
		},
		// 7a: a reply that is not HTTP.
		{
			name: "malformed status line",
			url: func(t *testing.T) string {
				return faultServer(t, func(conn net.Conn, br *bufio.Reader) {
					if readRequest(br) {
						io.WriteString(conn, "this is not HTTP\r\n\r\n")
					}
				})
			},
			timeout: time.Second, want: counts(soak.OutcomeOther, faultRequests), verdict: soak.VerdictFail, errText: "malformed HTTP",
		},
		// 7b: an HTTP head with a nonsense Content-Length.
		{
			name: "malformed Content-Length",
			url: func(t *testing.T) string {
				return faultServer(t, func(conn net.Conn, br *bufio.Reader) {
					if readRequest(br) {
						io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: banana\r\n\r\n")
					}
				})
			},
			timeout: time.Second, want: counts(soak.OutcomeOther, faultRequests), verdict: soak.VerdictFail, errText: "Content-Length",
		},
		// 8a: TLS with a certificate no trusted CA signed: refused, and the report says why.
		{
			name: "TLS untrusted certificate",
			url: func(t *testing.T) string {
				return quietTLSServer(t, http.HandlerFunc(okHandler)).URL
			},
			timeout: time.Second, want: counts(soak.OutcomeConnError, faultRequests), verdict: soak.VerdictFail, errText: "certificate signed by unknown authority",
		},
		// 8b: the same server with PICSOAK_TARGET_INSECURE_SKIP_VERIFY=true.
		{
			name: "TLS untrusted certificate, verification skipped",
			url: func(t *testing.T) string {
				return quietTLSServer(t, http.HandlerFunc(okHandler)).URL
			},
			edit:    func(c *config.Target) { c.InsecureSkipVerify = true },
			timeout: time.Second, want: counts(soak.OutcomeOK, faultRequests), verdict: soak.VerdictPass,
		},
		// 9: a name that cannot resolve (RFC 6761 reserves .invalid).
		{
			name:    "DNS name does not resolve",
			url:     func(*testing.T) string { return "http://picsoak-fault.invalid/events" },
			timeout: 2 * time.Second, want: counts(soak.OutcomeConnError, faultRequests), verdict: soak.VerdictFail, errText: "picsoak-fault.invalid",
		},
	}
}

// checkCapped makes sure picsoak stopped reading an endless body: the server got rid
// of at most the capped bytes of every request plus socket buffers, not gigabytes.
func checkCapped(t *testing.T, written int64) {
	t.Helper()
	t.Logf("server wrote %d MiB", written>>20)
	if limit := int64(faultRequests) * (1<<20 + 8<<20); written > limit {
		t.Errorf("server wrote %d bytes, want under %d: picsoak must stop reading at PICSOAK_TARGET_MAX_BODY_BYTES", written, limit)
	}
}

func TestFaultMatrix(t *testing.T) {
	for _, row := range faultRows() {
		for _, client := range []string{config.ClientFast, config.ClientNetHTTP} {
			t.Run(row.name+"/"+client, func(t *testing.T) { runFault(t, row, client) })
		}
	}
}

func runFault(t *testing.T, row faultRow, client string) {
	url := row.url(t)
	cfg := soaktest.Config(t, url)
	cfg.Target.Client = client
	cfg.Target.Timeout = row.timeout
	if row.edit != nil {
		row.edit(&cfg.Target)
	}
	requests := cmp.Or(row.requests, faultRequests)
	cfg.Plan.Sustained.Duration, cfg.Plan.Sustained.Rate, cfg.Plan.Sustained.Workers = faultDuration, float64(requests)/faultDuration.Seconds(), faultRequests
	target := New(cfg.Target, cfg.Plan.MaxConcurrency(), "picsoak-test")
	r := &soak.Runner{Plan: cfg.Plan, Target: target, TargetName: url}

	baseline := runtime.NumGoroutine()
	var peak soaktest.HeapPeak
	if row.heapBound > 0 {
		peak.Start()
	}
	start := time.Now()
	res := r.Run(context.Background(), soak.Sustained)
	took := time.Since(start)
	if row.heapBound > 0 {
		grew := peak.Stop()
		t.Logf("heap in use grew by at most %d KiB during the cycle", grew>>10)
		if grew > row.heapBound {
			t.Errorf("heap in use grew by %d bytes during the cycle, want at most %d", grew, row.heapBound)
		}
	}

	// The cycle's bound is its duration plus one request timeout; the margin absorbs
	// a loaded machine and the race detector.
	if bound := faultDuration + row.timeout + 3*time.Second; took > bound {
		t.Errorf("cycle took %s, want at most %s (duration %s + timeout %s + margin)", took, bound, faultDuration, row.timeout)
	}
	if row.check != nil {
		row.check(t, res.Requests)
	} else if res.Requests != row.want {
		t.Errorf("got outcomes %v, want %v; example errors %v", res.Requests, row.want, res.Errors)
	}
	if res.Verdict != row.verdict {
		t.Errorf("got verdict %s, want %s", res.Verdict, row.verdict)
	}
	if row.minLatency > 0 && res.Latency.Min < 0.9*row.minLatency.Seconds() {
		t.Errorf("got fastest request %gs, want at least the timeout %s", res.Latency.Min, row.minLatency)
	}
	for _, o := range soak.Outcomes[1:] {
		if res.Requests[o] == 0 {
			continue
		}
		e := res.Errors[o.String()]
		if e == "" {
			t.Errorf("no example error for %d %s requests", res.Requests[o], o)
		}
		if row.errText != "" && row.check == nil && row.want[o] > 0 && !strings.Contains(e, row.errText) {
			t.Errorf("got example %s error %q, want it to contain %q", o, e, row.errText)
		}
		if md := report.Markdown(res); e != "" && !strings.Contains(md, e) {
			t.Errorf("report lacks the example %s error %q", o, e)
		}
	}
	if row.after != nil {
		row.after(t)
	}
	soaktest.WaitGoroutines(t, baseline)
}
