package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for the parsers of picsoak's configuration, outside input. `go test`
// runs their seeds; `go test -fuzz FuzzLoad ./soak/config/` (one at a time) searches
// further.

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

func FuzzLoad(f *testing.F) {
	f.Add("PICSOAK_SUSTAINED_SCHEDULE", "@every 5m")
	f.Add("PICSOAK_BURST_SCHEDULE", "*/15 * * * *")
	f.Add("PICSOAK_STREAMS_SCHEDULE", "CRON_TZ=UTC 0 * * * *")
	f.Add("PICSOAK_SUSTAINED_RATE", "1e309")
	f.Fuzz(func(t *testing.T, key, value string) {
		c, err := Load([]string{key + "=" + value})
		var ce *Error
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("Load error %T %v, want an *Error", err, err)
		}
		// What Load accepts, the engine can run.
		p := c.Plan
		if err == nil && (p.CycleTimeout <= 0 || p.Sustained.Rate <= 0 || p.Sustained.Workers < 1 || p.Burst.Workers < 1 ||
			p.Capacity.StepCount() < 1 || p.Capacity.StepCount() > 100 || c.Target.Timeout <= 0 || len(c.Target.Endpoints) == 0) {
			t.Errorf("Load accepted %s=%q into a plan the engine cannot run: %+v", key, value, p)
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
