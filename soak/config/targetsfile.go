package config

import (
	"bufio"
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
