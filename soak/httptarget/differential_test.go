package httptarget

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

// The differential suite: both clients against server behaviours met in the wild,
// each served for real on 127.0.0.1 by a raw TCP server, each row asserting the exact
// outcome of every request for each client. A row where the fast client and net/http
// disagree says which one is right and why. The real servers (nginx, Node) are in
// realservers_test.go.

// tally is a row's expected outcome counts.
type tally struct{ ok, httpError, timeout, connError, other int64 }

func (c tally) counts() soak.OutcomeCounts {
	var o soak.OutcomeCounts
	o[soak.OutcomeOK], o[soak.OutcomeHTTPError], o[soak.OutcomeTimeout], o[soak.OutcomeConnError], o[soak.OutcomeOther] = c.ok, c.httpError, c.timeout, c.connError, c.other
	return o
}

// rowState is what one run of a row shares with its server.
type rowState struct {
	addr   string        // the server's address
	served atomic.Int64  // requests the server read
	idle   chan struct{} // tells a server waiting on an idle connection to act
	done   chan struct{} // closed when the run ends
}

// nextRequest reads one request, body included; false when the client went away.
func (st *rowState) nextRequest(br *bufio.Reader) (*http.Request, bool) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, false
	}
	io.Copy(io.Discard, req.Body)
	st.served.Add(1)
	return req, true
}

// waitIdle blocks a server until the row's hook says the idle connection may act, or
// the run ends.
func (st *rowState) waitIdle() bool {
	select {
	case <-st.idle:
		return true
	case <-st.done:
		return false
	}
}

type diffRow struct {
	name string
	// serve answers one connection.
	serve func(st *rowState, conn net.Conn, br *bufio.Reader)
	// env is configuration on top of newTestTarget's; url, when set, rewrites the URL.
	env []string
	url func(string) string
	// requests is how many requests one sender sends in sequence; 0 means 6.
	requests int
	// before runs before every request but the first; it waits until the server has
	// done what the row is about (closed its idle connection, say), so that no count
	// depends on timing.
	before func(t *testing.T, st *rowState, i int)
	// want is each client's exact outcome count; nethttp, when set, is net/http's where
	// it differs, with the reason in the row's comment.
	want, nethttp *tally
	// served, when not 0, is how many requests the server must have read (of the fast
	// client, and of net/http unless nethttp is set).
	served int64
}

const okReply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// answer serves every request on a connection with reply.
func answer(reply string) func(*rowState, net.Conn, *bufio.Reader) {
	return func(st *rowState, conn net.Conn, br *bufio.Reader) {
		for {
			if _, ok := st.nextRequest(br); !ok {
				return
			}
			if _, err := io.WriteString(conn, reply); err != nil {
				return
			}
		}
	}
}

// answerThenHang answers a connection's first request with reply, then reads on
// without ever answering: a client that reuses the connection waits out its timeout.
func answerThenHang(reply string) func(*rowState, net.Conn, *bufio.Reader) {
	return func(st *rowState, conn net.Conn, br *bufio.Reader) {
		if _, ok := st.nextRequest(br); ok {
			io.WriteString(conn, reply)
			io.Copy(io.Discard, br)
		}
	}
}

// closeAfter answers n requests on a connection, then closes it without having said
// so in a Connection header.
func closeAfter(n int) func(*rowState, net.Conn, *bufio.Reader) {
	return func(st *rowState, conn net.Conn, br *bufio.Reader) {
		for range n {
			if _, ok := st.nextRequest(br); !ok {
				return
			}
			io.WriteString(conn, okReply)
		}
	}
}

// waitClosedEvery is a before hook for connections that close after n requests:
// before every n-th request it waits until the close reached the client.
func waitClosedEvery(n int) func(*testing.T, *rowState, int) {
	return func(t *testing.T, st *rowState, i int) {
		if i%n == 0 {
			waitClosed(t, st.addr)
		}
	}
}

func post(body string) []string {
	return []string{"PICSOAK_TARGET_METHOD=POST", "PICSOAK_TARGET_BODY=" + body}
}

func diffRows() []diffRow {
	longLine := "X-Long: " + strings.Repeat("v", 20<<10) + "\r\n"
	var thousand strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&thousand, "X-Header-%d: %d\r\n", i, i)
	}
	all := func(n int64) *tally { return &tally{ok: n} }
	return []diffRow{
		// --- 1. Stale kept-alive connections ---
		// The server closes every connection after one reply without saying so (a
		// request limit of 1, or an idle timeout that fired): each POST must go out on a
		// fresh connection, and reach the server exactly once.
		{name: "stale: closed after each reply, POST", serve: closeAfter(1), env: post(`{"e":1}`),
			before: waitClosedEvery(1), want: all(6), served: 6},
		// The same for GET, which both clients already retried.
		{name: "stale: closed after each reply, GET", serve: closeAfter(1),
			before: waitClosedEvery(1), want: all(6), served: 6},
		// A request limit of 3 without Connection: close (nginx's keepalive_requests
		// answers with close; other servers just hang up).
		{name: "stale: closed after 3 requests, POST", serve: closeAfter(3), env: post(`{"e":1}`), requests: 7,
			before: waitClosedEvery(3), want: all(7), served: 7},
		// At its idle timeout the server sends 408 Request Timeout and closes, as some
		// servers do: the 408 answers no request of picsoak's and is no error of PIC's.
		{name: "stale: 408 on the idle connection, then close, POST", env: post(`{"e":1}`),
			serve: func(st *rowState, conn net.Conn, br *bufio.Reader) {
				if _, ok := st.nextRequest(br); ok {
					io.WriteString(conn, okReply)
					if st.waitIdle() {
						io.WriteString(conn, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
					}
				}
			},
			before: func(t *testing.T, st *rowState, _ int) {
				select {
				case st.idle <- struct{}{}:
				case <-time.After(10 * time.Second):
					t.Fatal("the server never waited on an idle connection")
				}
				waitClosed(t, st.addr)
			},
			want: all(6), served: 6},
		// PIC's own error: it reads every third request on a connection and hangs up
		// without a reply. It saw the request, so it is counted, never retried.
		{name: "hang-up after reading a request is counted, POST", env: post(`{"e":1}`),
			serve: answerTwiceThenHangUp,
			want:  &tally{ok: 4, connError: 2}, served: 6},
		// The same for GET. net/http retries an idempotent request whose reply failed to
		// start on a reused connection, even when PIC had read it (shouldRetryRequest,
		// transportReadFromServerError), so it hides the hang-up and PIC gets the request
		// twice; the fast client retries only a request PIC provably never received.
		{name: "hang-up after reading a request is counted, GET", nethttp: &tally{ok: 6},
			serve: answerTwiceThenHangUp,
			want:  &tally{ok: 4, connError: 2}, served: 6},

		// --- 2. 1xx interim responses ---
		// 100 Continue before the reply (nginx when the request says Expect: 100-continue).
		{name: "1xx: 100 Continue", serve: answer("HTTP/1.1 100 Continue\r\n\r\n" + okReply), env: post("x"), want: all(6)},
		// 103 Early Hints with its Link headers (Node's writeEarlyHints).
		{name: "1xx: 103 Early Hints", serve: answer("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + okReply), want: all(6)},
		// Two interim responses in a row.
		{name: "1xx: 100 then 103", serve: answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.js>\r\n\r\n" + okReply), want: all(6)},
		// Six interim responses: any number is read (net/http dropped its limit of five),
		// as long as all the heads together fit the head limit.
		{name: "1xx: six interim responses", serve: answer(strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 6) + okReply), want: all(6)},
		// Interim heads of 60 × 20 KiB: together over the 1 MiB a reply's heads may take.
		{name: "1xx: interim heads over the head limit together", serve: answer(strings.Repeat("HTTP/1.1 103 Early Hints\r\n"+longLine+"\r\n", 60) + okReply), want: &tally{other: 6}},
		// 101 to a request that asked for no upgrade: the connection is no longer HTTP.
		// net/http hands the connection over as the body and waits for it to end.
		{name: "1xx: 101 Switching Protocols unasked", serve: answerThenHang("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
			env: []string{"PICSOAK_TARGET_TIMEOUT=500ms"}, want: &tally{other: 6}},

		// --- 3. Bytes left after a reply ---
		// Either client must drop the connection. The fast client does before Send
		// returns; net/http decides in its read loop goroutine, and a request sent
		// before that goroutine ran reads the bytes as its reply (under -race about one
		// request in a hundred). The before hook waits for the drop, so each row counts
		// what the client decides, not that race.
		//
		// A stray CRLF after the body.
		{name: "leftover: CRLF after the body", serve: answer(okReply + "\r\n"), before: waitClosedEvery(1), want: all(6)},
		// A Content-Length that undercounts the body: the reply is its first 2 bytes.
		{name: "leftover: Content-Length undercounts", serve: answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokay"), before: waitClosedEvery(1), want: all(6)},
		// HEAD answered with a body.
		{name: "leftover: HEAD answered with a body", serve: answer(okReply), env: []string{"PICSOAK_TARGET_METHOD=HEAD"}, before: waitClosedEvery(1), want: all(6)},
		// One unsolicited response right behind the reply: it answers nothing.
		{name: "leftover: an unsolicited response behind the reply", serve: answer(okReply + "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"),
			before: waitClosedEvery(1), want: all(6)},

		// --- 4. Connection is a token list ---
		// Apache with mod_http2 says "Upgrade, close"; the server then reads no more
		// from the connection, so a client that reuses it times out.
		{name: "Connection: Upgrade, close", serve: answerThenHang("HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nConnection: Upgrade, close\r\nContent-Length: 2\r\n\r\nok"),
			env: append(post("x"), "PICSOAK_TARGET_TIMEOUT=500ms"), want: all(6)},
		// keep-alive and close in one list: close wins.
		{name: "Connection: keep-alive, close", serve: answerThenHang("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok"),
			env: []string{"PICSOAK_TARGET_TIMEOUT=500ms"}, want: all(6)},
		// Two Connection lines, close in the second.
		{name: "Connection: close in a second line", serve: answerThenHang("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
			env: []string{"PICSOAK_TARGET_TIMEOUT=500ms"}, want: all(6)},
		// HTTP/1.0 with Connection: keep-alive stays open.
		{name: "Connection: HTTP/1.0 keep-alive", serve: answer("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok"), want: all(6)},

		// --- 5. The request side ---
		// Credentials in the URL are sent as basic auth; PIC answers 401 without them.
		{name: "request: URL credentials become basic auth",
			url: func(u string) string { return strings.Replace(u, "http://", "http://pic:s3cret@", 1) },
			serve: func(st *rowState, conn net.Conn, br *bufio.Reader) {
				want := "Basic " + base64.StdEncoding.EncodeToString([]byte("pic:s3cret"))
				for {
					req, ok := st.nextRequest(br)
					if !ok {
						return
					}
					if req.Header.Get("Authorization") != want {
						io.WriteString(conn, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
						continue
					}
					io.WriteString(conn, okReply)
				}
			},
			want: all(6)},
		// A configured Host header names the virtual host, sent once: a second Host line
		// is a 400 (nginx), the wrong host a 421.
		{name: "request: a configured Host header is the request's host, once",
			env: []string{"PICSOAK_TARGET_HEADERS=Host: pic.example"},
			serve: func(st *rowState, conn net.Conn, br *bufio.Reader) {
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
						return
					}
					st.served.Add(1)
					if req.Host != "pic.example" {
						io.WriteString(conn, "HTTP/1.1 421 Misdirected Request\r\nContent-Length: 0\r\n\r\n")
						continue
					}
					io.WriteString(conn, okReply)
				}
			},
			want: all(6), served: 6},

		// --- 6. Long header lines and obs-fold ---
		// A 20 KiB header line (a long CSP or cookie).
		{name: "head: a 20 KiB header line", serve: answer("HTTP/1.1 200 OK\r\n" + longLine + "Content-Length: 2\r\n\r\nok"), want: all(6)},
		// 45 such lines, 900 KiB: within the 1 MiB both clients allow a head.
		{name: "head: 900 KiB of headers", serve: answer("HTTP/1.1 200 OK\r\n" + strings.Repeat(longLine, 45) + "Content-Length: 2\r\n\r\nok"), want: all(6)},
		// 60 of them, 1.2 MiB: over the limit.
		{name: "head: 1.2 MiB of headers is too long", serve: answer("HTTP/1.1 200 OK\r\n" + strings.Repeat(longLine, 60) + "Content-Length: 2\r\n\r\nok"), want: &tally{other: 6}},
		// An obs-fold continuation line (RFC 9112 §5.2) belongs to the header above it.
		{name: "head: obs-fold continuation", serve: answer("HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n\tthird\r\nContent-Length: 2\r\n\r\nok"), want: all(6)},
		// 1,000 headers.
		{name: "head: 1,000 headers", serve: answer("HTTP/1.1 200 OK\r\n" + thousand.String() + "Content-Length: 2\r\n\r\nok"), want: all(6)},

		// --- 7. Replies no client can read: other at once, never a timeout ---
		// A transfer coding besides chunked; the server keeps the connection open, so a
		// client that waited for its end would time out.
		{name: "unreadable: Transfer-Encoding gzip, chunked", serve: answerThenHang("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
			env: []string{"PICSOAK_TARGET_TIMEOUT=500ms"}, want: &tally{other: 6}},
		// Two Transfer-Encoding lines.
		{name: "unreadable: two Transfer-Encoding lines", serve: answerThenHang("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
			env: []string{"PICSOAK_TARGET_TIMEOUT=500ms"}, want: &tally{other: 6}},
		// Content-Length headers that disagree.
		{name: "unreadable: conflicting Content-Length", serve: answerThenHang("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\nok"),
			env: []string{"PICSOAK_TARGET_TIMEOUT=500ms"}, want: &tally{other: 6}},

		// Content-Length repeated with one value is read as one.
		{name: "framing: identical Content-Length headers", serve: answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"), want: all(6)},
		// Content-Length and chunked: chunked wins (RFC 9112 §6.3).
		{name: "framing: Content-Length and chunked", serve: answer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"), want: all(6)},

		// --- Behaviours both clients already agreed on ---
		// HTTP/1.0, the body delimited by the connection's close.
		{name: "agree: HTTP/1.0 close-delimited body", serve: func(st *rowState, conn net.Conn, br *bufio.Reader) {
			if _, ok := st.nextRequest(br); ok {
				io.WriteString(conn, "HTTP/1.0 200 OK\r\n\r\nthe body runs to the close")
			}
		}, want: all(6)},
		// HTTP/1.0 ignores Transfer-Encoding (net/http, go.dev/issue/12785): the body runs to the close.
		{name: "framing: HTTP/1.0 Transfer-Encoding is ignored", serve: func(st *rowState, conn net.Conn, br *bufio.Reader) {
			if _, ok := st.nextRequest(br); ok {
				io.WriteString(conn, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot a chunk")
			}
		}, want: all(6)},
		// Chunk extensions and a trailer.
		{name: "agree: chunk extensions and trailers", serve: answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nok\r\n1;a=\"b\"\r\n!\r\n0\r\nX-Trailer: t\r\n\r\n"), want: all(6)},
		// 204 has no body.
		{name: "agree: 204 No Content", serve: answer("HTTP/1.1 204 No Content\r\n\r\n"), want: all(6)},
		// 304 has no body whatever its Content-Length says.
		{name: "agree: 304 Not Modified with a Content-Length", serve: answer("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n"),
			env: []string{"PICSOAK_TARGET_EXPECTED_STATUS=2xx,304"}, want: all(6)},
		// HEAD with the length its GET would have, and no body.
		{name: "agree: HEAD with a Content-Length", serve: answer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), env: []string{"PICSOAK_TARGET_METHOD=HEAD"}, want: all(6)},
		// The reply one byte per write.
		{name: "agree: one byte per write", serve: func(st *rowState, conn net.Conn, br *bufio.Reader) {
			reply := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
			for {
				if _, ok := st.nextRequest(br); !ok {
					return
				}
				for i := range len(reply) {
					if _, err := io.WriteString(conn, reply[i:i+1]); err != nil {
						return
					}
				}
			}
		}, want: all(6)},
		// A space before a header's colon makes it another header (net/http, go.dev/issue/34540):
		// this is not a Transfer-Encoding.
		{name: "agree: a space before the colon", serve: answer("HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\nContent-Length: 2\r\n\r\nok"), want: all(6)},
		// Bare LF line endings.
		{name: "agree: bare LF", serve: answer("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"), want: all(6)},
		// No reason phrase.
		{name: "agree: status line without a reason", serve: answer("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"), want: all(6)},
		// A body over PICSOAK_TARGET_MAX_BODY_BYTES: read up to the cap, not an error.
		{name: "agree: body over the cap", serve: answer("HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + strings.Repeat("x", 4096)),
			env: []string{"PICSOAK_TARGET_MAX_BODY_BYTES=1024"}, want: all(6)},
		// Connection: close on every third reply (nginx's keepalive_requests).
		{name: "agree: Connection: close after 3 requests", serve: func(st *rowState, conn net.Conn, br *bufio.Reader) {
			for i := range 3 {
				if _, ok := st.nextRequest(br); !ok {
					return
				}
				if i == 2 {
					io.WriteString(conn, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
					return
				}
				io.WriteString(conn, okReply)
			}
		}, env: post("x"), requests: 7, want: all(7), served: 7},
		// An error status is PIC's answer.
		{name: "agree: 500", serve: answer("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"), want: &tally{httpError: 6}},
		// The server closes in the middle of the body.
		{name: "agree: truncated body", serve: func(st *rowState, conn net.Conn, br *bufio.Reader) {
			if _, ok := st.nextRequest(br); ok {
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
			}
		}, want: &tally{connError: 6}},
		// Not HTTP at all.
		{name: "agree: not HTTP", serve: answer("SSH-2.0-OpenSSH_9.2\r\n"), want: &tally{other: 6}},
	}
}

func TestDifferential(t *testing.T) {
	rows := diffRows()
	if len(rows) < 30 {
		t.Fatalf("got %d rows, want at least 30 server behaviours", len(rows))
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			forEachClient(t, func(t *testing.T, client string) { runDiff(t, row, client) })
		})
	}
}

func runDiff(t *testing.T, row diffRow, client string) {
	st := &rowState{idle: make(chan struct{}), done: make(chan struct{})}
	u := faultServer(t, func(conn net.Conn, br *bufio.Reader) { row.serve(st, conn, br) })
	t.Cleanup(func() { close(st.done) }) // before faultServer's cleanup waits for the handlers
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	st.addr = parsed.Host
	if row.url != nil {
		u = row.url(u)
	}
	sender := newTestTarget(t, u, func(c *config.Target) { c.Client = client }, row.env...).NewSender(-1)
	requests := row.requests
	if requests == 0 {
		requests = 6
	}
	var got soak.OutcomeCounts
	errs := map[soak.Outcome]string{}
	for i := range requests {
		if i > 0 && row.before != nil {
			row.before(t, st, i)
		}
		r := sender.Send(context.Background())
		got[r.Outcome]++
		if r.Err != nil {
			errs[r.Outcome] = r.Err.Error()
		}
	}
	want := row.want
	if client == config.ClientNetHTTP && row.nethttp != nil {
		want = row.nethttp
	}
	if got != want.counts() {
		t.Errorf("got %v, want %v; example errors %v", got, want.counts(), errs)
	}
	if row.served != 0 && (client == config.ClientFast || row.nethttp == nil) {
		if n := st.served.Load(); n != row.served {
			t.Errorf("got %d requests read by the server, want %d: a request was lost or sent twice", n, row.served)
		}
	}
}

// waitClosed waits until no connection to addr is established at the client's end:
// the server closed it and the client's kernel has the close (the socket is in
// CLOSE_WAIT), or the client closed it. It reads /proc/net/tcp, so that what a test
// sends next meets what the row is about whatever the scheduling; the wait is
// bounded.
func waitClosed(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := establishedTo(addr)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d connections to %s still established after 15s, want the server to have closed them", n, addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// establishedTo counts the ESTABLISHED TCP sockets whose remote end is addr
// (an IPv4 host:port), from /proc/net/tcp.
func establishedTo(addr string) (int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	ip := net.ParseIP(host).To4()
	p, err := strconv.Atoi(port)
	if ip == nil || err != nil {
		return 0, fmt.Errorf("establishedTo(%q): want an IPv4 host:port", addr)
	}
	// /proc/net/tcp writes the address as the hex of its in-memory word.
	remote := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], p)
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && f[2] == remote && f[3] == "01" { // 01: TCP_ESTABLISHED
			n++
		}
	}
	return n, nil
}

// answerTwiceThenHangUp answers two requests on a connection, reads a third and hangs
// up without a reply.
func answerTwiceThenHangUp(st *rowState, conn net.Conn, br *bufio.Reader) {
	for range 2 {
		if _, ok := st.nextRequest(br); !ok {
			return
		}
		io.WriteString(conn, okReply)
	}
	st.nextRequest(br)
}
