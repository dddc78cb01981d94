// Package config turns picsoak's environment into typed values, once: the engine's
// plan (every cycle's spec, schedules parsed, this replica's shard applied), the
// target's requests (headers, status sets, endpoints with their bodies read, reply
// checks, body templates), the daemon's own settings and the redactor of the
// target's credentials. Load reports every problem at once, a value that does not
// parse beside one out of range, each naming its variable, its value and what would
// be valid. Nothing downstream parses configuration text again. `picsoak help` and
// docs/configuration.md are written from the struct tags here (Vars).
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/redact"
)

// EnvPrefix is the prefix of every picsoak environment variable.
const EnvPrefix = "PICSOAK_"

// MinAPITokenLen is the shortest PICSOAK_API_TOKEN accepted, so it cannot be guessed.
const MinAPITokenLen = 16

// Config is the whole of picsoak's configuration, parsed and validated.
type Config struct {
	Daemon Daemon
	Push   Push
	Target Target
	// Plan is what the engine runs, with this replica's share of the load applied.
	Plan soak.Plan
	Sim  Sim
	// Redactor hides every credential of Target (its URLs, headers and metrics URL).
	Redactor *redact.Redactor
}

// Daemon is what the daemon itself needs: where it listens, logs and writes.
type Daemon struct {
	ListenAddr    string `env:"LISTEN_ADDR" envDefault:":9853" help:"address of /metrics, /healthz, /readyz and the status page"`
	ReportDir     string `env:"REPORT_DIR" envDefault:"./reports" help:"directory of the per-cycle JSON and Markdown reports"`
	ReportKeep    int    `env:"REPORT_KEEP" envDefault:"100" help:"newest reports kept per cycle kind (older ones are deleted)"`
	LogLevelName  string `env:"LOG_LEVEL" envDefault:"info" help:"debug, info, warn or error"`
	LogFormat     string `env:"LOG_FORMAT" envDefault:"json" help:"json or text"`
	RunOnStart    bool   `env:"RUN_ON_START" envDefault:"true" help:"run every enabled cycle once at start, before the schedules"`
	WebConfigFile string `env:"WEB_CONFIG_FILE" help:"exporter-toolkit web config (TLS, bcrypt basic auth) for everything on PICSOAK_LISTEN_ADDR; empty serves plain HTTP without auth"`
	APIToken      string `env:"API_TOKEN" help:"bearer token of POST /api/v1/cycles/{cycle}/run, at least 16 characters; empty turns that endpoint off"`

	// LogLevel is LogLevelName parsed.
	LogLevel slog.Level `env:"-"`
}

// Push is where `picsoak run` pushes the run's metrics: a Prometheus Pushgateway, so
// cron and CI regression runs land in the same dashboards and alerts as the daemon.
type Push struct {
	URL              string        `env:"PUSHGATEWAY_URL" help:"Pushgateway that picsoak run pushes its metrics to once it ended (also --pushgateway); basic auth from the URL's user:password, TLS for https://; empty pushes nothing"`
	Job              string        `env:"PUSH_JOB" envDefault:"picsoak-run" help:"job label of the pushed group"`
	Instance         string        `env:"PUSH_INSTANCE" help:"instance label of the pushed group; empty is the host name (give a stable one to a CronJob, whose pod names change every run)"`
	ExpectedInterval time.Duration `env:"PUSH_EXPECTED_INTERVAL" envDefault:"25h" help:"longest expected time between two pushes of this job (its schedule interval, the run's length and some slack: 25h for a nightly run), pushed as picsoak_push_expected_interval_seconds for the alert on a job that stopped pushing"`
	Timeout          time.Duration `env:"PUSH_TIMEOUT" envDefault:"30s" help:"deadline of the push"`
}

// Sim is the built-in PIC simulator, used by `picsoak sim` and by the daemon when no
// target is configured.
type Sim struct {
	ListenAddr string        `env:"LISTEN_ADDR" envDefault:":8080" help:"address of 'picsoak sim' (the daemon's built-in simulator always listens on a free loopback port)"`
	Latency    time.Duration `env:"LATENCY" envDefault:"2ms" help:"simulator's base latency"`
	Jitter     time.Duration `env:"JITTER" envDefault:"1ms" help:"simulator's random extra latency, uniform in [0, jitter)"`
	ErrorRatio float64       `env:"ERROR_RATIO" envDefault:"0" help:"share of simulator requests answered 500, 0..1"`
}

// vars is the environment as caarlos0/env reads it, before the values that need more
// than a type conversion are parsed.
type vars struct {
	daemon     Daemon
	push       Push
	plan       planVars
	target     targetVars
	sustained  sustainedVars
	burst      burstVars
	streams    streamsVars
	capacity   capacityVars
	regression regressionVars
	slo        sloVars
	sim        Sim
}

// section is one struct of vars with its variable prefix. Each is parsed on its own so
// that a parse error, which caarlos0/env reports by Go field name, maps to exactly one
// variable.
type section struct {
	prefix string
	ptr    any
}

func (v *vars) sections() []section {
	return []section{
		{EnvPrefix, &v.daemon},
		{EnvPrefix, &v.push},
		{EnvPrefix, &v.plan},
		{EnvPrefix, &v.target},
		{EnvPrefix + "SUSTAINED_", &v.sustained},
		{EnvPrefix + "BURST_", &v.burst},
		{EnvPrefix + "STREAMS_", &v.streams},
		{EnvPrefix + "CAPACITY_", &v.capacity},
		{EnvPrefix + "REGRESSION_", &v.regression},
		{EnvPrefix + "SLO_", &v.slo},
		{EnvPrefix + "SIM_", &v.sim},
	}
}

// Error lists every problem found in a configuration, one per line, in the order
// `picsoak help` lists the variables.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// Load parses environ (as from os.Environ) into a validated Config. The error, if any,
// is an *Error naming every bad variable at once.
func Load(environ []string) (Config, error) {
	values := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			values[k] = v
		}
	}
	var v vars
	p := problems{failed: map[string]bool{}}
	for _, s := range v.sections() {
		err := env.ParseWithOptions(s.ptr, env.Options{Prefix: s.prefix, Environment: values})
		p.parseErrors(err, s, values)
	}
	var c Config
	c.Daemon = v.daemon
	c.Push = v.push
	c.Sim = v.sim
	p.daemon(&c.Daemon)
	p.push(&c.Push)
	c.Target = p.target(v.target)
	c.Plan = p.plan(v, c.Target.names())
	p.sim(c.Sim)
	if err := p.err(); err != nil {
		return Config{}, err
	}
	c.Redactor = c.Target.redactor(c.Push.URL)
	return c, nil
}

// parseErrors turns caarlos0/env's errors into problems naming the variable and what
// would be valid, and marks those variables failed so no range check repeats them.
func (p *problems) parseErrors(err error, s section, values map[string]string) {
	if err == nil {
		return
	}
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		p.add("", "%v", err)
		return
	}
	for _, e := range agg.Errors {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			p.add("", "%v", e)
			continue
		}
		f, _ := reflect.TypeOf(s.ptr).Elem().FieldByName(pe.Name)
		key := s.prefix + envKey(f)
		p.failed[key] = true
		p.add(key, "%s=%q: want %s", key, values[key], typeHint(f.Type))
	}
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

func (p *problems) daemon(d *Daemon) {
	p.check(d.ReportKeep >= 1, "PICSOAK_REPORT_KEEP", d.ReportKeep, "want at least 1")
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	level, ok := levels[d.LogLevelName]
	p.check(ok, "PICSOAK_LOG_LEVEL", d.LogLevelName, "want debug, info, warn or error")
	d.LogLevel = level
	p.check(oneOf(d.LogFormat, "json", "text"), "PICSOAK_LOG_FORMAT", d.LogFormat, "want json or text")
	if d.APIToken != "" && len(d.APIToken) < MinAPITokenLen {
		// The value is a credential: name the variable, never print it.
		p.add("PICSOAK_API_TOKEN", "PICSOAK_API_TOKEN: want at least %d characters (e.g. from openssl rand -hex 32), got %d", MinAPITokenLen, len(d.APIToken))
	}
}

func (p *problems) push(s *Push) {
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		p.check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "PICSOAK_PUSHGATEWAY_URL", redact.URL(s.URL), "want an absolute http:// or https:// URL such as http://pushgateway:9091")
	}
	p.check(s.Job != "", "PICSOAK_PUSH_JOB", s.Job, "want a job name such as picsoak-run")
	if s.Instance == "" {
		s.Instance, _ = os.Hostname()
	}
	p.check(s.ExpectedInterval > 0, "PICSOAK_PUSH_EXPECTED_INTERVAL", s.ExpectedInterval, "want a duration > 0, such as 24h for a nightly run")
	p.check(s.Timeout > 0, "PICSOAK_PUSH_TIMEOUT", s.Timeout, "want a duration > 0")
}

func (p *problems) sim(s Sim) {
	p.check(s.Latency >= 0, "PICSOAK_SIM_LATENCY", s.Latency, "want a duration >= 0")
	p.check(s.Jitter >= 0, "PICSOAK_SIM_JITTER", s.Jitter, "want a duration >= 0")
	p.ratio("PICSOAK_SIM_ERROR_RATIO", s.ErrorRatio)
}

// Var is one configuration variable, for help output and docs/configuration.md.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable with its default and help, read from the struct tags Load
// parses with, so the help cannot drift from what is parsed.
func Vars() []Var {
	var v vars
	var out []Var
	for _, s := range v.sections() {
		t := reflect.TypeOf(s.ptr).Elem()
		for i := range t.NumField() {
			f := t.Field(i)
			if key := envKey(f); key != "" && key != "-" {
				out = append(out, Var{Name: s.prefix + key, Default: f.Tag.Get("envDefault"), Help: f.Tag.Get("help")})
			}
		}
	}
	return out
}

// varOrder is each variable's place in Vars, by which problems are sorted.
var varOrder = func() map[string]int {
	m := map[string]int{}
	for i, v := range Vars() {
		m[v.Name] = i
	}
	return m
}()

// problems collects what is wrong with a configuration, each under the variable it
// names first.
type problems struct {
	list []problem
	// failed are the variables that did not parse: their zero values say nothing.
	failed map[string]bool
}

type problem struct{ key, text string }

func (p *problems) add(key, format string, args ...any) {
	p.list = append(p.list, problem{key, fmt.Sprintf(format, args...)})
}

// check adds "KEY=value: want" unless ok, or unless key did not even parse.
func (p *problems) check(ok bool, key string, value any, want string) {
	if !ok && !p.failed[key] {
		p.add(key, "%s=%s: %s", key, formatValue(value), want)
	}
}

func (p *problems) ratio(key string, v float64) {
	p.check(v >= 0 && v <= 1, key, v, "want a ratio from 0 to 1, such as 0.95")
}

// parsed says whether every one of keys parsed, so a check combining them means something.
func (p *problems) parsed(keys ...string) bool {
	for _, k := range keys {
		if p.failed[k] {
			return false
		}
	}
	return true
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b problem) int { return order(a.key) - order(b.key) })
	e := &Error{}
	for _, pr := range p.list {
		e.Problems = append(e.Problems, pr.text)
	}
	return e
}

func order(key string) int {
	if i, ok := varOrder[key]; ok {
		return i
	}
	return len(varOrder)
}

func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func oneOf(v string, allowed ...string) bool { return slices.Contains(allowed, v) }
