// Package httptarget is soak.Target over HTTP: the requests of a parsed
// config.Target sent with net/http (https://, HTTP/2 over TLS or cleartext, or on
// request) or with picsoak's lean HTTP/1.1 client (plain http://, the default), reply
// checks, and the classification of every way a request can end into soak's outcomes.
// Every error it reports must be PIC's: a reply the client misread, or a connection it
// broke itself, would be counted against PIC. Both clients follow one set of rules for
// what servers do in the wild (docs/http-clients.md), held to them by the
// differential tests.
package httptarget

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

// StreamHeader carries the stream index of requests in the streams cycle, so PIC's
// logs can tell streams apart.
const StreamHeader = "X-Picsoak-Stream"

// Target sends the configured requests to PIC over HTTP, reusing connections.
type Target struct {
	endpoints []config.Endpoint
	order     []int              // endpoint indexes in weighted round-robin order
	check     *config.ReplyCheck // nil when only the status is checked
	timeout   time.Duration
	expected  config.StatusSet
	maxBody   int64
	client    *http.Client
	// hosts are the endpoints' request hosts: a configured Host header, else the URL's.
	hosts []string
	// wire selects the lean HTTP/1.1 client, for plain http:// endpoints only.
	wire bool
	// protos holds a bit per protocol the replies came in (protoHTTP10…), since the
	// last ReplyProtocols.
	protos atomic.Uint32

	mu    sync.Mutex
	conns map[*wireConn]struct{} // open wire connections, for CloseIdleConnections
}

// Protocols of replies, the bits of Target.protos.
const (
	protoHTTP10 uint32 = 1 << iota
	protoHTTP11
	protoHTTP2
)

// saw records a reply's protocol. The load is what each reply costs: the word is
// written only when a protocol is new.
func (t *Target) saw(proto uint32) {
	if t.protos.Load()&proto == 0 {
		t.protos.Or(proto)
	}
}

// ReplyProtocols implements soak.ProtocolReporter: the HTTP versions of the replies
// since the last call, as their status lines name them ("HTTP/1.1", "HTTP/2.0"),
// joined by ", " when they differ; "" when no reply came.
func (t *Target) ReplyProtocols() string {
	seen := t.protos.Swap(0)
	var names []string
	for i, name := range []string{"HTTP/1.0", "HTTP/1.1", "HTTP/2.0"} {
		if seen&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

func protocolOf(resp *http.Response) uint32 {
	switch {
	case resp.ProtoMajor >= 2:
		return protoHTTP2
	case resp.ProtoMinor == 0:
		return protoHTTP10
	}
	return protoHTTP11
}

// dialAddr is the host:port a URL's requests connect to, as net/http's transport
// spells it.
func dialAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// New builds a target from cfg whose connection pool holds maxConns idle
// connections, one per worker, so steady load never dials. Every endpoint must have a
// URL (a simulated target's is set by then).
func New(cfg config.Target, maxConns int, userAgent string) *Target {
	t := &Target{
		endpoints: make([]config.Endpoint, len(cfg.Endpoints)),
		order:     weightedOrder(cfg.Endpoints),
		check:     cfg.Check,
		timeout:   cfg.Timeout,
		expected:  cfg.Expected,
		maxBody:   cfg.MaxBodyBytes,
		hosts:     make([]string, len(cfg.Endpoints)),
		wire:      cfg.Client == config.ClientFast,
		conns:     map[*wireConn]struct{}{},
	}
	plain := map[string]bool{} // addresses of http:// endpoints spoken to in HTTP/1
	for i, e := range cfg.Endpoints {
		// The configuration's headers stay as parsed; the target adds its own to a copy.
		e.Header = e.Header.Clone()
		if e.Header.Get("User-Agent") == "" {
			e.Header.Set("User-Agent", userAgent)
		}
		// Credentials in the URL are sent as basic auth, as net/http's client does,
		// unless an Authorization header is configured.
		if u := e.URL.User; u != nil && e.Header.Get("Authorization") == "" {
			password, _ := u.Password()
			e.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+password)))
		}
		// A configured Host header names the virtual host. It is the request's host,
		// sent once: net/http writes Request.Host and ignores a Host in the header
		// map, and a second Host line is a 400 to nginx.
		t.hosts[i] = e.URL.Host
		if h := e.Header.Get("Host"); h != "" {
			t.hosts[i] = h
		}
		e.Header.Del("Host")
		t.endpoints[i] = e
		t.wire = t.wire && e.URL.Scheme == "http"
		if e.URL.Scheme == "http" && cfg.Protocol != config.ProtocolH2C {
			plain[dialAddr(e.URL)] = true
		}
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy: nil, // load must reach PIC itself, never a proxy from the environment
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil || !plain[addr] {
				return conn, err
			}
			return &probedConn{Conn: conn}, nil
		},
		MaxIdleConns:        maxConns * len(t.endpoints),
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.Timeout,
		DisableCompression:  true, // measure PIC's bytes, not our gzip decoder
		// The fast client's limit, so that a reply one client reads the other does
		// (net/http's own default is 10 MiB).
		MaxResponseHeaderBytes: maxHeadBytes,
		Protocols:              protocols(cfg.Protocol),
		// Verification is skipped only on the operator's explicit opt-in.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify},
	}
	t.client = &http.Client{
		Transport: transport,
		// A redirect is a reply to classify, not a hop to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return t
}

// protocols is net/http's set for PICSOAK_TARGET_PROTOCOL (validated by config).
func protocols(name string) *http.Protocols {
	var p http.Protocols
	switch name {
	case config.ProtocolHTTP1:
		p.SetHTTP1(true)
	case config.ProtocolH2:
		p.SetHTTP2(true)
	case config.ProtocolH2C:
		// Without HTTP1 in the set, http:// requests go out as HTTP/2 with prior
		// knowledge (RFC 9113 §3.3).
		p.SetUnencryptedHTTP2(true)
	default: // auto
		p.SetHTTP1(true)
		p.SetHTTP2(true)
	}
	return &p
}

// probedConn is a connection net/http speaks HTTP/1 on, in clear. Before a request
// on it that is not its first (reuse, set from httptrace's GotConn) it looks whether
// the server has closed it or sent something unasked, as the fast client does.
// net/http notices that only when its read loop goroutine happens to run first;
// otherwise it writes the request and, for a POST, reports the server's close as PIC's
// error. A write that fails before any byte is one net/http retries
// (nothingWrittenError, with GetBody set).
type probedConn struct {
	net.Conn
	reused atomic.Bool // the next write starts a request on the reused connection
}

func (c *probedConn) Write(p []byte) (int, error) {
	if c.reused.Swap(false) {
		if err := probeConn(c.Conn); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(p)
}

// markReused is httptrace's GotConn of every request sent through net/http.
func markReused(info httptrace.GotConnInfo) {
	if c, ok := info.Conn.(*probedConn); ok && info.Reused {
		c.reused.Store(true)
	}
}

// probeConn runs probeIdle on conn's descriptor.
func probeConn(conn net.Conn) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var probe error
	if err := raw.Control(func(fd uintptr) { probe = probeIdle(fd) }); err != nil {
		return err
	}
	return probe
}

// CloseIdleConnections drops the pooled connections, so that PIC's resources are
// measured without the ones picsoak holds open.
func (t *Target) CloseIdleConnections() {
	t.client.CloseIdleConnections()
	t.mu.Lock()
	conns := t.conns
	t.conns = map[*wireConn]struct{}{}
	t.mu.Unlock()
	for c := range conns {
		c.close()
	}
}

func (t *Target) untrack(c *wireConn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

func (t *Target) track(c *wireConn) {
	t.mu.Lock()
	t.conns[c] = struct{}{}
	t.mu.Unlock()
}

// NewSender implements soak.Target.
func (t *Target) NewSender(stream int) soak.Sender {
	headers := make([]http.Header, len(t.endpoints))
	for i, e := range t.endpoints {
		headers[i] = e.Header
		if stream >= 0 {
			headers[i] = e.Header.Clone()
			headers[i].Set(StreamHeader, strconv.Itoa(stream))
		}
	}
	if t.wire {
		return newWireSender(t, stream, headers)
	}
	s := &httpSender{t: t, order: t.order, tmpl: config.TemplateState{Stream: stream, Rand: uint64(time.Now().UnixNano()) | 1},
		trace: &httptrace.ClientTrace{GotConn: markReused}}
	if len(t.order) > 1 {
		s.next = max(stream, 0) % len(t.order)
	}
	for i, e := range t.endpoints {
		// The template is shallow-copied per request; the transport only reads Header.
		s.requests = append(s.requests, &http.Request{
			Method:     e.Method,
			URL:        e.URL,
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     headers[i],
			Host:       t.hosts[i],
		})
	}
	return s
}

type httpSender struct {
	t        *Target
	requests []*http.Request // per endpoint
	order    []int
	next     int
	tmpl     config.TemplateState
	reply    bytes.Buffer // the reply body, kept only when a response check needs it
	// trace marks reused connections for their probe. Shared by the sender's requests:
	// WithClientTrace changes it only to chain a trace already in the context, and
	// the engine's contexts carry none.
	trace *httptrace.ClientTrace
}

func (s *httpSender) Send(ctx context.Context) soak.Reply {
	i := s.order[s.next]
	reply := soak.Reply{Endpoint: i}
	s.next = (s.next + 1) % len(s.order)
	ctx, cancel := context.WithTimeout(ctx, s.t.timeout)
	defer cancel()
	req := s.requests[i].WithContext(httptrace.WithClientTrace(ctx, s.trace))
	body := s.t.endpoints[i].Body
	if tmpl := s.t.endpoints[i].Template; tmpl != nil {
		body = tmpl.Render(nil, &s.tmpl, time.Now().UnixNano())
	}
	if len(body) > 0 {
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := s.t.client.Do(req)
	if err != nil {
		return failed(reply, Classify(err), err)
	}
	reply.Status = resp.StatusCode
	s.t.saw(protocolOf(resp))
	if resp.StatusCode == http.StatusSwitchingProtocols {
		resp.Body.Close() // the connection, which net/http would hand over
		return failed(reply, soak.OutcomeOther, errSwitchingProtocols)
	}
	// Read at most maxBody bytes and hold none of them unless a check needs them. A
	// longer body is fine: closing it unread only costs this connection its reuse.
	var sink io.Writer = io.Discard
	if s.t.check != nil {
		s.reply.Reset()
		sink = &s.reply
	}
	_, err = io.Copy(sink, io.LimitReader(resp.Body, s.t.maxBody))
	resp.Body.Close()
	if err != nil {
		return failed(reply, Classify(err), fmt.Errorf("reading body: %w", err))
	}
	return s.t.judge(reply, s.reply.Bytes())
}

// judge decides the outcome of a complete reply: its status, then the reply check.
func (t *Target) judge(reply soak.Reply, body []byte) soak.Reply {
	if !t.expected.Has(reply.Status) {
		return failed(reply, soak.OutcomeHTTPError, StatusError(reply.Status))
	}
	if t.check != nil {
		if err := verify(t.check, body); err != nil {
			return failed(reply, soak.OutcomeHTTPError, err)
		}
	}
	return reply
}

// failed returns r ended with outcome o for err.
func failed(r soak.Reply, o soak.Outcome, err error) soak.Reply {
	r.Outcome, r.Err = o, err
	return r
}

// StatusError is a reply whose status is not among the expected ones.
type StatusError int

func (e StatusError) Error() string {
	return fmt.Sprintf("unexpected status %d %s", int(e), http.StatusText(int(e)))
}

// Classify maps a request error to its outcome.
func Classify(err error) soak.Outcome {
	var netErr net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var unknownCA x509.UnknownAuthorityError
	var certInvalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var recordHeader tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return soak.OutcomeTimeout
	case errors.As(err, &dnsErr), errors.As(err, &opErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &unknownCA), errors.As(err, &certInvalid), errors.As(err, &hostname), errors.As(err, &recordHeader):
		return soak.OutcomeConnError
	}
	return soak.OutcomeOther
}
