package soak

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(nil)
	if err != nil {
		t.Fatalf("LoadConfig(empty) = %v, want no error", err)
	}
	// The defaults are the seed report's three tests.
	checks := []struct {
		name      string
		got, want any
	}{
		{"sustained duration", c.Sustained.Duration, 30 * time.Second},
		{"sustained rate", c.Sustained.Rate, 100.0},
		{"sustained workers", c.Sustained.Workers, 10},
		{"sustained ratio", c.Sustained.MinSuccessRatio, 0.95},
		{"burst count", c.Burst.Count, 5},
		{"burst size", c.Burst.Size, 500},
		{"burst workers", c.Burst.Workers, 50},
		{"burst cooldown", c.Burst.Cooldown, 2 * time.Second},
		{"burst ratio", c.Burst.MinSuccessRatio, 0.90},
		{"streams count", c.Streams.Count, 10},
		{"streams requests", c.Streams.Requests, 100},
		{"streams ratio", c.Streams.MinSuccessRatio, 0.95},
		{"schedule", c.Sustained.Schedule, "@every 10m"},
		{"target method", c.Target.Method, "GET"},
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

func TestLoadConfigErrors(t *testing.T) {
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
			_, err := LoadConfig(tt.env)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig = %v, want a *ConfigError", err)
			}
			if got, want := strings.Join(ce.Problems, "\n"), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("problems:\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestConfigErrorNeverShowsPassword(t *testing.T) {
	_, err := LoadConfig([]string{"PICSOAK_TARGET_URL=ftp://user:hunter2@pic/events"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v, want an error without the password", err)
	}
}

func TestScheduleOff(t *testing.T) {
	c, err := LoadConfig([]string{"PICSOAK_SUSTAINED_SCHEDULE=off", "PICSOAK_BURST_SCHEDULE=*/15 * * * *"})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := ParseSchedule(c.Sustained.Schedule); s != nil {
		t.Errorf("schedule off parsed to %v, want nil", s)
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
