package config

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxBodyFileBytes bounds a body file named in a targets file.
const maxBodyFileBytes = 16 << 20

// MaxEndpoints bounds a targets file's entries, and so the endpoint label of picsoak's
// per-endpoint metrics.
const MaxEndpoints = 100

// maxEndpointName bounds an endpoint's name, a label value of every per-endpoint series.
const maxEndpointName = 64

// ParseTargetsFile reads targets in vegeta's HTTP format: blank-line separated
// entries of a "METHOD URL" line, "Name: value" header lines and an optional
// "@path" body file (relative to dir). Lines starting with # are comments, except
// picsoak's two extensions, which vegeta reads as comments: "# weight: N" weights the
// entry that follows it and "# name: NAME" names it (an unnamed entry is named by its
// method and path, never its host or query, which may hold a credential). Errors name
// the line and what would be valid.
func ParseTargetsFile(r io.Reader, dir string) ([]Endpoint, error) {
	var out []Endpoint
	var cur *Endpoint
	weight, name := 1, ""
	named := map[string]int{} // names given, by the line that gave them
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			cur = nil
		case strings.HasPrefix(line, "#"):
			comment := strings.TrimSpace(line[1:])
			if w, ok := strings.CutPrefix(comment, "weight:"); ok {
				v, err := strconv.Atoi(strings.TrimSpace(w))
				if err != nil || v < 1 {
					return nil, fmt.Errorf("line %d: want '# weight: N' with a whole number N ≥ 1", n)
				}
				weight = v
			}
			if v, ok := strings.CutPrefix(comment, "name:"); ok {
				v = strings.TrimSpace(v)
				if v == "" || len(v) > maxEndpointName || !utf8.ValidString(v) {
					return nil, fmt.Errorf("line %d: want '# name: NAME' with a name of 1 to %d characters", n, maxEndpointName)
				}
				if first, dup := named[v]; dup {
					return nil, fmt.Errorf("line %d: the name %q is already that of the entry on line %d; want a name of its own", n, v, first)
				}
				named[v] = n
				name = v
			}
		case cur == nil:
			if len(out) == MaxEndpoints {
				return nil, fmt.Errorf("line %d: more than %d targets; want at most %d, so the endpoint label stays bounded", n, MaxEndpoints, MaxEndpoints)
			}
			method, rawURL, ok := strings.Cut(line, " ")
			u, err := url.Parse(strings.TrimSpace(rawURL))
			if !ok || method == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("line %d: want 'METHOD http://host/path' to start a target", n)
			}
			out = append(out, Endpoint{Name: name, Method: strings.ToUpper(method), URL: u, Header: http.Header{}, Weight: weight})
			cur, weight, name = &out[len(out)-1], 1, ""
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
	nameUnnamed(out, named)
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

// nameUnnamed names each unnamed endpoint "METHOD /path", numbered "#2", "#3", … when
// another endpoint has that name already, so every endpoint's series are its own.
func nameUnnamed(endpoints []Endpoint, taken map[string]int) {
	for i := range endpoints {
		e := &endpoints[i]
		if e.Name != "" {
			continue
		}
		base := e.Method + " " + cmp.Or(e.URL.EscapedPath(), "/")
		if len(base) > maxEndpointName {
			base = base[:maxEndpointName]
		}
		e.Name = base
		for k := 2; taken[e.Name] != 0; k++ {
			e.Name = fmt.Sprintf("%s #%d", base, k)
		}
		taken[e.Name] = -1
	}
}
