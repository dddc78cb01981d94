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

// HTTPTarget sends the configured request to PIC over HTTP, reusing connections.
type HTTPTarget struct {
	url      *url.URL
	method   string
	header   http.Header
	body     []byte
	timeout  time.Duration
	expected StatusSet
	maxBody  int64
	client   *http.Client
	// wire selects the lean HTTP/1.1 client for plain http:// targets.
	wire bool

	mu      sync.Mutex
	senders map[*wireSender]struct{} // with a connection open, for CloseIdleConnections
}

// NewHTTPTarget builds a target from cfg whose connection pool holds maxConns idle
// connections, one per worker, so steady load never dials.
func NewHTTPTarget(cfg TargetConfig, maxConns int, userAgent string) (*HTTPTarget, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("target URL: %w", err)
	}
	header, err := ParseHeaders(cfg.Headers)
	if err != nil {
		return nil, fmt.Errorf("target headers: %w", err)
	}
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", userAgent)
	}
	expected, err := ParseStatusSet(cfg.ExpectedStatus)
	if err != nil {
		return nil, fmt.Errorf("target expected status: %w", err)
	}
	transport := &http.Transport{
		Proxy:               nil, // load must reach PIC itself, never a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.Timeout,
		DisableCompression:  true, // measure PIC's bytes, not our gzip decoder
		ForceAttemptHTTP2:   true,
	}
	return &HTTPTarget{
		url:      u,
		method:   cfg.Method,
		header:   header,
		body:     []byte(cfg.Body),
		timeout:  cfg.Timeout,
		expected: expected,
		maxBody:  cfg.MaxBodyBytes,
		wire:     u.Scheme == "http" && cfg.Client == ClientFast,
		senders:  map[*wireSender]struct{}{},
		client: &http.Client{
			Transport: transport,
			// A redirect is a reply to classify, not a hop to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// CloseIdleConnections drops the pooled connections, so that PIC's resources are
// measured without the ones picsoak holds open.
func (t *HTTPTarget) CloseIdleConnections() {
	t.client.CloseIdleConnections()
	t.mu.Lock()
	senders := t.senders
	t.senders = map[*wireSender]struct{}{}
	t.mu.Unlock()
	for s := range senders {
		s.closeConn()
	}
}

func (t *HTTPTarget) untrack(s *wireSender) {
	t.mu.Lock()
	delete(t.senders, s)
	t.mu.Unlock()
}

func (t *HTTPTarget) track(s *wireSender) {
	t.mu.Lock()
	t.senders[s] = struct{}{}
	t.mu.Unlock()
}

// NewSender implements Target.
func (t *HTTPTarget) NewSender(stream int) Sender {
	header := t.header
	if stream >= 0 {
		header = header.Clone()
		header.Set(StreamHeader, strconv.Itoa(stream))
	}
	if t.wire {
		return newWireSender(t, header)
	}
	// The template is shallow-copied per request; the transport only reads Header.
	req := &http.Request{
		Method:     t.method,
		URL:        t.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
		Host:       t.url.Host,
	}
	return &httpSender{t: t, template: req}
}

type httpSender struct {
	t        *HTTPTarget
	template *http.Request
}

func (s *httpSender) Send(ctx context.Context) (Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, s.t.timeout)
	defer cancel()
	req := s.template.WithContext(ctx)
	if len(s.t.body) > 0 {
		req.ContentLength = int64(len(s.t.body))
		req.Body = io.NopCloser(bytes.NewReader(s.t.body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(s.t.body)), nil }
	}
	resp, err := s.t.client.Do(req)
	if err != nil {
		return Classify(err), err
	}
	// Read at most maxBody bytes and hold none of them. A longer body is fine: closing it
	// unread only costs this connection its reuse.
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, s.t.maxBody))
	resp.Body.Close()
	if err != nil {
		return Classify(err), fmt.Errorf("reading body: %w", err)
	}
	if !s.t.expected.Has(resp.StatusCode) {
		return OutcomeHTTPError, StatusError(resp.StatusCode)
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

// RedactURL hides a password in u, for logs, reports and errors.
func RedactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return parsed.Redacted()
}
