// Package httptarget is soak.Target over HTTP: the requests of a parsed
// config.Target sent with net/http (https://, h2, or on request) or with picsoak's lean
// HTTP/1.1 client (plain http://, the default), reply checks, and the classification
// of every way a request can end into soak's outcomes. Every error it reports must be
// PIC's: a reply the client misread, or a connection it broke itself, would be
// counted against PIC.
package httptarget

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
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
	// wire selects the lean HTTP/1.1 client, for plain http:// endpoints only.
	wire bool

	mu    sync.Mutex
	conns map[*wireConn]struct{} // open wire connections, for CloseIdleConnections
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
		wire:      cfg.Client == config.ClientFast,
		conns:     map[*wireConn]struct{}{},
	}
	for i, e := range cfg.Endpoints {
		// The configuration's headers stay as parsed; the target adds its own to a copy.
		e.Header = e.Header.Clone()
		if e.Header.Get("User-Agent") == "" {
			e.Header.Set("User-Agent", userAgent)
		}
		t.endpoints[i] = e
		t.wire = t.wire && e.URL.Scheme == "http"
	}
	transport := &http.Transport{
		Proxy:               nil, // load must reach PIC itself, never a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConns * len(t.endpoints),
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.Timeout,
		DisableCompression:  true, // measure PIC's bytes, not our gzip decoder
		ForceAttemptHTTP2:   true,
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
	s := &httpSender{t: t, order: t.order, tmpl: config.TemplateState{Stream: stream, Rand: uint64(time.Now().UnixNano()) | 1}}
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
			Host:       e.URL.Host,
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
}

func (s *httpSender) Send(ctx context.Context) soak.Reply {
	i := s.order[s.next]
	reply := soak.Reply{Endpoint: i}
	s.next = (s.next + 1) % len(s.order)
	ctx, cancel := context.WithTimeout(ctx, s.t.timeout)
	defer cancel()
	req := s.requests[i].WithContext(ctx)
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
