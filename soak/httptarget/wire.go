package httptarget

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

// wireSender speaks HTTP/1.1 on keep-alive connections of its own (one per PIC
// address), with the request bytes built once. It exists for speed: net/http's
// general client costs about four times the CPU per request, which at tens of
// thousands of requests per second makes picsoak, not PIC, the bottleneck. It serves
// plain http:// targets; https:// goes through net/http.
type wireSender struct {
	t         *Target
	endpoints []wireEndpoint
	conns     []*wireConn
	order     []int // endpoint indexes, weighted
	next      int

	tmpl    config.TemplateState
	reqBuf  []byte // a templated request being rendered
	bodyBuf []byte // its body
	reply   []byte // the reply body, kept only when a response check needs it

	// watched is the context whose cancellation closes the connections; registered
	// once per context, not per request.
	watched context.Context
	stop    func() bool
}

// wireEndpoint is one endpoint's prepared request.
type wireEndpoint struct {
	conn int // index into wireSender.conns
	head bool
	// request is the whole request, or for a templated body the head up to the
	// Content-Length line.
	request  []byte
	template *config.BodyTemplate
}

// wireConn is one keep-alive connection to one address.
type wireConn struct {
	t    *Target
	addr string
	// live is the open connection; atomic because the cancel hook closes it from
	// another goroutine. Everything else belongs to the sending goroutine.
	live   atomic.Pointer[liveConn]
	reader *bufio.Reader // reads from src
	src    replySource
	// deadline is the connection's current deadline: a request reuses it while it
	// falls within deadlineSlack after the request's own, sparing a runtime timer
	// update per request.
	deadline time.Time
}

type liveConn struct{ net.Conn }

// deadlineSlack is how much later than its timeout a request may time out, as a
// fraction of the timeout (1/64: 78 ms of the default 5 s).
const deadlineSlack = 64

// replySource is what a connection's reader reads from. A request handed to it in
// pending is written from inside the wait for the reply, through the raw descriptor:
// reading right after writing would find no reply yet and cost a read syscall that
// returns EAGAIN (about every other request at full speed). The write must happen
// inside that wait, after the poller is armed: the poller is edge-triggered, so a
// reply arriving between a plain Write and the wait would be missed.
type replySource struct {
	conn    net.Conn
	raw     syscall.RawConn
	pending []byte // request bytes still to write
	// probe asks for a look at a reused connection before its request is written:
	// whether the server closed it or sent something unasked while it idled.
	probe bool
	wrote bool // some byte of the current request reached the connection
	// sent counts the bytes written on the connection, start those before the current
	// request, and acked what the peer had acknowledged when it opened (its SYN): the
	// kernel's count of acknowledged bytes then tells whether any of the request got
	// there.
	sent, start, acked uint64
	buf                []byte // destination of the current Read
	n                  int
	err                error
	step               func(fd uintptr) bool // s.readStep, bound once so a Read allocates nothing
	onStall            func()                // tests: called when the send buffer fills mid-request
}

func (s *replySource) reset(conn net.Conn) {
	s.conn, s.raw, s.pending, s.wrote, s.sent, s.acked = conn, nil, nil, false, 0, 0
	if sc, ok := conn.(syscall.Conn); ok && rawIO {
		s.raw, _ = sc.SyscallConn()
		s.acked, _ = ackedBytes(s.raw)
	}
	if s.step == nil {
		s.step = s.readStep
	}
}

// send hands request to the next Read, or writes it at once when the connection has
// no raw descriptor. reused asks for the probe of a connection that has served
// before.
func (s *replySource) send(request []byte, reused bool) error {
	s.start = s.sent
	if s.raw == nil {
		n, err := s.conn.Write(request)
		s.wrote = n > 0
		s.sent += uint64(n)
		return err
	}
	s.pending, s.wrote, s.probe = request, false, reused
	return nil
}

// unseen reports whether PIC cannot have received any of the current request: none
// of it was written, or (where the kernel tells) the peer acknowledged none of it.
// A peer that read the request and then closed acknowledged it with its FIN; a peer
// whose socket was already closed answers it with a reset instead.
func (s *replySource) unseen() bool {
	if !s.wrote {
		return true
	}
	if s.raw == nil {
		return false
	}
	acked, ok := ackedBytes(s.raw)
	return ok && acked <= s.acked+s.start
}

// opError wraps a raw syscall error the way net.Conn's methods do, so reports name
// the operation and the addresses.
func (s *replySource) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: s.conn.LocalAddr(), Addr: s.conn.RemoteAddr(), Err: os.NewSyscallError(op, err)}
}

func (s *replySource) Read(p []byte) (int, error) {
	if s.raw == nil {
		return s.conn.Read(p)
	}
	s.buf, s.n, s.err = p, 0, nil
	err := s.raw.Read(s.step)
	pending := s.pending
	s.pending, s.buf = nil, nil
	switch {
	case err != nil:
		return 0, err // deadline or closed
	case len(pending) > 0: // the send buffer is full: finish writing the ordinary way
		n, err := s.conn.Write(pending)
		s.wrote, s.sent = s.wrote || n > 0, s.sent+uint64(n)
		if err != nil {
			return 0, err
		}
		return s.conn.Read(p)
	}
	return s.n, s.err
}

// readStep runs inside the poller's wait: it probes a reused connection, writes what
// is pending and asks to wait for the reply, or reads. It reports whether the Read is
// done.
func (s *replySource) readStep(fd uintptr) bool {
	if s.probe {
		s.probe = false
		if err := probeIdle(fd); err != nil {
			s.pending, s.err = nil, err
			return true
		}
	}
	for len(s.pending) > 0 {
		n, err := sysWrite(fd, s.pending)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			if s.onStall != nil {
				s.onStall()
			}
			return true // Read finishes the write
		case err != nil:
			s.pending, s.err = nil, s.opError("write", err)
			return true
		}
		s.pending, s.wrote = s.pending[n:], true
		s.sent += uint64(n)
		if len(s.pending) == 0 {
			return false // wait for the reply
		}
	}
	for {
		n, err := sysRead(fd, s.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			s.err = s.opError("read", err)
		case n == 0:
			s.err = io.EOF
		default:
			s.n = n
		}
		return true
	}
}

// Errors of the probe of a reused connection. Either way nothing of the request was
// written: it goes out on a fresh connection.
var (
	// errClosedIdle: the server closed the connection while it idled (an idle
	// timeout, a request limit announced by no Connection: close).
	errClosedIdle = errors.New("server closed the idle connection")
	// errUnsolicited: bytes nobody asked for arrived on the idle connection (a 408 sent
	// at an idle timeout, say); net/http drops such a connection too.
	errUnsolicited = errors.New("unsolicited bytes on the idle connection")
)

// errBodyTooLarge closes a connection whose response body is longer than picsoak reads.
var errBodyTooLarge = errors.New("body longer than PICSOAK_TARGET_MAX_BODY_BYTES")

func newWireSender(t *Target, stream int, headers []http.Header) *wireSender {
	s := &wireSender{t: t, order: t.order, tmpl: config.TemplateState{Stream: stream, Rand: uint64(time.Now().UnixNano()) | 1}}
	if len(t.order) > 1 {
		s.next = max(stream, 0) % len(t.order) // spread senders over the endpoints
	}
	addrs := map[string]int{}
	for i, e := range t.endpoints {
		addr := dialAddr(e.URL)
		ci, ok := addrs[addr]
		if !ok {
			ci = len(s.conns)
			addrs[addr] = ci
			s.conns = append(s.conns, &wireConn{t: t, addr: addr})
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", e.Method, e.URL.RequestURI(), t.hosts[i])
		headers[i].Write(&b) // canonical "Name: value\r\n" lines
		we := wireEndpoint{conn: ci, head: e.Method == http.MethodHead}
		if e.Template != nil {
			we.template = e.Template
		} else {
			if len(e.Body) > 0 || e.Method == http.MethodPost || e.Method == http.MethodPut || e.Method == http.MethodPatch {
				fmt.Fprintf(&b, "Content-Length: %d\r\n", len(e.Body))
			}
			b.WriteString("\r\n")
			b.Write(e.Body)
		}
		we.request = b.Bytes()
		s.endpoints = append(s.endpoints, we)
	}
	return s
}

// Send implements soak.Sender.
func (s *wireSender) Send(ctx context.Context) soak.Reply {
	reply := soak.Reply{Endpoint: s.order[s.next]}
	if err := s.watch(ctx); err != nil {
		return failed(reply, Classify(err), err)
	}
	e := &s.endpoints[reply.Endpoint]
	s.next = (s.next + 1) % len(s.order)
	c := s.conns[e.conn]
	request := e.request
	if e.template != nil {
		s.bodyBuf = e.template.Render(s.bodyBuf[:0], &s.tmpl, time.Now().UnixNano())
		s.reqBuf = append(append(s.reqBuf[:0], e.request...), "Content-Length: "...)
		s.reqBuf = append(append(strconv.AppendInt(s.reqBuf, int64(len(s.bodyBuf)), 10), "\r\n\r\n"...), s.bodyBuf...)
		request = s.reqBuf
	}
	deadline := time.Now().Add(s.t.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	reused := c.open()
	h, err := s.roundTrip(ctx, c, e, request, deadline, reused)
	// A kept-alive connection may have been closed by the server while it idled, or
	// the close may cross the request on the wire. The request goes once more, on a
	// fresh connection, only when PIC cannot have received it; a request PIC read and
	// then hung up on is PIC's error, whatever its method (net/http retries GET then).
	if err != nil && reused && ctx.Err() == nil && isUnseen(err) {
		c.close()
		h, err = s.roundTrip(ctx, c, e, request, deadline, false)
	}
	reply.Status = h.status
	if h.status != 0 {
		s.t.saw(h.protocol())
	}
	if err != nil {
		c.close()
		if errors.Is(err, errBodyTooLarge) {
			err = nil // a long body is PIC's business, not a failure
		} else {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return failed(reply, Classify(err), err)
		}
	}
	return s.t.judge(reply, s.reply)
}

// Connect implements soak.Connector: it opens the connection of every address the
// sender's endpoints are on, as their first Send would.
func (s *wireSender) Connect(ctx context.Context) error {
	if err := s.watch(ctx); err != nil {
		return err
	}
	deadline := time.Now().Add(s.t.timeout)
	for _, c := range s.conns {
		if _, _, err := c.connection(ctx, deadline); err != nil {
			return err
		}
	}
	return nil
}

// beforeReplyError marks a failure before any byte of the reply was read.
type beforeReplyError struct {
	err    error
	unseen bool // PIC cannot have received any of the request
}

func (e beforeReplyError) Error() string { return e.err.Error() }
func (e beforeReplyError) Unwrap() error { return e.err }

// isUnseen reports whether err failed a request that never reached PIC, and not
// merely slowly.
func isUnseen(err error) bool {
	var b beforeReplyError
	return errors.As(err, &b) && b.unseen && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// watch makes cancellation of ctx close the connections, so a cycle aborts at once
// instead of waiting out a request timeout.
func (s *wireSender) watch(ctx context.Context) error {
	if ctx == s.watched {
		return ctx.Err()
	}
	if s.stop != nil {
		s.stop()
	}
	s.watched = ctx
	s.stop = context.AfterFunc(ctx, func() {
		for _, c := range s.conns {
			c.close()
		}
	})
	return ctx.Err()
}

func (c *wireConn) open() bool { return c.live.Load() != nil }

func (c *wireConn) close() {
	if l := c.live.Swap(nil); l != nil {
		l.Close()
	}
	c.t.untrack(c)
}

func (s *wireSender) roundTrip(ctx context.Context, c *wireConn, e *wireEndpoint, request []byte, deadline time.Time, reused bool) (replyHead, error) {
	conn, br, err := c.connection(ctx, deadline)
	if err != nil {
		return replyHead{}, err
	}
	if deadline.After(c.deadline) || c.deadline.Sub(deadline) > s.t.timeout/deadlineSlack {
		c.deadline = deadline.Add(s.t.timeout / deadlineSlack)
		if err := conn.SetDeadline(c.deadline); err != nil {
			return replyHead{}, err
		}
	}
	if err := c.src.send(request, reused); err != nil {
		return replyHead{}, beforeReplyError{err: err, unseen: c.src.unseen()}
	}
	if _, err := br.Peek(1); err != nil {
		return replyHead{}, beforeReplyError{err: err, unseen: c.src.unseen()}
	}
	var keep *[]byte
	if s.t.check != nil {
		s.reply = s.reply[:0]
		keep = &s.reply
	}
	h, err := readResponse(br, e.head, s.t.maxBody, keep)
	// Bytes after a complete reply answer no request of ours (a stray CRLF, a body
	// longer than its Content-Length, a body to HEAD, a second response): read as the
	// next reply they would leave the connection one reply behind, so it is closed.
	if err == nil && (!h.keepAlive || br.Buffered() > 0) {
		c.close()
	}
	return h, err
}

func (c *wireConn) connection(ctx context.Context, deadline time.Time) (net.Conn, *bufio.Reader, error) {
	if l := c.live.Load(); l != nil {
		return l.Conn, c.reader, nil
	}
	d := net.Dialer{Deadline: deadline, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, nil, err
	}
	c.src.reset(conn)
	if c.reader == nil {
		c.reader = bufio.NewReaderSize(&c.src, readBufferSize)
	} else {
		c.reader.Reset(&c.src)
	}
	c.deadline = time.Time{}
	c.live.Store(&liveConn{conn})
	c.t.track(c)
	if ctx.Err() != nil { // cancelled between dial and store: the hook already ran
		c.close()
		return nil, nil, ctx.Err()
	}
	return conn, c.reader, nil
}

// errMalformed is a reply that is not HTTP/1.x, or one no client can read.
type errMalformed string

func (e errMalformed) Error() string { return "malformed HTTP response: " + string(e) }

// errSwitchingProtocols is a 101 reply: picsoak never asks to upgrade, so what
// follows on the connection is no longer HTTP to it. net/http would hand the
// connection over as the body; both clients count other at once.
var errSwitchingProtocols = errors.New("101 Switching Protocols, but picsoak asked for no upgrade")

// readBufferSize is each connection's read buffer, net/http's size. Longer head lines
// are read piecewise (readHead), so it bounds no reply; it is most of a connection's
// heap, and at 10,000 connections 16 KiB buffers alone took 160 MiB.
const readBufferSize = 4 << 10

// maxHeadBytes bounds the status lines and headers of one reply, its 1xx interim
// responses included (as net/http counts them); both clients use it
// (http.Transport.MaxResponseHeaderBytes), so a reply one can read the other can.
const maxHeadBytes = http.DefaultMaxHeaderBytes

// replyHead is what picsoak reads from a reply's head.
type replyHead struct {
	status int
	minor  byte // the version's minor digit: HTTP/1.minor
	// keepAlive says the connection may carry another request.
	keepAlive bool
	// contentLength is -1 when no Content-Length came; chunked says the body is
	// chunked (HTTP/1.1 and later only).
	contentLength int64
	chunked       bool
}

func (h replyHead) protocol() uint32 {
	if h.minor == '0' {
		return protoHTTP10
	}
	return protoHTTP11
}

// readResponse reads one HTTP/1.x response from br, skipping interim 1xx ones, and
// discards its body, reading at most maxBody bytes of it, or appends them to *keep
// when keep is not nil. errBodyTooLarge means the body was longer than maxBody (the
// connection must be closed, the reply is otherwise valid).
func readResponse(br *bufio.Reader, head bool, maxBody int64, keep *[]byte) (replyHead, error) {
	budget := maxHeadBytes
	h, err := readHead(br, &budget)
	// 1xx responses are interim (100 Continue, 103 Early Hints): the reply follows.
	for err == nil && h.status < 200 {
		if h.status == 101 {
			return h, errSwitchingProtocols
		}
		h, err = readHead(br, &budget)
	}
	if err != nil {
		return replyHead{}, err
	}
	switch {
	case head || h.status == 204 || h.status == 304:
		return h, nil
	case h.chunked:
		err = discardChunked(br, maxBody, keep)
	case h.contentLength > maxBody:
		if err = bodyErr(consume(br, maxBody, keep)); err == nil {
			err = errBodyTooLarge
		}
	case h.contentLength >= 0:
		err = bodyErr(consume(br, h.contentLength, keep))
	default:
		// No length: the body runs until the server closes the connection.
		h.keepAlive = false
		var sink io.Writer = io.Discard
		if keep != nil {
			sink = (*appendWriter)(keep)
		}
		n, copyErr := io.CopyN(sink, br, maxBody+1)
		switch {
		case n > maxBody:
			if keep != nil {
				*keep = (*keep)[:maxBody]
			}
			err = errBodyTooLarge
		case !errors.Is(copyErr, io.EOF):
			err = copyErr
		}
	}
	if err != nil {
		h.keepAlive = false
	}
	return h, err
}

// readHead reads a status line and headers, taking their bytes from *budget.
// It reads what decides how the body is delimited and whether the connection stays
// open as net/http does: Transfer-Encoding only as the single coding chunked (another
// coding, or two such headers, cannot be read: no client delimits that body);
// Content-Length headers only when they agree; Connection as a list of tokens, close
// winning; obs-fold continuation lines as part of the header above them. Lines longer
// than the reader's buffer are skipped piecewise, so the head may grow to maxHeadBytes
// without a buffer that large.
func readHead(br *bufio.Reader, budget *int) (h replyHead, err error) {
	line, err := headLine(br, budget)
	if err == bufio.ErrBufferFull {
		return h, errMalformed(fmt.Sprintf("status line longer than %d KiB", readBufferSize>>10))
	}
	if err != nil {
		return h, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[7] < '0' || line[7] > '9' || line[8] != ' ' {
		return h, errMalformed(fmt.Sprintf("status line %q", trimLine(line)))
	}
	status, ok := parseStatus(line[9:12])
	if !ok || (len(line) > 12 && line[12] != ' ' && line[12] != '\r' && line[12] != '\n') {
		return h, errMalformed(fmt.Sprintf("status line %q", trimLine(line)))
	}
	h.status, h.minor, h.contentLength = status, line[7], -1
	var (
		closeToken, keepAliveToken bool
		codings, lengths           int    // Transfer-Encoding and Content-Length headers
		chunked                    bool   // the Transfer-Encoding is chunked
		last                       header // the header above, for obs-fold
	)
	for {
		// headLine, inline: this loop runs for every header of every reply.
		line, err = br.ReadSlice('\n')
		if *budget -= len(line); *budget < 0 {
			return replyHead{}, errHeadTooLong
		}
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: an ordinary header (a long cookie or CSP),
			// or more of one, is skipped; a framing header that long is nonsense.
			if line[0] == ' ' || line[0] == '\t' {
				if last != headerOther {
					return replyHead{}, errMalformed(fmt.Sprintf("continuation line longer than %d KiB", readBufferSize>>10))
				}
			} else if name, _, ok := bytes.Cut(line, []byte(":")); !ok || framingHeader(name) {
				return replyHead{}, errMalformed(fmt.Sprintf("header line longer than %d KiB", readBufferSize>>10))
			}
			if err = skipLine(br, budget); err != nil {
				return replyHead{}, err
			}
			last = headerOther
			continue
		}
		if err != nil {
			return replyHead{}, bodyErr(err)
		}
		line = trimLine(line)
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// obs-fold (RFC 9112 §5.2): more of the value above.
			switch last {
			case headerNone:
				return replyHead{}, errMalformed(fmt.Sprintf("continuation line %q with no header above", line))
			case headerConnection:
				c, k := connectionTokens(line)
				closeToken, keepAliveToken = closeToken || c, keepAliveToken || k
			case headerContentLength:
				return replyHead{}, errMalformed("folded Content-Length")
			case headerTransferEncoding:
				return replyHead{}, errMalformed("folded Transfer-Encoding")
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return replyHead{}, errMalformed(fmt.Sprintf("header line %q", line))
		}
		// Most headers (Date, Server, Content-Type) matter not; their length tells.
		switch name, value := line[:colon], trimOWS(line[colon+1:]); {
		case tokenIs(name, "content-length"):
			n, ok := parseLength(value)
			if !ok {
				return replyHead{}, errMalformed(fmt.Sprintf("Content-Length %q", value))
			}
			if lengths++; lengths > 1 && n != h.contentLength {
				return replyHead{}, errMalformed(fmt.Sprintf("Content-Length %d and %d", h.contentLength, n))
			}
			h.contentLength, last = n, headerContentLength
		case tokenIs(name, "transfer-encoding"):
			codings++
			chunked, last = tokenIs(value, "chunked"), headerTransferEncoding
			switch {
			case h.minor == '0': // see below
			case !chunked:
				return replyHead{}, errMalformed(fmt.Sprintf("Transfer-Encoding %q: only chunked is supported", value))
			case codings > 1:
				return replyHead{}, errMalformed("more than one Transfer-Encoding")
			}
		case tokenIs(name, "connection"):
			c, k := connectionTokens(value)
			closeToken, keepAliveToken, last = closeToken || c, keepAliveToken || k, headerConnection
		default:
			last = headerOther
		}
	}
	if h.minor == '0' {
		// HTTP/1.0 knows no Transfer-Encoding: net/http ignores it (go.dev/issue/12785),
		// the body runs to the close, and a 1.0 connection stays open only when asked.
		h.chunked, h.keepAlive = false, keepAliveToken && !closeToken
		return h, nil
	}
	h.chunked, h.keepAlive = chunked, !closeToken
	return h, nil
}

// header names the header a line belongs to, for its obs-fold continuation lines.
type header uint8

const (
	headerNone header = iota // no header yet: the status line is above
	headerOther
	headerContentLength
	headerTransferEncoding
	headerConnection
)

// framingHeader reports whether name is one of the headers readHead reads.
func framingHeader(name []byte) bool {
	return tokenIs(name, "content-length") || tokenIs(name, "transfer-encoding") || tokenIs(name, "connection")
}

// headLine reads one line of a head, taking its bytes from *budget. On
// bufio.ErrBufferFull the line is the first part of a longer one.
func headLine(br *bufio.Reader, budget *int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if *budget -= len(line); *budget < 0 {
		return nil, errHeadTooLong
	}
	if err != nil && err != bufio.ErrBufferFull {
		return nil, bodyErr(err)
	}
	return line, err
}

var errHeadTooLong = errMalformed(fmt.Sprintf("head longer than %d bytes", maxHeadBytes))

// skipLine reads the rest of a line headLine found too long for the buffer.
func skipLine(br *bufio.Reader, budget *int) error {
	for {
		if _, err := headLine(br, budget); err != bufio.ErrBufferFull {
			return err
		}
	}
}

// connectionTokens reports whether a Connection value, a comma-separated list of
// tokens (RFC 9110 §7.6.1), holds close and keep-alive.
func connectionTokens(v []byte) (close, keepAlive bool) {
	switch { // the usual values, whole
	case tokenIs(v, "keep-alive"):
		return false, true
	case tokenIs(v, "close"):
		return true, false
	}
	return connectionList(v)
}

func connectionList(v []byte) (close, keepAlive bool) {
	for len(v) > 0 {
		token := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			token, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		token = trimOWS(token)
		close = close || tokenIs(token, "close")
		keepAlive = keepAlive || tokenIs(token, "keep-alive")
	}
	return close, keepAlive
}

// consume reads n bytes from br, appending them to *keep if keep is not nil.
func consume(br *bufio.Reader, n int64, keep *[]byte) error {
	if keep == nil {
		_, err := br.Discard(int(n))
		return err
	}
	_, err := io.CopyN((*appendWriter)(keep), br, n)
	return err
}

// appendWriter appends what is written to a byte slice.
type appendWriter []byte

func (w *appendWriter) Write(p []byte) (int, error) {
	*w = append(*w, p...)
	return len(p), nil
}

func discardChunked(br *bufio.Reader, maxBody int64, keep *[]byte) error {
	var read int64
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return bodyErr(err)
		}
		sizeField, _, _ := bytes.Cut(trimLine(line), []byte(";"))
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeField)), 16, 64)
		if err != nil || size < 0 {
			return errMalformed(fmt.Sprintf("chunk size %q", trimLine(line)))
		}
		if size == 0 {
			break
		}
		if read+size > maxBody {
			return errBodyTooLarge
		}
		if err := consume(br, size, keep); err != nil {
			return bodyErr(err)
		}
		read += size
		if line, err = br.ReadSlice('\n'); err != nil || len(trimLine(line)) != 0 {
			if err != nil {
				return bodyErr(err)
			}
			return errMalformed("chunk not followed by CRLF")
		}
	}
	for { // trailers end with an empty line
		line, err := br.ReadSlice('\n')
		if err != nil {
			return bodyErr(err)
		}
		if len(trimLine(line)) == 0 {
			return nil
		}
	}
}

// bodyErr turns an EOF in the middle of a reply into io.ErrUnexpectedEOF.
func bodyErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// trimLine drops a line's ending: LF or CRLF.
func trimLine(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// tokenIs reports whether b is lower, ignoring ASCII case: header names and the
// values picsoak reads are ASCII tokens (RFC 9110), so no Unicode folding applies.
func tokenIs(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// trimOWS drops the optional white space around a header value.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseLength parses a Content-Length: 1*DIGIT, at most 18 of them so it cannot
// overflow.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseStatus(b []byte) (int, bool) {
	if len(b) != 3 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
