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
	conn       int // index into wireSender.conns
	head       bool
	idempotent bool
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
	wrote   bool   // some byte of the current request reached the connection
	buf     []byte // destination of the current Read
	n       int
	err     error
	step    func(fd uintptr) bool // s.readStep, bound once so a Read allocates nothing
	onStall func()                // tests: called when the send buffer fills mid-request
}

func (s *replySource) reset(conn net.Conn) {
	s.conn, s.raw, s.pending, s.wrote = conn, nil, nil, false
	if sc, ok := conn.(syscall.Conn); ok && rawIO {
		s.raw, _ = sc.SyscallConn()
	}
	if s.step == nil {
		s.step = s.readStep
	}
}

// send hands request to the next Read, or writes it at once when asked to or when
// the connection has no raw descriptor.
func (s *replySource) send(request []byte, now bool) error {
	if now || s.raw == nil {
		_, err := s.conn.Write(request)
		s.wrote = err == nil
		return err
	}
	s.pending, s.wrote = request, false
	return nil
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
		if _, err := s.conn.Write(pending); err != nil {
			return 0, err
		}
		s.wrote = true
		return s.conn.Read(p)
	}
	return s.n, s.err
}

// readStep runs inside the poller's wait: it writes what is pending and asks to wait
// for the reply, or reads. It reports whether the Read is done.
func (s *replySource) readStep(fd uintptr) bool {
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

// errBodyTooLarge closes a connection whose response body is longer than picsoak reads.
var errBodyTooLarge = errors.New("body longer than PICSOAK_TARGET_MAX_BODY_BYTES")

func newWireSender(t *Target, stream int, headers []http.Header) *wireSender {
	s := &wireSender{t: t, order: t.order, tmpl: config.TemplateState{Stream: stream, Rand: uint64(time.Now().UnixNano()) | 1}}
	if len(t.order) > 1 {
		s.next = max(stream, 0) % len(t.order) // spread senders over the endpoints
	}
	addrs := map[string]int{}
	for i, e := range t.endpoints {
		addr := e.URL.Host
		if e.URL.Port() == "" {
			addr = net.JoinHostPort(e.URL.Hostname(), "80")
		}
		ci, ok := addrs[addr]
		if !ok {
			ci = len(s.conns)
			addrs[addr] = ci
			s.conns = append(s.conns, &wireConn{t: t, addr: addr})
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", e.Method, e.URL.RequestURI(), e.URL.Host)
		headers[i].Write(&b) // canonical "Name: value\r\n" lines
		we := wireEndpoint{
			conn:       ci,
			head:       e.Method == http.MethodHead,
			idempotent: e.Method == http.MethodGet || e.Method == http.MethodHead || e.Method == http.MethodOptions || e.Method == http.MethodPut || e.Method == http.MethodDelete,
		}
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
	status, err := s.roundTrip(ctx, c, e, request, deadline)
	// A kept-alive connection the server closed while idle fails before any reply
	// byte; like net/http, retry such a request once on a fresh connection, unless it
	// was written and is not idempotent (PIC may have taken it).
	if err != nil && reused && ctx.Err() == nil && isStaleConn(err, e.idempotent) {
		c.close()
		status, err = s.roundTrip(ctx, c, e, request, deadline)
	}
	reply.Status = status
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

// staleConnError marks a failure before any byte of the reply was read.
type staleConnError struct {
	err     error
	written bool // the request reached the connection
}

func (e staleConnError) Error() string { return e.err.Error() }
func (e staleConnError) Unwrap() error { return e.err }

func isStaleConn(err error, idempotent bool) bool {
	var s staleConnError
	return errors.As(err, &s) && (!s.written || idempotent) && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err)
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

func (s *wireSender) roundTrip(ctx context.Context, c *wireConn, e *wireEndpoint, request []byte, deadline time.Time) (int, error) {
	conn, br, err := c.connection(ctx, deadline)
	if err != nil {
		return 0, err
	}
	if deadline.After(c.deadline) || c.deadline.Sub(deadline) > s.t.timeout/deadlineSlack {
		c.deadline = deadline.Add(s.t.timeout / deadlineSlack)
		if err := conn.SetDeadline(c.deadline); err != nil {
			return 0, err
		}
	}
	// Bytes left over from the last reply would satisfy the Peek before the request is
	// written; such a connection writes at once.
	if err := c.src.send(request, br.Buffered() > 0); err != nil {
		return 0, staleConnError{err: err}
	}
	if _, err := br.Peek(1); err != nil {
		return 0, staleConnError{err: err, written: c.src.wrote}
	}
	var keep *[]byte
	if s.t.check != nil {
		s.reply = s.reply[:0]
		keep = &s.reply
	}
	status, keepAlive, err := readResponse(br, e.head, s.t.maxBody, keep)
	if err == nil && !keepAlive {
		c.close()
	}
	return status, err
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
		c.reader = bufio.NewReaderSize(&c.src, 16<<10)
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

// errMalformed is a reply that is not HTTP/1.x.
type errMalformed string

func (e errMalformed) Error() string { return "malformed HTTP response: " + string(e) }

// readResponse reads one HTTP/1.x response from br and discards its body, reading at
// most maxBody bytes of it, or appends them to *keep when keep is not nil. It reports
// the status and whether the connection may be reused; errBodyTooLarge means the body
// was longer than maxBody (the connection must be closed, the reply is otherwise
// valid).
func readResponse(br *bufio.Reader, head bool, maxBody int64, keep *[]byte) (status int, keepAlive bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, bodyErr(err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, errMalformed(fmt.Sprintf("status line %q", trimLine(line)))
	}
	status, ok := parseStatus(line[9:12])
	if !ok || (len(line) > 12 && line[12] != ' ' && line[12] != '\r' && line[12] != '\n') {
		return 0, false, errMalformed(fmt.Sprintf("status line %q", trimLine(line)))
	}
	keepAlive = line[7] == '1' // HTTP/1.1 defaults to keep-alive, 1.0 does not
	contentLength, chunked := int64(-1), false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return 0, false, errMalformed("header line longer than 16 KiB")
			}
			return 0, false, bodyErr(err)
		}
		line = trimLine(line)
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return 0, false, errMalformed(fmt.Sprintf("header line %q", line))
		}
		// Most headers (Date, Server, Content-Type) matter not; their length tells.
		switch name, value := line[:colon], trimOWS(line[colon+1:]); {
		case tokenIs(name, "content-length"):
			n, ok := parseLength(value)
			if !ok {
				return 0, false, errMalformed(fmt.Sprintf("Content-Length %q", value))
			}
			contentLength = n
		case tokenIs(name, "transfer-encoding"):
			chunked = tokenIs(value, "chunked")
		case tokenIs(name, "connection"):
			if tokenIs(value, "close") {
				keepAlive = false
			} else if tokenIs(value, "keep-alive") {
				keepAlive = true
			}
		}
	}
	switch {
	case head || status == 204 || status == 304 || status < 200:
		return status, keepAlive, nil
	case chunked:
		return status, keepAlive, discardChunked(br, maxBody, keep)
	case contentLength >= 0:
		if contentLength > maxBody {
			if err := consume(br, maxBody, keep); err != nil {
				return status, false, bodyErr(err)
			}
			return status, false, errBodyTooLarge
		}
		return status, keepAlive, bodyErr(consume(br, contentLength, keep))
	}
	// No length: the body runs until the server closes the connection.
	var sink io.Writer = io.Discard
	if keep != nil {
		sink = (*appendWriter)(keep)
	}
	n, err := io.CopyN(sink, br, maxBody+1)
	if n > maxBody {
		if keep != nil {
			*keep = (*keep)[:maxBody]
		}
		return status, false, errBodyTooLarge
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return status, false, err
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
