package soak

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Endpoint is one request picsoak sends: from the PICSOAK_TARGET_* variables, or one
// entry of a targets file.
type Endpoint struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
	// Weight is the endpoint's share of requests relative to the others, ≥ 1.
	Weight int
}

// maxBodyFileBytes bounds a body file named in a targets file.
const maxBodyFileBytes = 16 << 20

// ParseTargetsFile reads targets in vegeta's HTTP format: blank-line separated
// entries of a "METHOD URL" line, "Name: value" header lines and an optional
// "@path" body file (relative to dir). Lines starting with # are comments, except
// "# weight: N", picsoak's extension, which weights the entry that follows it
// (vegeta ignores it). Errors name the line and what would be valid.
func ParseTargetsFile(r io.Reader, dir string) ([]Endpoint, error) {
	var out []Endpoint
	var cur *Endpoint
	weight := 1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			cur = nil
		case strings.HasPrefix(line, "#"):
			if w, ok := strings.CutPrefix(strings.TrimSpace(line[1:]), "weight:"); ok {
				v, err := strconv.Atoi(strings.TrimSpace(w))
				if err != nil || v < 1 {
					return nil, fmt.Errorf("line %d: want '# weight: N' with a whole number N ≥ 1", n)
				}
				weight = v
			}
		case cur == nil:
			method, rawURL, ok := strings.Cut(line, " ")
			u, err := url.Parse(strings.TrimSpace(rawURL))
			if !ok || method == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("line %d: want 'METHOD http://host/path' to start a target", n)
			}
			out = append(out, Endpoint{Method: strings.ToUpper(method), URL: u, Header: http.Header{}, Weight: weight})
			cur, weight = &out[len(out)-1], 1
		case strings.HasPrefix(line, "@"):
			if cur.Body != nil {
				return nil, fmt.Errorf("line %d: a target has at most one @body file", n)
			}
			path := strings.TrimSpace(line[1:])
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			body, err := readBounded(path, maxBodyFileBytes)
			if err != nil {
				return nil, fmt.Errorf("line %d: body file: %w", n, err)
			}
			cur.Body = body
		default:
			name, value, ok := strings.Cut(line, ":")
			name = strings.TrimSpace(name)
			if !ok || name == "" || !validHeaderName(name) {
				return nil, fmt.Errorf("line %d: want a 'Name: value' header, an @body file or a blank line", n)
			}
			cur.Header.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no target: want at least one 'METHOD http://host/path' line")
	}
	return out, nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// LoadTargetsFile reads a targets file.
func LoadTargetsFile(path string) ([]Endpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseTargetsFile(f, filepath.Dir(path))
}

// weightedOrder interleaves endpoint indexes by weight (smooth weighted round robin),
// so a sender cycling through it spreads each endpoint's share evenly over time.
func weightedOrder(endpoints []Endpoint) []int {
	total := 0
	for _, e := range endpoints {
		total += e.Weight
	}
	current := make([]int, len(endpoints))
	order := make([]int, 0, total)
	for range total {
		best := 0
		for i, e := range endpoints {
			current[i] += e.Weight
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		order = append(order, best)
	}
	return order
}

// bodyTemplate renders a request body with per-request values. Placeholders:
// {{seq}} (the sender's request number), {{stream}} (the stream index, -1 outside the
// streams cycle), {{timestamp}} (Unix nanoseconds), {{random}} (16 random hex digits).
type bodyTemplate struct {
	parts []templatePart
}

type templatePart struct {
	literal []byte
	value   templateValue
}

type templateValue uint8

const (
	valueNone templateValue = iota
	valueSeq
	valueStream
	valueTimestamp
	valueRandom
)

var templateValues = map[string]templateValue{"seq": valueSeq, "stream": valueStream, "timestamp": valueTimestamp, "random": valueRandom}

// parseBodyTemplate compiles body; it is an error to use an unknown placeholder.
func parseBodyTemplate(body []byte) (*bodyTemplate, error) {
	t := &bodyTemplate{}
	for len(body) > 0 {
		i := bytes.Index(body, []byte("{{"))
		if i < 0 {
			t.parts = append(t.parts, templatePart{literal: body})
			break
		}
		j := bytes.Index(body[i:], []byte("}}"))
		if j < 0 {
			return nil, fmt.Errorf("unclosed {{ at byte %d", i)
		}
		name := strings.TrimSpace(string(body[i+2 : i+j]))
		v, ok := templateValues[name]
		if !ok {
			return nil, fmt.Errorf("unknown placeholder {{%s}}: want {{seq}}, {{stream}}, {{timestamp}} or {{random}}", name)
		}
		t.parts = append(t.parts, templatePart{literal: body[:i], value: v})
		body = body[i+j+2:]
	}
	return t, nil
}

// templateState is one sender's per-request values.
type templateState struct {
	seq    int64
	stream int
	rand   uint64 // xorshift state: cheap, and these ids need no cryptographic quality
}

// render appends the body for the next request to dst and advances the sequence.
func (t *bodyTemplate) render(dst []byte, s *templateState, nowNanos int64) []byte {
	s.seq++
	for _, p := range t.parts {
		dst = append(dst, p.literal...)
		switch p.value {
		case valueSeq:
			dst = strconv.AppendInt(dst, s.seq, 10)
		case valueStream:
			dst = strconv.AppendInt(dst, int64(s.stream), 10)
		case valueTimestamp:
			dst = strconv.AppendInt(dst, nowNanos, 10)
		case valueRandom:
			s.rand ^= s.rand << 13
			s.rand ^= s.rand >> 7
			s.rand ^= s.rand << 17
			const hex = "0123456789abcdef"
			for i := 60; i >= 0; i -= 4 {
				dst = append(dst, hex[(s.rand>>uint(i))&0xf])
			}
		}
	}
	return dst
}
