package config

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/picsoak/picsoak/soak/redact"
)

// HTTP clients of PICSOAK_TARGET_CLIENT.
const (
	ClientFast    = "fast"
	ClientNetHTTP = "net/http"
)

// HTTP versions of PICSOAK_TARGET_PROTOCOL.
const (
	// ProtocolAuto is HTTP/1.1 for http://, and for https:// whichever of HTTP/2 and
	// HTTP/1.1 the TLS handshake (ALPN) agrees on.
	ProtocolAuto = "auto"
	// ProtocolHTTP1 is HTTP/1.1 only, for https:// too.
	ProtocolHTTP1 = "http1"
	// ProtocolH2 is HTTP/2 over TLS only (https://).
	ProtocolH2 = "h2"
	// ProtocolH2C is HTTP/2 over cleartext with prior knowledge (http://), through
	// net/http.
	ProtocolH2C = "h2c"
)

// targetVars describe the requests sent to PIC and where PIC's resource usage is read.
// Their tags carry TARGET_ themselves, rather than the section a prefix, because
// PICSOAK_TARGETS_FILE belongs here too.
type targetVars struct {
	URL            string        `env:"TARGET_URL" help:"PIC's endpoint; empty starts the built-in simulator on loopback and soaks it"`
	Method         string        `env:"TARGET_METHOD" envDefault:"GET" help:"HTTP method"`
	Headers        string        `env:"TARGET_HEADERS" help:"request headers, 'Name: value' lines separated by newlines"`
	Body           string        `env:"TARGET_BODY" help:"request body"`
	Timeout        time.Duration `env:"TARGET_TIMEOUT" envDefault:"5s" help:"timeout of one request, body included (on a kept-alive http:// connection it may end up to 1/64 of it later)"`
	ExpectedStatus string        `env:"TARGET_EXPECTED_STATUS" envDefault:"2xx" help:"statuses that count as ok: comma-separated codes or classes such as 2xx,304"`
	TargetsFile    string        `env:"TARGETS_FILE" help:"requests in vegeta's targets format (METHOD URL, headers, @body; '# weight: N' before an entry weights it), spread over a cycle; replaces the URL, method, headers and body above"`
	BodyTemplate   bool          `env:"TARGET_BODY_TEMPLATE" envDefault:"false" help:"render {{seq}}, {{stream}}, {{timestamp}} and {{random}} in request bodies, per request"`
	ExpectBody     string        `env:"TARGET_EXPECT_BODY" help:"a substring every ok reply body must contain; otherwise the request counts as http_error"`
	ExpectJSON     string        `env:"TARGET_EXPECT_JSON" help:"a JSON field every ok reply must have, as path=value, e.g. status=\"accepted\" or data.ok=true"`
	Client         string        `env:"TARGET_CLIENT" envDefault:"fast" help:"fast (picsoak's lean HTTP/1.1 client for http:// targets; https:// always uses net/http) or net/http"`
	Protocol       string        `env:"TARGET_PROTOCOL" envDefault:"auto" help:"auto (HTTP/1.1 for http://; HTTP/2 or HTTP/1.1 for https://, as the TLS handshake agrees), http1, h2 (HTTP/2 over https:// only) or h2c (HTTP/2 with prior knowledge over http://; needs PICSOAK_TARGET_CLIENT=net/http)"`
	MaxBodyBytes   int64         `env:"TARGET_MAX_BODY_BYTES" envDefault:"1048576" help:"response bytes read per request; the rest is discarded and the connection closed"`
	MetricsURL     string        `env:"TARGET_METRICS_URL" help:"PIC's Prometheus endpoint, read for its memory, goroutines and CPU"`
	PID            int           `env:"TARGET_PID" help:"PIC's process id, read from /proc when PIC runs beside picsoak"`
	SettleTime     time.Duration `env:"TARGET_SETTLE_TIME" envDefault:"1s" help:"wait after a cycle before the 'after' resource sample"`

	// InsecureSkipVerify is an explicit opt-in for a PIC whose certificate no trusted
	// CA signed; the daemon logs a warning when it is set.
	InsecureSkipVerify bool `env:"TARGET_INSECURE_SKIP_VERIFY" envDefault:"false" help:"true skips verifying PIC's TLS certificate (https:// targets); only for test set-ups, logged as a warning"`
}

// Target is what picsoak sends to PIC and how it judges the replies, parsed.
type Target struct {
	// Endpoints are the requests, in the order configured: PICSOAK_TARGETS_FILE's
	// entries, or the one of PICSOAK_TARGET_URL and its method, headers and body. The
	// URL of that one is nil when Simulated.
	Endpoints []Endpoint
	// Simulated says no target is configured: the daemon starts the built-in
	// simulator and points Endpoints[0] (and an empty MetricsURL) at it.
	Simulated bool
	Timeout   time.Duration
	Expected  StatusSet
	// Check verifies ok replies' bodies; nil when only the status counts.
	Check        *ReplyCheck
	Client       string // ClientFast or ClientNetHTTP
	Protocol     string // ProtocolAuto, ProtocolHTTP1, ProtocolH2 or ProtocolH2C
	MaxBodyBytes int64
	// MetricsURL is PIC's Prometheus endpoint, "" when none; PID its process, 0 when
	// not beside picsoak.
	MetricsURL         string
	PID                int
	InsecureSkipVerify bool
}

// Endpoint is one request picsoak sends.
type Endpoint struct {
	// Name labels the endpoint's series and report rows: its "# name:", its method
	// and path, or "default" for the one of PICSOAK_TARGET_URL.
	Name   string
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
	// Template renders Body per request (PICSOAK_TARGET_BODY_TEMPLATE); nil sends it as is.
	Template *BodyTemplate
	// Weight is the endpoint's share of requests relative to the others, ≥ 1.
	Weight int
}

// Name describes the target for results and logs, with credentials redacted.
func (t *Target) Name() string {
	if len(t.Endpoints) == 0 || t.Endpoints[0].URL == nil {
		return "(none)"
	}
	name := redact.URL(t.Endpoints[0].URL.String())
	if n := len(t.Endpoints); n > 1 {
		name += fmt.Sprintf(" (+%d more endpoints)", n-1)
	}
	return name
}

// target checks the target's variables and parses them, reading a targets file and its
// body files once.
func (p *problems) target(v targetVars) Target {
	t := Target{
		Timeout: v.Timeout, Client: v.Client, Protocol: v.Protocol, MaxBodyBytes: v.MaxBodyBytes,
		MetricsURL: v.MetricsURL, PID: v.PID, InsecureSkipVerify: v.InsecureSkipVerify,
	}
	var u *url.URL
	if v.URL != "" {
		parsed, err := url.Parse(v.URL)
		if ok := err == nil && (parsed.Scheme == "http" || parsed.Scheme == "https") && parsed.Host != ""; ok {
			u = parsed
		} else {
			p.check(false, "PICSOAK_TARGET_URL", redact.URL(v.URL), "want an absolute http:// or https:// URL such as http://pic:8080/events")
		}
	}
	p.check(v.Method != "" && !strings.ContainsAny(v.Method, " \t\r\n"), "PICSOAK_TARGET_METHOD", v.Method, "want an HTTP method such as GET or POST")
	header, err := ParseHeaders(v.Headers)
	if err != nil {
		p.add("PICSOAK_TARGET_HEADERS", "PICSOAK_TARGET_HEADERS: %v", err)
	}
	p.check(v.Timeout > 0, "PICSOAK_TARGET_TIMEOUT", v.Timeout, "want a duration > 0")
	if t.Expected, err = ParseStatusSet(v.ExpectedStatus); err != nil {
		p.add("PICSOAK_TARGET_EXPECTED_STATUS", "PICSOAK_TARGET_EXPECTED_STATUS=%q: %v", v.ExpectedStatus, err)
	}
	if v.TargetsFile != "" {
		if t.Endpoints, err = LoadTargetsFile(v.TargetsFile); err != nil {
			p.add("PICSOAK_TARGETS_FILE", "PICSOAK_TARGETS_FILE=%q: %v", v.TargetsFile, err)
		}
	} else {
		t.Simulated = v.URL == ""
		t.Endpoints = []Endpoint{{Name: "default", Method: v.Method, URL: u, Header: header, Body: []byte(v.Body), Weight: 1}}
	}
	if v.BodyTemplate {
		for i, e := range t.Endpoints {
			if t.Endpoints[i].Template, err = ParseBodyTemplate(e.Body); err != nil {
				p.add("PICSOAK_TARGET_BODY_TEMPLATE", "PICSOAK_TARGET_BODY_TEMPLATE=true: the body of %s %s: %v", e.Method, endpointURL(e), err)
			}
		}
	}
	if t.Check, err = parseReplyCheck(v.ExpectBody, v.ExpectJSON); err != nil {
		p.add("PICSOAK_TARGET_EXPECT_JSON", "PICSOAK_TARGET_EXPECT_JSON=%q: %v", v.ExpectJSON, err)
	}
	p.check(oneOf(v.Client, ClientFast, ClientNetHTTP), "PICSOAK_TARGET_CLIENT", v.Client, "want fast or net/http")
	p.protocol(v, t)
	p.check(v.MaxBodyBytes >= 0, "PICSOAK_TARGET_MAX_BODY_BYTES", v.MaxBodyBytes, "want 0 or more")
	if v.MetricsURL != "" {
		mu, err := url.Parse(v.MetricsURL)
		p.check(err == nil && (mu.Scheme == "http" || mu.Scheme == "https") && mu.Host != "",
			"PICSOAK_TARGET_METRICS_URL", redact.URL(v.MetricsURL), "want an absolute http:// or https:// URL such as http://pic:8080/metrics")
	}
	p.check(v.PID >= 0, "PICSOAK_TARGET_PID", v.PID, "want a process id, or 0 for none")
	p.check(v.SettleTime >= 0, "PICSOAK_TARGET_SETTLE_TIME", v.SettleTime, "want a duration >= 0")
	return t
}

// protocol checks PICSOAK_TARGET_PROTOCOL against the client and every endpoint's
// scheme: HTTP/2 over cleartext needs net/http and http://, over TLS https://.
func (p *problems) protocol(v targetVars, t Target) {
	const key = "PICSOAK_TARGET_PROTOCOL"
	if !oneOf(v.Protocol, ProtocolAuto, ProtocolHTTP1, ProtocolH2, ProtocolH2C) {
		p.check(false, key, v.Protocol, "want auto, http1, h2 or h2c")
		return
	}
	if v.Protocol == ProtocolH2C && v.Client == ClientFast {
		p.add(key, "%s=h2c: the fast client (PICSOAK_TARGET_CLIENT=fast, the default) speaks HTTP/1.1 only; want PICSOAK_TARGET_CLIENT=net/http for h2c", key)
	}
	want := map[string]string{ProtocolH2: "https", ProtocolH2C: "http"}[v.Protocol]
	if want == "" {
		return
	}
	if t.Simulated {
		p.add(key, "%s=%s: the built-in simulator speaks HTTP/1.1 only; want PICSOAK_TARGET_URL or PICSOAK_TARGETS_FILE with %s:// URLs", key, v.Protocol, want)
	}
	for _, e := range t.Endpoints {
		if e.URL != nil && e.URL.Scheme != want {
			p.add(key, "%s=%s: %s is not %s://; %s", key, v.Protocol, endpointURL(e), want,
				map[string]string{ProtocolH2: "HTTP/2 over cleartext is h2c", ProtocolH2C: "https:// negotiates HTTP/2 with auto or h2"}[v.Protocol])
			return
		}
	}
}

func endpointURL(e Endpoint) string {
	if e.URL == nil {
		return "(the simulator)"
	}
	return redact.URL(e.URL.String())
}

// names lists the endpoints' names, in order.
func (t *Target) names() []string {
	out := make([]string, len(t.Endpoints))
	for i, e := range t.Endpoints {
		out[i] = e.Name
	}
	return out
}

// redactor collects the secrets of every URL and header of t and of the other URLs
// picsoak reaches.
func (t *Target) redactor(others ...string) *redact.Redactor {
	var urls []*url.URL
	var headers []http.Header
	for _, e := range t.Endpoints {
		urls = append(urls, e.URL)
		headers = append(headers, e.Header)
	}
	for _, raw := range append([]string{t.MetricsURL}, others...) {
		if u, err := url.Parse(raw); err == nil && raw != "" {
			urls = append(urls, u)
		}
	}
	return redact.New(urls, headers)
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

// ReplyCheck verifies a reply body beyond its status: a substring, a JSON field, or
// both. A failed check counts as http_error: PIC answered, but not correctly.
type ReplyCheck struct {
	Substring []byte
	// JSONField is the dotted path as configured (for errors), JSONPath its keys and
	// JSONWant the compact JSON of the wanted value; JSONPath is nil when no JSON
	// field is checked.
	JSONField string
	JSONPath  []string
	JSONWant  []byte
}

// parseReplyCheck returns nil when neither check is configured.
func parseReplyCheck(substring, jsonSpec string) (*ReplyCheck, error) {
	if substring == "" && jsonSpec == "" {
		return nil, nil
	}
	c := &ReplyCheck{Substring: []byte(substring)}
	if jsonSpec != "" {
		path, want, ok := strings.Cut(jsonSpec, "=")
		var v any
		if !ok || path == "" || json.Unmarshal([]byte(want), &v) != nil {
			return nil, fmt.Errorf(`want path=value with a JSON value, such as status="accepted" or data.ok=true`)
		}
		c.JSONField, c.JSONPath = path, strings.Split(path, ".")
		c.JSONWant, _ = json.Marshal(v)
	}
	return c, nil
}
