package soak

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/robfig/cron/v3"
)

// EnvPrefix is the prefix of every picsoak environment variable.
const EnvPrefix = "PICSOAK_"

// HTTP clients of PICSOAK_TARGET_CLIENT.
const (
	ClientFast    = "fast"
	ClientNetHTTP = "net/http"
)

// MinAPITokenLen is the shortest PICSOAK_API_TOKEN accepted, so it cannot be guessed.
const MinAPITokenLen = 16

// ScheduleOff disables a cycle when used as its schedule.
const ScheduleOff = "off"

// DaemonConfig is what the daemon itself needs: where it listens, logs and writes.
type DaemonConfig struct {
	ListenAddr          string        `env:"LISTEN_ADDR" envDefault:":9853" help:"address of /metrics, /healthz, /readyz and the status page"`
	ReportDir           string        `env:"REPORT_DIR" envDefault:"./reports" help:"directory of the per-cycle JSON and Markdown reports"`
	ReportKeep          int           `env:"REPORT_KEEP" envDefault:"100" help:"newest reports kept per cycle kind (older ones are deleted)"`
	LogLevel            string        `env:"LOG_LEVEL" envDefault:"info" help:"debug, info, warn or error"`
	LogFormat           string        `env:"LOG_FORMAT" envDefault:"json" help:"json or text"`
	RunOnStart          bool          `env:"RUN_ON_START" envDefault:"true" help:"run every enabled cycle once at start, before the schedules"`
	CycleTimeout        time.Duration `env:"CYCLE_TIMEOUT" envDefault:"10m" help:"deadline of one cycle; a cycle still running then is aborted"`
	EnterpriseTargetRPS float64       `env:"ENTERPRISE_TARGET_RPS" envDefault:"50000" help:"capacity goal the reports compare throughput against (req/s)"`
	WebConfigFile       string        `env:"WEB_CONFIG_FILE" help:"exporter-toolkit web config (TLS, bcrypt basic auth) for everything on PICSOAK_LISTEN_ADDR; empty serves plain HTTP without auth"`
	APIToken            string        `env:"API_TOKEN" help:"bearer token of POST /api/v1/cycles/{cycle}/run, at least 16 characters; empty turns that endpoint off"`
	Shard               string        `env:"SHARD" envDefault:"0/1" help:"i/n: this replica runs shard i of n that share the configured load (rates ÷ n, burst sizes and streams split between them); 0/1 runs all of it"`
	ScheduleJitter      time.Duration `env:"SCHEDULE_JITTER" envDefault:"0s" help:"shard i of n starts each cycle i/n of this after it falls due, so replicas do not start together"`
	KeepCPUsAwake       bool          `env:"KEEP_CPUS_AWAKE" envDefault:"false" help:"true makes idle CPUs poll instead of halting while a cycle runs (holds /dev/cpu_dma_latency at 0; needs write access to it, i.e. root): on a VM a halted CPU can take milliseconds to wake, and tail latency would report that as PIC's. Machine-wide while held, and it costs power"`
}

// TargetConfig describes the requests sent to PIC and where PIC's resource usage is read.
// Its tags carry TARGET_ themselves, rather than the section a prefix, because
// PICSOAK_TARGETS_FILE belongs here too.
type TargetConfig struct {
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
	MaxBodyBytes   int64         `env:"TARGET_MAX_BODY_BYTES" envDefault:"1048576" help:"response bytes read per request; the rest is discarded and the connection closed"`
	MetricsURL     string        `env:"TARGET_METRICS_URL" help:"PIC's Prometheus endpoint, read for its memory, goroutines and CPU"`
	PID            int           `env:"TARGET_PID" help:"PIC's process id, read from /proc when PIC runs beside picsoak"`
	SettleTime     time.Duration `env:"TARGET_SETTLE_TIME" envDefault:"1s" help:"wait after a cycle before the 'after' resource sample"`

	// InsecureSkipVerify is an explicit opt-in for a PIC whose certificate no trusted
	// CA signed; the daemon logs a warning when it is set.
	InsecureSkipVerify bool `env:"TARGET_INSECURE_SKIP_VERIFY" envDefault:"false" help:"true skips verifying PIC's TLS certificate (https:// targets); only for test set-ups, logged as a warning"`
}

// SustainedConfig is the constant-arrival-rate cycle (seed test 1.1).
type SustainedConfig struct {
	Schedule        string        `env:"SCHEDULE" envDefault:"@every 10m" help:"cron spec (robfig/cron) or off"`
	Duration        time.Duration `env:"DURATION" envDefault:"30s" help:"length of the cycle"`
	Rate            float64       `env:"RATE" envDefault:"100" help:"arrival rate (req/s), kept whatever PIC's latency"`
	Workers         int           `env:"WORKERS" envDefault:"10" help:"most requests in flight"`
	MinSuccessRatio float64       `env:"MIN_SUCCESS_RATIO" envDefault:"0.95" help:"pass threshold, 0..1"`
}

// BurstConfig is the spike cycle (seed test 1.2).
type BurstConfig struct {
	Schedule        string        `env:"SCHEDULE" envDefault:"@every 10m" help:"cron spec (robfig/cron) or off"`
	Count           int           `env:"COUNT" envDefault:"5" help:"number of bursts"`
	Size            int           `env:"SIZE" envDefault:"500" help:"requests per burst"`
	Workers         int           `env:"WORKERS" envDefault:"50" help:"concurrent workers per burst"`
	Cooldown        time.Duration `env:"COOLDOWN" envDefault:"2s" help:"pause between bursts, used to measure recovery"`
	MinSuccessRatio float64       `env:"MIN_SUCCESS_RATIO" envDefault:"0.90" help:"pass threshold, 0..1"`
}

// StreamsConfig is the independent sequential streams cycle (seed test 1.3).
type StreamsConfig struct {
	Schedule        string  `env:"SCHEDULE" envDefault:"@every 10m" help:"cron spec (robfig/cron) or off"`
	Count           int     `env:"COUNT" envDefault:"10" help:"number of streams"`
	Requests        int     `env:"REQUESTS" envDefault:"100" help:"requests per stream, sent one after another"`
	MinSuccessRatio float64 `env:"MIN_SUCCESS_RATIO" envDefault:"0.95" help:"pass threshold, 0..1"`
}

// CapacityConfig is the stepped-rate cycle that looks for PIC's knee (the seed's
// "achievement rate"): each step is an open-model run at a constant rate, one step
// higher than the last, until a step misses the SLO or the ceiling is reached.
type CapacityConfig struct {
	Schedule        string        `env:"SCHEDULE" envDefault:"off" help:"cron spec (robfig/cron) or off; off by default, for the search loads PIC to its limit"`
	StartRate       float64       `env:"START_RATE" envDefault:"1000" help:"arrival rate of the first step (req/s)"`
	StepRate        float64       `env:"STEP_RATE" envDefault:"1000" help:"rate added at each step (req/s)"`
	StepDuration    time.Duration `env:"STEP_DURATION" envDefault:"10s" help:"length of each step"`
	MaxRate         float64       `env:"MAX_RATE" envDefault:"50000" help:"ceiling: the last step runs at this rate (req/s)"`
	Workers         int           `env:"WORKERS" envDefault:"200" help:"most requests in flight"`
	MinSuccessRatio float64       `env:"MIN_SUCCESS_RATIO" envDefault:"0.95" help:"a step under this success ratio, 0..1, misses the SLO"`
	MaxP99          time.Duration `env:"MAX_P99" envDefault:"100ms" help:"a step whose p99 latency is above this misses the SLO"`
}

// SimConfig is the built-in PIC simulator, used by `picsoak sim` and by the daemon
// when no target is configured.
type SimConfig struct {
	ListenAddr string        `env:"LISTEN_ADDR" envDefault:":8080" help:"address of 'picsoak sim' (the daemon's built-in simulator always listens on a free loopback port)"`
	Latency    time.Duration `env:"LATENCY" envDefault:"2ms" help:"simulator's base latency"`
	Jitter     time.Duration `env:"JITTER" envDefault:"1ms" help:"simulator's random extra latency, uniform in [0, jitter)"`
	ErrorRatio float64       `env:"ERROR_RATIO" envDefault:"0" help:"share of simulator requests answered 500, 0..1"`
}

// Config is the whole of picsoak's configuration.
type Config struct {
	Daemon    DaemonConfig
	Target    TargetConfig
	Sustained SustainedConfig
	Burst     BurstConfig
	Streams   StreamsConfig
	Capacity  CapacityConfig
	Sim       SimConfig

	// Shard is this replica's share of the load, set by ForShard from Daemon.Shard;
	// the zero value is unsharded.
	Shard Shard
}

// section is one struct of Config with its variable prefix. Each is parsed on its own so
// that a parse error, which caarlos0/env reports by Go field name, maps to exactly one
// variable.
type section struct {
	prefix string
	ptr    any
}

func (c *Config) sections() []section {
	return []section{
		{EnvPrefix, &c.Daemon},
		{EnvPrefix, &c.Target},
		{EnvPrefix + "SUSTAINED_", &c.Sustained},
		{EnvPrefix + "BURST_", &c.Burst},
		{EnvPrefix + "STREAMS_", &c.Streams},
		{EnvPrefix + "CAPACITY_", &c.Capacity},
		{EnvPrefix + "SIM_", &c.Sim},
	}
}

// ConfigError lists every problem found in a configuration, one per line.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// LoadConfig parses environ (as from os.Environ) and validates the result. The error,
// if any, is a *ConfigError naming every bad variable at once.
func LoadConfig(environ []string) (Config, error) {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var c Config
	var problems []string
	for _, s := range c.sections() {
		err := env.ParseWithOptions(s.ptr, env.Options{Prefix: s.prefix, Environment: vars})
		problems = append(problems, parseProblems(err, s, vars)...)
	}
	// Range checks on fields that failed to parse would only repeat the parse error.
	if len(problems) > 0 {
		return c, &ConfigError{problems}
	}
	return c, c.Validate()
}

// parseProblems turns caarlos0/env's errors into lines naming the variable and what
// would be valid.
func parseProblems(err error, s section, vars map[string]string) []string {
	if err == nil {
		return nil
	}
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range agg.Errors {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			out = append(out, e.Error())
			continue
		}
		f, _ := reflect.TypeOf(s.ptr).Elem().FieldByName(pe.Name)
		key := s.prefix + envKey(f)
		out = append(out, fmt.Sprintf("%s=%q: want %s", key, vars[key], typeHint(f.Type)))
	}
	return out
}

func envKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return key
}

func typeHint(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return "a duration such as 500ms, 30s or 5m"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "a whole number"
	}
	return "a " + t.String()
}

// Validate reports every out-of-range value at once, as a *ConfigError.
func (c *Config) Validate() error {
	var p problems
	d := c.Daemon
	p.check(d.ReportKeep >= 1, "PICSOAK_REPORT_KEEP", d.ReportKeep, "want at least 1")
	p.check(oneOf(d.LogLevel, "debug", "info", "warn", "error"), "PICSOAK_LOG_LEVEL", d.LogLevel, "want debug, info, warn or error")
	p.check(oneOf(d.LogFormat, "json", "text"), "PICSOAK_LOG_FORMAT", d.LogFormat, "want json or text")
	p.check(d.CycleTimeout > 0, "PICSOAK_CYCLE_TIMEOUT", d.CycleTimeout, "want a duration > 0")
	p.check(d.EnterpriseTargetRPS > 0, "PICSOAK_ENTERPRISE_TARGET_RPS", d.EnterpriseTargetRPS, "want a number > 0")
	if _, err := ParseShard(d.Shard); err != nil {
		p.add("PICSOAK_SHARD=%q: %v", d.Shard, err)
	}
	p.check(d.ScheduleJitter >= 0, "PICSOAK_SCHEDULE_JITTER", d.ScheduleJitter, "want a duration >= 0")
	if d.APIToken != "" && len(d.APIToken) < MinAPITokenLen {
		// The value is a credential: name the variable, never print it.
		p.add("PICSOAK_API_TOKEN: want at least %d characters (e.g. from openssl rand -hex 32), got %d", MinAPITokenLen, len(d.APIToken))
	}

	t := c.Target
	if t.URL != "" {
		u, err := url.Parse(t.URL)
		p.check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "",
			"PICSOAK_TARGET_URL", RedactURL(t.URL), "want an absolute http:// or https:// URL such as http://pic:8080/events")
	}
	if t.MetricsURL != "" {
		u, err := url.Parse(t.MetricsURL)
		p.check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "",
			"PICSOAK_TARGET_METRICS_URL", RedactURL(t.MetricsURL), "want an absolute http:// or https:// URL such as http://pic:8080/metrics")
	}
	p.check(t.Method != "" && !strings.ContainsAny(t.Method, " \t\r\n"), "PICSOAK_TARGET_METHOD", t.Method, "want an HTTP method such as GET or POST")
	if _, err := ParseHeaders(t.Headers); err != nil {
		p.add("PICSOAK_TARGET_HEADERS: %v", err)
	}
	p.check(t.Timeout > 0, "PICSOAK_TARGET_TIMEOUT", t.Timeout, "want a duration > 0")
	if _, err := ParseStatusSet(t.ExpectedStatus); err != nil {
		p.add("PICSOAK_TARGET_EXPECTED_STATUS=%q: %v", t.ExpectedStatus, err)
	}
	if t.TargetsFile != "" {
		if _, err := t.Endpoints(); err != nil {
			p.add("PICSOAK_TARGETS_FILE=%q: %v", t.TargetsFile, errors.Unwrap(err))
		}
	}
	if _, err := newResponseCheck(t.ExpectBody, t.ExpectJSON); err != nil {
		p.add("%v", err)
	}
	p.check(oneOf(t.Client, ClientFast, ClientNetHTTP), "PICSOAK_TARGET_CLIENT", t.Client, "want fast or net/http")
	p.check(t.MaxBodyBytes >= 0, "PICSOAK_TARGET_MAX_BODY_BYTES", t.MaxBodyBytes, "want 0 or more")
	p.check(t.PID >= 0, "PICSOAK_TARGET_PID", t.PID, "want a process id, or 0 for none")
	p.check(t.SettleTime >= 0, "PICSOAK_TARGET_SETTLE_TIME", t.SettleTime, "want a duration >= 0")

	s := c.Sustained
	p.schedule("PICSOAK_SUSTAINED_SCHEDULE", s.Schedule)
	p.check(s.Duration > 0, "PICSOAK_SUSTAINED_DURATION", s.Duration, "want a duration > 0")
	p.check(s.Rate > 0, "PICSOAK_SUSTAINED_RATE", s.Rate, "want a rate > 0 (req/s)")
	p.check(s.Workers >= 1, "PICSOAK_SUSTAINED_WORKERS", s.Workers, "want at least 1")
	p.ratio("PICSOAK_SUSTAINED_MIN_SUCCESS_RATIO", s.MinSuccessRatio)

	b := c.Burst
	p.schedule("PICSOAK_BURST_SCHEDULE", b.Schedule)
	p.check(b.Count >= 1, "PICSOAK_BURST_COUNT", b.Count, "want at least 1")
	p.check(b.Size >= 1, "PICSOAK_BURST_SIZE", b.Size, "want at least 1")
	p.check(b.Workers >= 1, "PICSOAK_BURST_WORKERS", b.Workers, "want at least 1")
	p.check(b.Cooldown >= 0, "PICSOAK_BURST_COOLDOWN", b.Cooldown, "want a duration >= 0")
	p.ratio("PICSOAK_BURST_MIN_SUCCESS_RATIO", b.MinSuccessRatio)

	st := c.Streams
	p.schedule("PICSOAK_STREAMS_SCHEDULE", st.Schedule)
	p.check(st.Count >= 1, "PICSOAK_STREAMS_COUNT", st.Count, "want at least 1")
	p.check(st.Requests >= 1, "PICSOAK_STREAMS_REQUESTS", st.Requests, "want at least 1")
	p.ratio("PICSOAK_STREAMS_MIN_SUCCESS_RATIO", st.MinSuccessRatio)

	ca := c.Capacity
	p.schedule("PICSOAK_CAPACITY_SCHEDULE", ca.Schedule)
	p.check(ca.StartRate > 0, "PICSOAK_CAPACITY_START_RATE", ca.StartRate, "want a rate > 0 (req/s)")
	p.check(ca.StepRate > 0, "PICSOAK_CAPACITY_STEP_RATE", ca.StepRate, "want a rate > 0 (req/s)")
	p.check(ca.StepDuration > 0, "PICSOAK_CAPACITY_STEP_DURATION", ca.StepDuration, "want a duration > 0")
	p.check(ca.MaxRate >= ca.StartRate, "PICSOAK_CAPACITY_MAX_RATE", ca.MaxRate, fmt.Sprintf("want a rate >= PICSOAK_CAPACITY_START_RATE (%s)", formatValue(ca.StartRate)))
	p.check(ca.Workers >= 1, "PICSOAK_CAPACITY_WORKERS", ca.Workers, "want at least 1")
	p.ratio("PICSOAK_CAPACITY_MIN_SUCCESS_RATIO", ca.MinSuccessRatio)
	p.check(ca.MaxP99 > 0, "PICSOAK_CAPACITY_MAX_P99", ca.MaxP99, "want a duration > 0")
	if ca.StartRate > 0 && ca.StepRate > 0 && ca.StepDuration > 0 && ca.MaxRate >= ca.StartRate {
		n := ca.StepCount()
		p.check(n <= MaxCapacitySteps, "PICSOAK_CAPACITY_STEP_RATE", ca.StepRate,
			fmt.Sprintf("want at most %d steps from PICSOAK_CAPACITY_START_RATE to PICSOAK_CAPACITY_MAX_RATE", MaxCapacitySteps))
		if total := time.Duration(n) * ca.StepDuration; n <= MaxCapacitySteps && total > d.CycleTimeout && d.CycleTimeout > 0 {
			p.add("PICSOAK_CAPACITY_STEP_DURATION=%s: %d steps take %s, want them within PICSOAK_CYCLE_TIMEOUT (%s)", ca.StepDuration, n, total, d.CycleTimeout)
		}
	}

	sim := c.Sim
	p.check(sim.Latency >= 0, "PICSOAK_SIM_LATENCY", sim.Latency, "want a duration >= 0")
	p.check(sim.Jitter >= 0, "PICSOAK_SIM_JITTER", sim.Jitter, "want a duration >= 0")
	p.ratio("PICSOAK_SIM_ERROR_RATIO", sim.ErrorRatio)

	if len(p) > 0 {
		return &ConfigError{p}
	}
	return nil
}

type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p *problems) check(ok bool, key string, value any, want string) {
	if !ok {
		p.add("%s=%s: %s", key, formatValue(value), want)
	}
}

func (p *problems) ratio(key string, v float64) {
	p.check(v >= 0 && v <= 1, key, v, "want a ratio from 0 to 1, such as 0.95")
}

func (p *problems) schedule(key, spec string) {
	if _, err := ParseSchedule(spec); err != nil {
		p.add("%s=%q: %v", key, spec, err)
	}
}

func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// cronParser accepts the standard 5 fields and descriptors such as @every 5m and @hourly.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cycle schedule. It returns a nil Schedule for "off".
func ParseSchedule(spec string) (s cron.Schedule, err error) {
	if spec == ScheduleOff {
		return nil, nil
	}
	// robfig/cron v3.0.1 panics on a time-zone prefix with nothing after it
	// ("CRON_TZ="); found by FuzzLoadConfig.
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("want a cron spec such as '@every 10m' or 'CRON_TZ=UTC */15 * * * *', or off (unparseable: %v)", p)
		}
	}()
	s, err = cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("want a cron spec such as '@every 10m' or '*/15 * * * *', or off (%v)", err)
	}
	return s, nil
}

// Var is one configuration variable, for help output.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable with its default and help, read from the config structs'
// tags so the help cannot drift from what is parsed.
func Vars() []Var {
	var c Config
	var out []Var
	for _, s := range c.sections() {
		t := reflect.TypeOf(s.ptr).Elem()
		for i := range t.NumField() {
			f := t.Field(i)
			out = append(out, Var{Name: s.prefix + envKey(f), Default: f.Tag.Get("envDefault"), Help: f.Tag.Get("help")})
		}
	}
	return out
}
