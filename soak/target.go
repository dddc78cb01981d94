package soak

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
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Target is the service under test.
type Target interface {
	// NewSender returns a Sender for one goroutine's sequential use. stream is the
	// stream index in the streams cycle and -1 elsewhere.
	NewSender(stream int) Sender
}

// Sender sends one request at a time.
type Sender interface {
	// Send sends one request under ctx and reports how it ended. The error explains
	// any outcome but OutcomeOK and is nil for it.
	Send(ctx context.Context) (Outcome, error)
}

// StreamHeader carries the stream index of requests in the streams cycle, so PIC's
// logs can tell streams apart.
const StreamHeader = "X-Picsoak-Stream"

// HTTPTarget sends the configured requests to PIC over HTTP, reusing connections.
type HTTPTarget struct {
	endpoints []Endpoint
	order     []int           // endpoint indexes in weighted round-robin order
	templates []*bodyTemplate // per endpoint; nil where the body is sent as is
	check     *responseCheck  // nil when only the status is checked
	timeout   time.Duration
	expected  StatusSet
	maxBody   int64
	client    *http.Client
	// wire selects the lean HTTP/1.1 client, for plain http:// endpoints only.
	wire bool

	mu    sync.Mutex
	conns map[*wireConn]struct{} // open wire connections, for CloseIdleConnections
}

// NewHTTPTarget builds a target from cfg whose connection pool holds maxConns idle
// connections, one per worker, so steady load never dials. The requests are
// PICSOAK_TARGET_URL's, or those of PICSOAK_TARGETS_FILE when it is set.
func NewHTTPTarget(cfg TargetConfig, maxConns int, userAgent string) (*HTTPTarget, error) {
	endpoints, err := cfg.Endpoints()
	if err != nil {
		return nil, err
	}
	expected, err := ParseStatusSet(cfg.ExpectedStatus)
	if err != nil {
		return nil, fmt.Errorf("target expected status: %w", err)
	}
	check, err := newResponseCheck(cfg.ExpectBody, cfg.ExpectJSON)
	if err != nil {
		return nil, err
	}
	t := &HTTPTarget{
		endpoints: endpoints,
		order:     weightedOrder(endpoints),
		templates: make([]*bodyTemplate, len(endpoints)),
		check:     check,
		timeout:   cfg.Timeout,
		expected:  expected,
		maxBody:   cfg.MaxBodyBytes,
		wire:      cfg.Client == ClientFast,
		conns:     map[*wireConn]struct{}{},
	}
	for i, e := range endpoints {
		if e.Header.Get("User-Agent") == "" {
			e.Header.Set("User-Agent", userAgent)
		}
		t.wire = t.wire && e.URL.Scheme == "http"
		if cfg.BodyTemplate {
			if t.templates[i], err = parseBodyTemplate(e.Body); err != nil {
				return nil, fmt.Errorf("body template of %s %s: %w", e.Method, RedactURL(e.URL.String()), err)
			}
		}
	}
	transport := &http.Transport{
		Proxy:               nil, // load must reach PIC itself, never a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConns * len(endpoints),
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
	return t, nil
}

// Endpoints returns the requests the configuration describes.
func (c TargetConfig) Endpoints() ([]Endpoint, error) {
	if c.TargetsFile != "" {
		e, err := LoadTargetsFile(c.TargetsFile)
		if err != nil {
			return nil, fmt.Errorf("targets file %s: %w", c.TargetsFile, err)
		}
		return e, nil
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("target URL %s: %w", RedactURL(c.URL), err)
	}
	header, err := ParseHeaders(c.Headers)
	if err != nil {
		return nil, fmt.Errorf("target headers: %w", err)
	}
	return []Endpoint{{Method: c.Method, URL: u, Header: header, Body: []byte(c.Body), Weight: 1}}, nil
}

// Name describes the target for results and logs, with credentials redacted.
func (t *HTTPTarget) Name() string {
	name := RedactURL(t.endpoints[0].URL.String())
	if n := len(t.endpoints); n > 1 {
		name += fmt.Sprintf(" (+%d more endpoints)", n-1)
	}
	return name
}

// CloseIdleConnections drops the pooled connections, so that PIC's resources are
// measured without the ones picsoak holds open.
func (t *HTTPTarget) CloseIdleConnections() {
	t.client.CloseIdleConnections()
	t.mu.Lock()
	conns := t.conns
	t.conns = map[*wireConn]struct{}{}
	t.mu.Unlock()
	for c := range conns {
		c.close()
	}
}

func (t *HTTPTarget) untrack(c *wireConn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

func (t *HTTPTarget) track(c *wireConn) {
	t.mu.Lock()
	t.conns[c] = struct{}{}
	t.mu.Unlock()
}

// NewSender implements Target.
func (t *HTTPTarget) NewSender(stream int) Sender {
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
	s := &httpSender{t: t, order: t.order, tmpl: templateState{stream: stream, rand: uint64(time.Now().UnixNano()) | 1}}
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
	t        *HTTPTarget
	requests []*http.Request // per endpoint
	order    []int
	next     int
	tmpl     templateState
	reply    bytes.Buffer // the reply body, kept only when a response check needs it
}

func (s *httpSender) Send(ctx context.Context) (Outcome, error) {
	i := s.order[s.next]
	s.next = (s.next + 1) % len(s.order)
	ctx, cancel := context.WithTimeout(ctx, s.t.timeout)
	defer cancel()
	req := s.requests[i].WithContext(ctx)
	body := s.t.endpoints[i].Body
	if tmpl := s.t.templates[i]; tmpl != nil {
		body = tmpl.render(nil, &s.tmpl, time.Now().UnixNano())
	}
	if len(body) > 0 {
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := s.t.client.Do(req)
	if err != nil {
		return Classify(err), err
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
		return Classify(err), fmt.Errorf("reading body: %w", err)
	}
	if !s.t.expected.Has(resp.StatusCode) {
		return OutcomeHTTPError, StatusError(resp.StatusCode)
	}
	if s.t.check != nil {
		if err := s.t.check.verify(s.reply.Bytes()); err != nil {
			return OutcomeHTTPError, err
		}
	}
	return OutcomeOK, nil
}

// StatusError is a reply whose status is not among the expected ones.
type StatusError int

func (e StatusError) Error() string {
	return fmt.Sprintf("unexpected status %d %s", int(e), http.StatusText(int(e)))
}

// Classify maps a request error to its outcome.
func Classify(err error) Outcome {
	var netErr net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var unknownCA x509.UnknownAuthorityError
	var certInvalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var recordHeader tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return OutcomeTimeout
	case errors.As(err, &dnsErr), errors.As(err, &opErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &unknownCA), errors.As(err, &certInvalid), errors.As(err, &hostname), errors.As(err, &recordHeader):
		return OutcomeConnError
	}
	return OutcomeOther
}

// StatusSet is a set of HTTP status codes 100..599.
type StatusSet [10]uint64

// Has reports whether code is in the set.
func (s *StatusSet) Has(code int) bool {
	return code >= 0 && code < 640 && s[code/64]&(1<<(code%64)) != 0
}

func (s *StatusSet) add(code int) { s[code/64] |= 1 << (code % 64) }

// ParseStatusSet parses comma-separated codes and classes, e.g. "2xx,304".
func ParseStatusSet(spec string) (StatusSet, error) {
	var s StatusSet
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if len(part) == 3 && part[1:] == "xx" && part[0] >= '1' && part[0] <= '5' {
			base := int(part[0]-'0') * 100
			for c := base; c < base+100; c++ {
				s.add(c)
			}
			continue
		}
		code, err := strconv.Atoi(part)
		if err != nil || code < 100 || code > 599 {
			return s, fmt.Errorf("want status codes 100-599 or classes 1xx-5xx separated by commas, such as 2xx,304; got %q", part)
		}
		s.add(code)
	}
	return s, nil
}

// ParseHeaders parses "Name: value" lines separated by newlines. Errors name the line,
// never the value, which may be a credential.
func ParseHeaders(spec string) (http.Header, error) {
	h := http.Header{}
	for i, line := range strings.Split(spec, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || !validHeaderName(name) {
			return nil, fmt.Errorf("line %d: want 'Name: value' with a header name of letters, digits and -", i+1)
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	return h, nil
}

func validHeaderName(name string) bool {
	for _, r := range name {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
