package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picsoak/picsoak/soak"
)

func TestLoadDefaults(t *testing.T) {
	c, err := Load(nil)
	if err != nil {
		t.Fatalf("Load(empty) = %v, want no error", err)
	}
	// The defaults are the seed report's three tests.
	checks := []struct {
		name      string
		got, want any
	}{
		{"sustained duration", c.Plan.Sustained.Duration, 30 * time.Second},
		{"sustained rate", c.Plan.Sustained.Rate, 100.0},
		{"sustained workers", c.Plan.Sustained.Workers, 10},
		{"sustained ratio", c.Plan.Sustained.MinSuccessRatio, 0.95},
		{"burst count", c.Plan.Burst.Count, 5},
		{"burst size", c.Plan.Burst.Size, 500},
		{"burst workers", c.Plan.Burst.Workers, 50},
		{"burst cooldown", c.Plan.Burst.Cooldown, 2 * time.Second},
		{"burst ratio", c.Plan.Burst.MinSuccessRatio, 0.90},
		{"streams count", c.Plan.Streams.Count, 10},
		{"streams requests", c.Plan.Streams.Requests, 100},
		{"streams ratio", c.Plan.Streams.MinSuccessRatio, 0.95},
		{"schedule", c.Plan.Sustained.Schedule.Spec, "@every 10m"},
		{"target method", c.Target.Endpoints[0].Method, "GET"},
		{"simulated", c.Target.Simulated, true},
		{"target timeout", c.Target.Timeout, 5 * time.Second},
		{"report dir", c.Daemon.ReportDir, "./reports"},
		{"run on start", c.Daemon.RunOnStart, true},
		{"listen", c.Daemon.ListenAddr, ":9853"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string // every line of the error, in order
	}{
		{
			// Unparseable values name the variable, the value and what would be valid.
			name: "types",
			env:  []string{"PICSOAK_SUSTAINED_RATE=fast", "PICSOAK_BURST_COOLDOWN=2", "PICSOAK_RUN_ON_START=maybe", "PICSOAK_STREAMS_COUNT=1.5"},
			want: []string{
				`PICSOAK_RUN_ON_START="maybe": want true or false`,
				`PICSOAK_SUSTAINED_RATE="fast": want a number`,
				`PICSOAK_BURST_COOLDOWN="2": want a duration such as 500ms, 30s or 5m`,
				`PICSOAK_STREAMS_COUNT="1.5": want a whole number`,
			},
		},
		{
			// Field names repeat across cycles; each error still names its own variable.
			name: "same field in two cycles",
			env:  []string{"PICSOAK_SUSTAINED_WORKERS=x", "PICSOAK_BURST_WORKERS=y"},
			want: []string{
				`PICSOAK_SUSTAINED_WORKERS="x": want a whole number`,
				`PICSOAK_BURST_WORKERS="y": want a whole number`,
			},
		},
		{
			// Out-of-range values are all reported at once.
			name: "ranges",
			env: []string{
				"PICSOAK_SUSTAINED_RATE=0", "PICSOAK_SUSTAINED_WORKERS=0", "PICSOAK_SUSTAINED_DURATION=0s",
				"PICSOAK_BURST_MIN_SUCCESS_RATIO=1.5", "PICSOAK_STREAMS_MIN_SUCCESS_RATIO=-0.1", "PICSOAK_BURST_SIZE=0",
			},
			want: []string{
				"PICSOAK_SUSTAINED_DURATION=0s: want a duration > 0",
				"PICSOAK_SUSTAINED_RATE=0: want a rate > 0 (req/s)",
				"PICSOAK_SUSTAINED_WORKERS=0: want at least 1",
				"PICSOAK_BURST_SIZE=0: want at least 1",
				"PICSOAK_BURST_MIN_SUCCESS_RATIO=1.5: want a ratio from 0 to 1, such as 0.95",
				"PICSOAK_STREAMS_MIN_SUCCESS_RATIO=-0.1: want a ratio from 0 to 1, such as 0.95",
			},
		},
		{
			// A schedule must be a cron spec or off.
			name: "schedule",
			env:  []string{"PICSOAK_BURST_SCHEDULE=every ten minutes"},
			want: []string{`PICSOAK_BURST_SCHEDULE="every ten minutes": want a cron spec such as '@every 10m' or '*/15 * * * *', or off (expected exactly 5 fields, found 3: [every ten minutes])`},
		},
		{
			// The target URL needs a scheme and host; its password never shows.
			name: "target",
			env:  []string{"PICSOAK_TARGET_URL=pic:8080/events", "PICSOAK_TARGET_HEADERS=Authorization Bearer s3cret", "PICSOAK_TARGET_EXPECTED_STATUS=2xx,700", "PICSOAK_TARGET_TIMEOUT=-1s"},
			want: []string{
				`PICSOAK_TARGET_URL="pic:8080/events": want an absolute http:// or https:// URL such as http://pic:8080/events`,
				"PICSOAK_TARGET_HEADERS: line 1: want 'Name: value' with a header name of letters, digits and -",
				"PICSOAK_TARGET_TIMEOUT=-1s: want a duration > 0",
				`PICSOAK_TARGET_EXPECTED_STATUS="2xx,700": want status codes 100-599 or classes 1xx-5xx separated by commas, such as 2xx,304; got "700"`,
			},
		},
		{
			// The capacity cycle's rates, steps and SLO are checked like the others'.
			name: "capacity",
			env: []string{
				"PICSOAK_CAPACITY_SCHEDULE=sometimes", "PICSOAK_CAPACITY_START_RATE=0", "PICSOAK_CAPACITY_STEP_RATE=-1",
				"PICSOAK_CAPACITY_STEP_DURATION=0s", "PICSOAK_CAPACITY_WORKERS=0", "PICSOAK_CAPACITY_MIN_SUCCESS_RATIO=2", "PICSOAK_CAPACITY_MAX_P99=0s",
			},
			want: []string{
				`PICSOAK_CAPACITY_SCHEDULE="sometimes": want a cron spec such as '@every 10m' or '*/15 * * * *', or off (expected exactly 5 fields, found 1: [sometimes])`,
				"PICSOAK_CAPACITY_START_RATE=0: want a rate > 0 (req/s)",
				"PICSOAK_CAPACITY_STEP_RATE=-1: want a rate > 0 (req/s)",
				"PICSOAK_CAPACITY_STEP_DURATION=0s: want a duration > 0",
				"PICSOAK_CAPACITY_WORKERS=0: want at least 1",
				"PICSOAK_CAPACITY_MIN_SUCCESS_RATIO=2: want a ratio from 0 to 1, such as 0.95",
				"PICSOAK_CAPACITY_MAX_P99=0s: want a duration > 0",
			},
		},
		{
			// The ceiling is at least the first step.
			name: "capacity ceiling",
			env:  []string{"PICSOAK_CAPACITY_START_RATE=100", "PICSOAK_CAPACITY_MAX_RATE=50"},
			want: []string{"PICSOAK_CAPACITY_MAX_RATE=50: want a rate >= PICSOAK_CAPACITY_START_RATE (100)"},
		},
		{
			// Steps are bounded, so the per-step metrics' step label is.
			name: "capacity step count",
			env:  []string{"PICSOAK_CAPACITY_STEP_RATE=1"},
			want: []string{"PICSOAK_CAPACITY_STEP_RATE=1: want at most 100 steps from PICSOAK_CAPACITY_START_RATE to PICSOAK_CAPACITY_MAX_RATE"},
		},
		{
			// Every step must fit in the cycle's deadline, or the search is always aborted.
			name: "capacity duration",
			env:  []string{"PICSOAK_CAPACITY_STEP_DURATION=1m"},
			want: []string{"PICSOAK_CAPACITY_STEP_DURATION=1m0s: 50 steps take 50m0s, want them within PICSOAK_CYCLE_TIMEOUT (10m0s)"},
		},
		{
			// HTTP/2 over cleartext needs net/http, which the fast default is not.
			name: "h2c with the fast client",
			env:  []string{"PICSOAK_TARGET_URL=http://pic:8080/events", "PICSOAK_TARGET_PROTOCOL=h2c"},
			want: []string{"PICSOAK_TARGET_PROTOCOL=h2c: the fast client (PICSOAK_TARGET_CLIENT=fast, the default) speaks HTTP/1.1 only; want PICSOAK_TARGET_CLIENT=net/http for h2c"},
		},
		{
			// h2c is for http://, h2 for https://; the URL's password never shows.
			name: "protocol and scheme",
			env:  []string{"PICSOAK_TARGET_URL=https://user:hunter2@pic/events", "PICSOAK_TARGET_CLIENT=net/http", "PICSOAK_TARGET_PROTOCOL=h2c"},
			want: []string{"PICSOAK_TARGET_PROTOCOL=h2c: https://user:xxxxx@pic/events is not http://; https:// negotiates HTTP/2 with auto or h2"},
		},
		{
			name: "h2 over http",
			env:  []string{"PICSOAK_TARGET_URL=http://pic/events", "PICSOAK_TARGET_PROTOCOL=h2"},
			want: []string{"PICSOAK_TARGET_PROTOCOL=h2: http://pic/events is not https://; HTTP/2 over cleartext is h2c"},
		},
		{
			// The simulator speaks HTTP/1.1; an unknown protocol is named with the valid ones.
			name: "protocol",
			env:  []string{"PICSOAK_TARGET_PROTOCOL=http3"},
			want: []string{`PICSOAK_TARGET_PROTOCOL="http3": want auto, http1, h2 or h2c`},
		},
		{
			name: "h2c with the simulator",
			env:  []string{"PICSOAK_TARGET_CLIENT=net/http", "PICSOAK_TARGET_PROTOCOL=h2c"},
			want: []string{"PICSOAK_TARGET_PROTOCOL=h2c: the built-in simulator speaks HTTP/1.1 only; want PICSOAK_TARGET_URL or PICSOAK_TARGETS_FILE with http:// URLs"},
		},
		{
			// Logging settings are checked before anything starts.
			name: "daemon",
			env:  []string{"PICSOAK_LOG_LEVEL=verbose", "PICSOAK_LOG_FORMAT=xml", "PICSOAK_REPORT_KEEP=0"},
			want: []string{
				"PICSOAK_REPORT_KEEP=0: want at least 1",
				`PICSOAK_LOG_LEVEL="verbose": want debug, info, warn or error`,
				`PICSOAK_LOG_FORMAT="xml": want json or text`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.env)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig = %v, want a *Error", err)
			}
			if got, want := strings.Join(ce.Problems, "\n"), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("problems:\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// Every protocol loads with the client and scheme it needs.
func TestProtocols(t *testing.T) {
	for _, tt := range []struct{ url, client, protocol string }{
		{"http://pic/events", ClientFast, ProtocolAuto},
		{"http://pic/events", ClientFast, ProtocolHTTP1},
		{"https://pic/events", ClientFast, ProtocolH2}, // https:// goes through net/http anyway
		{"http://pic/events", ClientNetHTTP, ProtocolH2C},
		{"https://pic/events", ClientNetHTTP, ProtocolHTTP1},
	} {
		c, err := Load([]string{"PICSOAK_TARGET_URL=" + tt.url, "PICSOAK_TARGET_CLIENT=" + tt.client, "PICSOAK_TARGET_PROTOCOL=" + tt.protocol})
		if err != nil || c.Target.Protocol != tt.protocol {
			t.Errorf("%s with %s over %s: got protocol %q, error %v, want %q and no error", tt.protocol, tt.client, tt.url, c.Target.Protocol, err, tt.protocol)
		}
	}
}

func TestErrorNeverShowsPassword(t *testing.T) {
	_, err := Load([]string{"PICSOAK_TARGET_URL=ftp://user:hunter2@pic/events"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v, want an error without the password", err)
	}
}

func TestScheduleOff(t *testing.T) {
	c, err := Load([]string{"PICSOAK_SUSTAINED_SCHEDULE=off", "PICSOAK_BURST_SCHEDULE=*/15 * * * *"})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Plan.Sustained.Schedule; !s.Off() || s.Cron != nil {
		t.Errorf("schedule off parsed to %v, want no cron schedule", s)
	}
	if s := c.Plan.Burst.Schedule; s.Off() || s.Spec != "*/15 * * * *" {
		t.Errorf("burst schedule = %+v, want the cron spec parsed", s)
	}
}

func TestVarsListsEveryVariable(t *testing.T) {
	got := map[string]Var{}
	for _, v := range Vars() {
		got[v.Name] = v
		if v.Help == "" {
			t.Errorf("%s has no help text", v.Name)
		}
	}
	// Every variable of DESIGN.md, with its documented default.
	want := map[string]string{
		"PICSOAK_TARGET_URL": "", "PICSOAK_TARGET_METHOD": "GET", "PICSOAK_TARGET_HEADERS": "", "PICSOAK_TARGET_BODY": "",
		"PICSOAK_TARGET_TIMEOUT": "5s", "PICSOAK_TARGET_METRICS_URL": "", "PICSOAK_TARGET_PID": "",
		"PICSOAK_TARGET_CLIENT": "fast", "PICSOAK_TARGET_PROTOCOL": "auto",
		"PICSOAK_LISTEN_ADDR": ":9853", "PICSOAK_REPORT_DIR": "./reports", "PICSOAK_LOG_LEVEL": "info", "PICSOAK_LOG_FORMAT": "json",
		"PICSOAK_RUN_ON_START":       "true",
		"PICSOAK_SUSTAINED_SCHEDULE": "@every 10m", "PICSOAK_SUSTAINED_DURATION": "30s", "PICSOAK_SUSTAINED_RATE": "100",
		"PICSOAK_SUSTAINED_WORKERS": "10", "PICSOAK_SUSTAINED_MIN_SUCCESS_RATIO": "0.95",
		"PICSOAK_BURST_SCHEDULE": "@every 10m", "PICSOAK_BURST_COUNT": "5", "PICSOAK_BURST_SIZE": "500", "PICSOAK_BURST_WORKERS": "50",
		"PICSOAK_BURST_COOLDOWN": "2s", "PICSOAK_BURST_MIN_SUCCESS_RATIO": "0.90",
		"PICSOAK_STREAMS_SCHEDULE": "@every 10m", "PICSOAK_STREAMS_COUNT": "10", "PICSOAK_STREAMS_REQUESTS": "100",
		"PICSOAK_STREAMS_MIN_SUCCESS_RATIO": "0.95",
		"PICSOAK_CAPACITY_SCHEDULE":         "off", "PICSOAK_CAPACITY_START_RATE": "1000", "PICSOAK_CAPACITY_STEP_RATE": "1000",
		"PICSOAK_CAPACITY_STEP_DURATION": "10s", "PICSOAK_CAPACITY_MAX_RATE": "50000", "PICSOAK_CAPACITY_WORKERS": "200",
		"PICSOAK_CAPACITY_MIN_SUCCESS_RATIO": "0.95", "PICSOAK_CAPACITY_MAX_P99": "100ms",
	}
	for name, def := range want {
		v, ok := got[name]
		if !ok {
			t.Errorf("Vars() lacks %s", name)
			continue
		}
		if v.Default != def {
			t.Errorf("%s default = %q, want %q", name, v.Default, def)
		}
	}
}

// A value that does not parse and one out of range are reported together, each
// naming its variable: fixing one never reveals the other.
func TestParseAndRangeErrorsTogether(t *testing.T) {
	_, err := Load([]string{"PICSOAK_SUSTAINED_RATE=abc", "PICSOAK_BURST_WORKERS=0", "PICSOAK_CAPACITY_START_RATE=x"})
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load = %v, want an *Error", err)
	}
	want := []string{
		`PICSOAK_SUSTAINED_RATE="abc": want a number`,
		"PICSOAK_BURST_WORKERS=0: want at least 1",
		`PICSOAK_CAPACITY_START_RATE="x": want a number`,
	}
	if got := strings.Join(ce.Problems, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("problems:\ngot:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestParseTargetsFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "event.json"), []byte(`{"event":"x"}`), 0o644)
	file := `# PIC's two endpoints
GET http://pic:8080/health
X-Trace: 1

# weight: 3
POST http://pic:8080/events
Content-Type: application/json
@event.json
`
	got, err := ParseTargetsFile(strings.NewReader(file), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d targets, want 2", len(got))
	}
	if g := got[0]; g.Method != "GET" || g.URL.Path != "/health" || g.Header.Get("X-Trace") != "1" || g.Weight != 1 || g.Body != nil {
		t.Errorf("first = %+v, want GET /health with X-Trace, weight 1, no body", g)
	}
	if g := got[1]; g.Method != "POST" || string(g.Body) != `{"event":"x"}` || g.Weight != 3 || g.Header.Get("Content-Type") != "application/json" {
		t.Errorf("second = %+v, want POST with the body file, weight 3", g)
	}
}

func count(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

func TestParseTargetsFileErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"no target", "# nothing\n", "no target: want at least one 'METHOD http://host/path' line"},
		{"no scheme", "GET pic/events\n", "line 1: want 'METHOD http://host/path' to start a target"},
		{"bad header", "GET http://pic/\nnot a header\n", "line 2: want a 'Name: value' header, an @body file or a blank line"},
		{"missing body file", "POST http://pic/\n@nope.json\n", "line 2: body file: open "},
		{"bad weight", "# weight: 0\nGET http://pic/\n", "line 1: want '# weight: N' with a whole number N ≥ 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTargetsFile(strings.NewReader(tt.file), t.TempDir())
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v, want an error starting %q", err, tt.want)
			}
		})
	}
}

func TestBodyTemplate(t *testing.T) {
	tmpl, err := ParseBodyTemplate([]byte(`{"seq":{{seq}},"stream":{{ stream }},"at":{{timestamp}},"id":"{{random}}"}`))
	if err != nil {
		t.Fatal(err)
	}
	st := TemplateState{Stream: 4, Rand: 42}
	var ids []string
	var buf []byte
	for i := 1; i <= 3; i++ {
		buf = tmpl.Render(buf[:0], &st, 1700000000000000000)
		var v struct {
			Seq, Stream int
			At          int64
			ID          string
		}
		if err := json.Unmarshal(buf, &v); err != nil {
			t.Fatalf("rendered %s: %v", buf, err)
		}
		if v.Seq != i || v.Stream != 4 || v.At != 1700000000000000000 || len(v.ID) != 16 {
			t.Errorf("rendered %+v, want seq %d, stream 4, the timestamp and a 16-digit id", v, i)
		}
		ids = append(ids, v.ID)
	}
	if ids[0] == ids[1] || ids[1] == ids[2] {
		t.Errorf("ids %v, want distinct", ids)
	}
	if n := testing.AllocsPerRun(100, func() { buf = tmpl.Render(buf[:0], &st, 1) }); n != 0 {
		t.Errorf("render allocates %v times, want 0 into a reused buffer", n)
	}
	if _, err := ParseBodyTemplate([]byte(`{{user}}`)); err == nil || !strings.Contains(err.Error(), "unknown placeholder {{user}}") {
		t.Errorf("got %v, want the unknown placeholder named", err)
	}
}

func TestReplyCheckConfig(t *testing.T) {
	c, err := parseReplyCheck("accepted", `data.ok=true`)
	if err != nil || string(c.Substring) != "accepted" || c.JSONField != "data.ok" || strings.Join(c.JSONPath, "/") != "data/ok" || string(c.JSONWant) != "true" {
		t.Errorf("got %+v, %v; want the substring, the path data.ok and the value true", c, err)
	}
	if c, err := parseReplyCheck("", ""); c != nil || err != nil {
		t.Errorf("got %+v, %v; want no check", c, err)
	}
	if _, err := parseReplyCheck("", "status"); err == nil {
		t.Error("EXPECT_JSON without =value accepted, want an error")
	}
}

func TestTargetsFileVariable(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "targets.txt")
	os.WriteFile(good, []byte("GET http://pic:8080/a\n\nGET http://pic:8080/b\n"), 0o644)
	c, err := Load([]string{"PICSOAK_TARGETS_FILE=" + good})
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Target.Endpoints; len(e) != 2 || c.Target.Simulated {
		t.Errorf("endpoints %v, simulated %v; want the file's two", e, c.Target.Simulated)
	}
	_, err = Load([]string{"PICSOAK_TARGETS_FILE=" + filepath.Join(dir, "missing.txt"), "PICSOAK_TARGET_EXPECT_JSON=status"})
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 2 ||
		!strings.HasPrefix(ce.Problems[0], `PICSOAK_TARGETS_FILE="`+filepath.Join(dir, "missing.txt")+`": open `) ||
		!strings.HasPrefix(ce.Problems[1], `PICSOAK_TARGET_EXPECT_JSON="status": want path=value`) {
		t.Errorf("got %v, want both variables named", err)
	}
}

func TestParseStatusSet(t *testing.T) {
	s, err := ParseStatusSet("2xx, 304")
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{200: true, 204: true, 299: true, 304: true, 199: false, 300: false, 500: false} {
		if got := s.Has(code); got != want {
			t.Errorf("Has(%d) = %v, want %v", code, got, want)
		}
	}
	for _, bad := range []string{"", "6xx", "abc", "99", "2xx,"} {
		if _, err := ParseStatusSet(bad); err == nil {
			t.Errorf("ParseStatusSet(%q) = nil error, want one", bad)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	h, err := ParseHeaders("X-One: 1\n\n  x-two:two words  \n")
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("X-One") != "1" || h.Get("X-Two") != "two words" || len(h) != 2 {
		t.Errorf("got %v, want X-One=1 and X-Two=two words", h)
	}
	if _, err := ParseHeaders("X-Ok: 1\nBad Header: 2"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("got %v, want an error naming line 2", err)
	}
}

// The redactor hides every secret of the target variables.
func TestRedactorHidesEveryConfiguredSecret(t *testing.T) {
	c, err := Load([]string{
		"PICSOAK_TARGET_URL=http://user:pass%2Fword@pic/events?token=tok%3Den&page=22222",
		"PICSOAK_TARGET_METRICS_URL=http://pic/metrics?api_key=metricskey",
		"PICSOAK_TARGET_HEADERS=Authorization: Bearer bearer-credential\nX-Api-Key: headerkey\nAccept: application/json",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redactor
	for _, tc := range []struct {
		in, want string
	}{
		// The header value and the bare credential after its scheme.
		{"sent Authorization: Bearer bearer-credential", "sent Authorization: xxxxx"},
		{"token bearer-credential rejected", "token xxxxx rejected"},
		// Another credential header.
		{"key headerkey", "key xxxxx"},
		// The URL password decoded and encoded.
		{"pass/word and pass%2Fword", "xxxxx and xxxxx"},
		// Query credentials decoded and encoded, from either URL.
		{"tok=en tok%3Den metricskey", "xxxxx xxxxx xxxxx"},
		// Non-credential values stay: the page number and the Accept header.
		{"page 22222 accepts application/json", "page 22222 accepts application/json"},
	} {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A targets file's credentials are hidden like PICSOAK_TARGET_*'s.
func TestRedactorReadsTheTargetsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "targets")
	os.WriteFile(file, []byte("GET http://u:file-password@pic/a?access_token=file-token\nCookie: session=file-cookie\n\nPOST http://pic/b\n"), 0o600)
	c, err := Load([]string{"PICSOAK_TARGETS_FILE=" + file})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Redactor.String("file-password file-token session=file-cookie pic/b")
	if want := "xxxxx xxxxx xxxxx pic/b"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestThresholds(t *testing.T) {
	c, err := Load([]string{"PICSOAK_SUSTAINED_THRESHOLDS=p99<=250ms, p50 < 50ms,rate>=0.99", "PICSOAK_BURST_THRESHOLDS=success>=0.999,recovery<2s",
		"PICSOAK_STREAMS_THRESHOLDS=none", "PICSOAK_CAPACITY_THRESHOLDS=rps>=5000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind soak.Kind
		want string
		min  float64
	}{
		// MIN_SUCCESS_RATIO is the first threshold; the rest are THRESHOLDS's.
		{soak.Sustained, "success>=0.95 p99<=250ms p50<50ms rate>=0.99", 0.95},
		// A success bound in THRESHOLDS takes MIN_SUCCESS_RATIO's place.
		{soak.Burst, "success>=0.999 recovery<2s", 0.999},
		// THRESHOLDS none leaves the success ratio.
		{soak.Streams, "success>=0.95", 0.95},
		// The capacity cycle's success ratio is its steps' SLO, not a threshold.
		{soak.Capacity, "rps>=5000", 0.95},
	} {
		var got []string
		for _, th := range c.Plan.Thresholds(tc.kind) {
			got = append(got, th.String())
		}
		if strings.Join(got, " ") != tc.want || c.Plan.MinSuccessRatio(tc.kind) != tc.min {
			t.Errorf("%s: got thresholds %q, min success %g; want %q, %g", tc.kind, got, c.Plan.MinSuccessRatio(tc.kind), tc.want, tc.min)
		}
	}
	if p99 := c.Plan.Sustained.Thresholds[1]; p99.Bound != 0.25 || !p99.Duration() {
		t.Errorf("p99 bound %g, want 0.25 seconds", p99.Bound)
	}
	// Out of the box every cycle but capacity has a latency bound besides its success ratio.
	d, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []soak.Kind{soak.Sustained, soak.Burst, soak.Streams} {
		if got := d.Plan.Thresholds(k); len(got) != 2 || got[1].String() != "p99<=1s" {
			t.Errorf("%s default thresholds %v, want the success ratio and p99<=1s", k, got)
		}
	}
}

func TestThresholdErrors(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"PICSOAK_SUSTAINED_THRESHOLDS=p98<=1s", `PICSOAK_SUSTAINED_THRESHOLDS="p98<=1s": "p98<=1s": unknown figure "p98"; want one of p50 p90 p95 p99 p99.9 max mean success rps rate`},
		{"PICSOAK_STREAMS_THRESHOLDS=recovery<=1s", `PICSOAK_STREAMS_THRESHOLDS="recovery<=1s": "recovery<=1s": the streams cycle has no recovery; want one of p50 p90 p95 p99 p99.9 max mean success rps fairness`},
		{"PICSOAK_BURST_THRESHOLDS=p99<=fast", `PICSOAK_BURST_THRESHOLDS="p99<=fast": "p99<=fast": want a duration such as 250ms or 1s after <=`},
		{"PICSOAK_BURST_THRESHOLDS=success>=1.5", `PICSOAK_BURST_THRESHOLDS="success>=1.5": "success>=1.5": want a ratio from 0 to 1, such as 0.99`},
		{"PICSOAK_BURST_THRESHOLDS=rps>=-1", `PICSOAK_BURST_THRESHOLDS="rps>=-1": "rps>=-1": want a rate of 0 or more (req/s)`},
		{"PICSOAK_BURST_THRESHOLDS=p99", `PICSOAK_BURST_THRESHOLDS="p99": "p99": want NAME OP VALUE with OP one of < <= > >=, such as p99<=250ms or success>=0.99`},
		{"PICSOAK_BURST_THRESHOLDS=p99<=1s,p99<=2s", `PICSOAK_BURST_THRESHOLDS="p99<=1s,p99<=2s": p99<= is bounded twice; want each figure and operator once`},
		{"PICSOAK_SUSTAINED_THRESHOLDS=rate>=abc", `PICSOAK_SUSTAINED_THRESHOLDS="rate>=abc": "rate>=abc": want a number after >=`},
	} {
		_, err := Load([]string{tc.env})
		var ce *Error
		if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0] != tc.want {
			t.Errorf("%s: got %v, want %q", tc.env, err, tc.want)
		}
	}
}

func TestSLO(t *testing.T) {
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (soak.SLO{Availability: 0.99, LatencyThreshold: time.Second, LatencyObjective: 0.99, Window: 30 * 24 * time.Hour}); c.Plan.SLO != want {
		t.Errorf("default SLO %+v, want %+v", c.Plan.SLO, want)
	}
	c, err = Load([]string{"PICSOAK_SLO_AVAILABILITY=0.999", "PICSOAK_SLO_LATENCY=250ms@0.95", "PICSOAK_SLO_WINDOW=28d"})
	if err != nil || c.Plan.SLO != (soak.SLO{Availability: 0.999, LatencyThreshold: 250 * time.Millisecond, LatencyObjective: 0.95, Window: 28 * 24 * time.Hour}) {
		t.Errorf("got %+v, %v; want 0.999, 250ms@0.95 over 28d", c.Plan.SLO, err)
	}
	_, err = Load([]string{"PICSOAK_SLO_AVAILABILITY=1", "PICSOAK_SLO_LATENCY=1s", "PICSOAK_SLO_WINDOW=a month"})
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 3 || !strings.HasPrefix(ce.Problems[0], "PICSOAK_SLO_AVAILABILITY=1: want an objective above 0 and under 1") ||
		!strings.HasPrefix(ce.Problems[1], `PICSOAK_SLO_LATENCY="1s": want DURATION@OBJECTIVE`) || !strings.HasPrefix(ce.Problems[2], `PICSOAK_SLO_WINDOW="a month": want a window`) {
		t.Errorf("got %v, want the three SLO variables named", err)
	}
}

// Entries are named by "# name:" or by method and path, each name once; more than
// MaxEndpoints entries would unbound the endpoint label.
func TestTargetsFileNames(t *testing.T) {
	got, err := ParseTargetsFile(strings.NewReader("# name: write\nPOST http://pic/events?token=s3cret\n\nGET http://pic/events\n\nGET http://other/events\n\nGET http://pic\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	if want := []string{"write", "GET /events", "GET /events #2", "GET /"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q: no host, no query", names, want)
	}
	for _, tc := range []struct{ file, want string }{
		{"# name: a\nGET http://pic/a\n\n# name: a\nGET http://pic/b\n", `line 4: the name "a" is already that of the entry on line 1; want a name of its own`},
		{"# name:\nGET http://pic/a\n", "line 1: want '# name: NAME' with a name of 1 to 64 characters"},
		{strings.Repeat("GET http://pic/\n\n", MaxEndpoints+1), "line 201: more than 100 targets; want at most 100, so the endpoint label stays bounded"},
	} {
		if _, err := ParseTargetsFile(strings.NewReader(tc.file), t.TempDir()); err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	// The plan names the endpoints in order; the single URL is "default".
	c, err := Load(nil)
	if err != nil || !slices.Equal(c.Plan.Endpoints, []string{"default"}) {
		t.Errorf("plan endpoints %v (%v), want [default]", c.Plan.Endpoints, err)
	}
}
