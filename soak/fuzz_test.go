package soak

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for every parser of outside input. `go test` runs their seeds; run
// `go test -fuzz FuzzReadResponse ./soak/` (one at a time) to search further.

func FuzzReadResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nbody until close",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"garbage\r\n\r\n",
	} {
		f.Add(seed, int64(16))
	}
	f.Fuzz(func(t *testing.T, reply string, maxBody int64) {
		if maxBody < 0 || maxBody > 1<<20 {
			return
		}
		status, _, err := readResponse(bufio.NewReaderSize(strings.NewReader(reply), 16<<10), false, maxBody, nil)
		if (err == nil || errors.Is(err, errBodyTooLarge)) && (status < 100 || status > 999) {
			t.Errorf("status %d accepted from %q", status, reply)
		}
	})
}

func FuzzParseHeaders(f *testing.F) {
	for _, seed := range []string{"", "A: b", "Authorization: Bearer x\nX-Y: z", "bad line", ":", "A:\n\nB: c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		h, err := ParseHeaders(spec)
		if err != nil {
			if strings.Contains(err.Error(), spec) && len(spec) > 8 {
				t.Errorf("error %q repeats the input, which may hold a credential", err)
			}
			return
		}
		for name := range h {
			if !validHeaderName(name) {
				t.Errorf("invalid header name %q accepted", name)
			}
		}
	})
}

func FuzzParseStatusSet(f *testing.F) {
	for _, seed := range []string{"2xx", "2xx,304", "200, 201", "6xx", "", "99"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseStatusSet(spec)
		if err == nil && (s.Has(99) || s.Has(600)) {
			t.Errorf("%q accepted a status outside 100-599", spec)
		}
	})
}

func FuzzParseResourceExposition(f *testing.F) {
	f.Add(exposition)
	f.Add("go_goroutines 1\n")
	f.Add("# TYPE x histogram\nx_bucket{le=\"+Inf\"} 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		var s ResourceSample
		if err := ParseResourceExposition(strings.NewReader(text), &s); err == nil &&
			s.ResidentMemoryBytes == nil && s.Goroutines == nil && s.CPUSeconds == nil {
			t.Errorf("no error but no figure from %q", text)
		}
	})
}

func FuzzLoadConfig(f *testing.F) {
	f.Add("PICSOAK_SUSTAINED_SCHEDULE", "@every 5m")
	f.Add("PICSOAK_BURST_SCHEDULE", "*/15 * * * *")
	f.Add("PICSOAK_STREAMS_SCHEDULE", "CRON_TZ=UTC 0 * * * *")
	f.Add("PICSOAK_SUSTAINED_RATE", "1e309")
	f.Fuzz(func(t *testing.T, key, value string) {
		c, err := LoadConfig([]string{key + "=" + value})
		var ce *ConfigError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("LoadConfig error %T %v, want a *ConfigError", err, err)
		}
		if err == nil && c.Validate() != nil {
			t.Errorf("LoadConfig accepted what Validate rejects")
		}
	})
}

func FuzzParseTargetsFile(f *testing.F) {
	for _, seed := range []string{
		"GET http://pic:8080/events\n",
		"# weight: 3\nPOST https://pic/events?x=1\nAuthorization: Bearer x\n@body.json\n\nGET http://pic/health\n",
		"# weight: 0\nGET http://pic/\n",
		"GET pic/events\n",
		"GET http://pic/\nBad Header\n",
		"GET http://pic/\n@body.json\n@body.json\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.json"), []byte(`{"event":1}`), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for line := range strings.Lines(text) {
			// Body files outside the test's directory (/dev/stdin, a FIFO) could block:
			// the parser trusts the operator's paths, the fuzzer is not the operator.
			if path, ok := strings.CutPrefix(strings.TrimSpace(line), "@"); ok && (filepath.IsAbs(strings.TrimSpace(path)) || strings.Contains(path, "..")) {
				return
			}
		}
		endpoints, err := ParseTargetsFile(strings.NewReader(text), dir)
		if err != nil {
			return
		}
		if len(endpoints) == 0 {
			t.Errorf("no error and no target from %q", text)
		}
		for _, e := range endpoints {
			if e.Method == "" || (e.URL.Scheme != "http" && e.URL.Scheme != "https") || e.URL.Host == "" || e.Weight < 1 {
				t.Errorf("accepted %+v from %q", e, text)
			}
		}
	})
}
