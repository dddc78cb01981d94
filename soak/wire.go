package soak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// wireSender speaks HTTP/1.1 on one keep-alive connection of its own, with the request
// bytes built once. It exists for speed: net/http's general client costs about four
// times the CPU per request, which at tens of thousands of requests per second makes
// picsoak, not PIC, the bottleneck. It serves plain http:// targets; https:// goes
// through net/http.
type wireSender struct {
	t          *HTTPTarget
	addr       string
	request    []byte
	idempotent bool

	// mu guards conn against the cancel hook closing it from another goroutine.
	mu     sync.Mutex
	conn   net.Conn
	reader *bufio.Reader
	// watched is the context whose cancellation closes conn; registered once per
	// context, not per request.
	watched context.Context
	stop    func() bool
}

// errBodyTooLarge closes a connection whose response body is longer than picsoak reads.
var errBodyTooLarge = errors.New("body longer than PICSOAK_TARGET_MAX_BODY_BYTES")

func newWireSender(t *HTTPTarget, header http.Header) *wireSender {
	var b bytes.Buffer
	path := t.url.RequestURI()
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", t.method, path, t.url.Host)
	header.Write(&b) // canonical "Name: value\r\n" lines
	if len(t.body) > 0 || t.method == http.MethodPost || t.method == http.MethodPut || t.method == http.MethodPatch {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(t.body))
	}
	b.WriteString("\r\n")
	b.Write(t.body)
	addr := t.url.Host
	if t.url.Port() == "" {
		addr = net.JoinHostPort(t.url.Hostname(), "80")
	}
	idempotent := t.method == http.MethodGet || t.method == http.MethodHead || t.method == http.MethodOptions ||
		t.method == http.MethodPut || t.method == http.MethodDelete
	return &wireSender{t: t, addr: addr, request: b.Bytes(), idempotent: idempotent}
}

// Send implements Sender.
func (s *wireSender) Send(ctx context.Context) (Outcome, error) {
	if err := s.watch(ctx); err != nil {
		return Classify(err), err
	}
	deadline := time.Now().Add(s.t.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	reused := s.conn != nil
	status, err := s.roundTrip(ctx, deadline)
	// A kept-alive connection the server closed while idle fails before any reply
	// byte; like net/http, retry such a request once on a fresh connection, unless it
	// was written and is not idempotent (PIC may have taken it).
	if err != nil && reused && ctx.Err() == nil && isStaleConn(err, s.idempotent) {
		s.closeConn()
		status, err = s.roundTrip(ctx, deadline)
	}
	if err != nil {
		s.closeConn()
		if errors.Is(err, errBodyTooLarge) {
			err = nil // a long body is PIC's business, not a failure
		} else {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return Classify(err), err
		}
	}
	if !s.t.expected.Has(status) {
		return OutcomeHTTPError, StatusError(status)
	}
	return OutcomeOK, nil
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

// watch makes cancellation of ctx close the connection, so a cycle aborts at once
// instead of waiting out a request timeout.
func (s *wireSender) watch(ctx context.Context) error {
	if ctx == s.watched {
		return ctx.Err()
	}
	if s.stop != nil {
		s.stop()
	}
	s.watched = ctx
	s.stop = context.AfterFunc(ctx, s.closeConn)
	return ctx.Err()
}

func (s *wireSender) closeConn() {
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	s.mu.Unlock()
	s.t.untrack(s)
}

func (s *wireSender) roundTrip(ctx context.Context, deadline time.Time) (int, error) {
	conn, br, err := s.connection(ctx, deadline)
	if err != nil {
		return 0, err
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return 0, err
	}
	if _, err := conn.Write(s.request); err != nil {
		return 0, staleConnError{err: err}
	}
	if _, err := br.Peek(1); err != nil {
		return 0, staleConnError{err: err, written: true}
	}
	status, keepAlive, err := readResponse(br, s.t.method == http.MethodHead, s.t.maxBody)
	if err == nil && !keepAlive {
		s.closeConn()
	}
	return status, err
}

func (s *wireSender) connection(ctx context.Context, deadline time.Time) (net.Conn, *bufio.Reader, error) {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		return conn, s.reader, nil
	}
	d := net.Dialer{Deadline: deadline, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, nil, err
	}
	if s.reader == nil {
		s.reader = bufio.NewReaderSize(conn, 16<<10)
	} else {
		s.reader.Reset(conn)
	}
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	s.t.track(s)
	if ctx.Err() != nil { // cancelled between dial and store: the hook already ran
		s.closeConn()
		return nil, nil, ctx.Err()
	}
	return conn, s.reader, nil
}

// errMalformed is a reply that is not HTTP/1.x.
type errMalformed string

func (e errMalformed) Error() string { return "malformed HTTP response: " + string(e) }

// readResponse reads one HTTP/1.x response from br and discards its body, reading at
// most maxBody bytes of it. It reports the status and whether the connection may be
// reused; errBodyTooLarge means the body was longer than maxBody (the connection must
// be closed, the reply is otherwise valid).
func readResponse(br *bufio.Reader, head bool, maxBody int64) (status int, keepAlive bool, err error) {
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
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			return 0, false, errMalformed(fmt.Sprintf("header line %q", line))
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return 0, false, errMalformed(fmt.Sprintf("Content-Length %q", value))
			}
			contentLength = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keepAlive = false
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				keepAlive = true
			}
		}
	}
	switch {
	case head || status == 204 || status == 304 || status < 200:
		return status, keepAlive, nil
	case chunked:
		return status, keepAlive, discardChunked(br, maxBody)
	case contentLength >= 0:
		if contentLength > maxBody {
			_, err := br.Discard(int(maxBody))
			if err != nil {
				return status, false, bodyErr(err)
			}
			return status, false, errBodyTooLarge
		}
		_, err := br.Discard(int(contentLength))
		return status, keepAlive, bodyErr(err)
	}
	// No length: the body runs until the server closes the connection.
	n, err := io.CopyN(io.Discard, br, maxBody+1)
	if n > maxBody {
		return status, false, errBodyTooLarge
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return status, false, err
}

func discardChunked(br *bufio.Reader, maxBody int64) error {
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
		if _, err := br.Discard(int(size)); err != nil {
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

func trimLine(b []byte) []byte {
	return bytes.TrimRight(b, "\r\n")
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
