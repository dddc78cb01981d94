// Package deploy holds the configuration docker-compose mounts: Grafana provisioning
// here, Prometheus and Alertmanager beside it. No Docker engine runs in CI, so these
// tests load docker-compose.yml with compose-go (the library docker compose itself
// uses, which validates against the compose schema) and check what a wrong path, an
// unpinned image or a root user would only reveal at `docker compose up`.
package deploy

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"go.yaml.in/yaml/v3"
)

// repoRoot is where docker-compose.yml sits; go test runs in this package's folder.
const repoRoot = ".."

var wantServices = []string{"alertmanager", "grafana", "pic", "picsoak", "prometheus", "pushgateway"}

// loadCompose loads the compose file as `docker compose` would with an empty
// environment, so every ${VAR:-default} takes its default.
func loadCompose(t *testing.T, dir string) *types.Project {
	t.Helper()
	p, err := loadComposeErr(dir)
	if err != nil {
		t.Fatalf("load %s/docker-compose.yml: got %v, want no error", dir, err)
	}
	return p
}

func loadComposeErr(dir string) (*types.Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(abs, "docker-compose.yml")},
		cli.WithWorkingDirectory(abs), cli.WithEnv(nil))
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("got no service %q, want it", name)
	}
	return s
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t, repoRoot)
	var got []string
	for name := range p.Services {
		got = append(got, name)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantServices) {
		t.Errorf("got services %v, want %v", got, wantServices)
	}
}

// TestComposeRejectsInvalidFile proves the loader validates against the compose schema,
// so TestComposeServices passing means the real file is valid.
func TestComposeRejectsInvalidFile(t *testing.T) {
	dir := t.TempDir()
	bad := "services:\n  x:\n    image: alpine:3.22\n    no_such_key: 1\n"
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadComposeErr(dir); err == nil || !strings.Contains(err.Error(), "no_such_key") {
		t.Errorf("got error %v loading a compose file with an unknown key, want a schema error naming no_such_key", err)
	}
}

// TestComposeImagesPinned: an image without a version changes under the stack at the
// next pull, and with it what a regression alert compares against.
func TestComposeImagesPinned(t *testing.T) {
	p := loadCompose(t, repoRoot)
	for name, s := range p.Services {
		if s.Build != nil {
			if s.Build.Dockerfile != "Dockerfile" {
				t.Errorf("%s: got dockerfile %q, want Dockerfile", name, s.Build.Dockerfile)
			}
			continue
		}
		if err := pinned(s.Image); err != "" {
			t.Errorf("%s: got image %q, want %s", name, s.Image, err)
		}
	}
}

// pinned returns what is wrong with an image reference, or "" when it names a version
// tag or a digest.
func pinned(image string) string {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "a valid image reference: " + err.Error()
	}
	if _, ok := ref.(reference.Digested); ok {
		return ""
	}
	tagged, ok := ref.(reference.Tagged)
	if !ok || tagged.Tag() == "latest" || !strings.ContainsAny(tagged.Tag(), "0123456789") {
		return "a version tag (not latest) or a digest"
	}
	return ""
}

func TestPinned(t *testing.T) {
	tests := []struct {
		image string
		ok    bool
	}{
		{"prom/prometheus:v3.5.0", true},
		{"alpine:3.22", true},
		{"alpine@sha256:" + strings.Repeat("a", 64), true},
		// No tag means latest.
		{"prom/prometheus", false},
		{"grafana/grafana:latest", false},
		// A moving tag without a version.
		{"gcr.io/distroless/static-debian12:nonroot", false},
	}
	for _, tt := range tests {
		if got := pinned(tt.image) == ""; got != tt.ok {
			t.Errorf("pinned(%q): got ok %v, want %v", tt.image, got, tt.ok)
		}
	}
}

// TestComposeBindMountsExist: a missing host path makes Docker create an empty
// directory in its place, and Prometheus or Grafana then start without their config.
func TestComposeBindMountsExist(t *testing.T) {
	p := loadCompose(t, repoRoot)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	binds := 0
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			binds++
			rel, err := filepath.Rel(root, v.Source)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s: got bind source %s, want a path inside the repository", name, v.Source)
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s: bind source %s: got %v, want it to exist", name, rel, err)
			}
			if !v.ReadOnly {
				t.Errorf("%s: got bind %s read-write, want read-only", name, rel)
			}
		}
	}
	if binds == 0 {
		t.Errorf("got no bind mounts, want the Prometheus, Alertmanager and Grafana configs")
	}
}

func TestComposeMounts(t *testing.T) {
	p := loadCompose(t, repoRoot)
	tests := []struct {
		service, source, target string
	}{
		{"prometheus", "deploy/prometheus/prometheus.yml", "/etc/prometheus/prometheus.yml"},
		{"prometheus", "alerts", "/etc/prometheus/rules"},
		{"alertmanager", "deploy/alertmanager/alertmanager.yml", "/etc/alertmanager/alertmanager.yml"},
		{"grafana", "deploy/grafana/provisioning", "/etc/grafana/provisioning"},
		{"grafana", "dashboards", dashboardProviderPath(t)},
	}
	for _, tt := range tests {
		if got := bindTarget(t, service(t, p, tt.service), tt.source); got != tt.target {
			t.Errorf("%s: got ./%s mounted at %q, want %q", tt.service, tt.source, got, tt.target)
		}
	}
}

// bindTarget is where the repository path rel is mounted in the service, "" if nowhere.
func bindTarget(t *testing.T, s types.ServiceConfig, rel string) string {
	t.Helper()
	want, err := filepath.Abs(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && v.Source == want {
			return v.Target
		}
	}
	return ""
}

func TestComposePicsoak(t *testing.T) {
	p := loadCompose(t, repoRoot)
	for _, tt := range []struct{ service, command string }{{"picsoak", "serve"}, {"pic", "sim"}} {
		s := service(t, p, tt.service)
		if !slices.Equal(s.Command, types.ShellCommand{tt.command}) {
			t.Errorf("%s: got command %q, want [%s]", tt.service, s.Command, tt.command)
		}
		if s.Build == nil {
			t.Errorf("%s: got no build section, want the repository's Dockerfile", tt.service)
		}
		if !s.ReadOnly {
			t.Errorf("%s: got read_only false, want a read-only root filesystem", tt.service)
		}
		if !nonRoot(s.User) {
			t.Errorf("%s: got user %q, want a non-root uid", tt.service, s.User)
		}
		if s.User != dockerfileUser(t) {
			t.Errorf("%s: got user %q, want the Dockerfile's %q, which owns the reports directory", tt.service, s.User, dockerfileUser(t))
		}
	}

	s := service(t, p, "picsoak")
	// The health check is the command cmd/picsoak's tests run against a plain and a
	// TLS-with-basic-auth daemon.
	if s.HealthCheck == nil || !slices.Equal(s.HealthCheck.Test, types.HealthCheckTest{"CMD", "picsoak", "health"}) {
		t.Errorf("picsoak: got health check %v, want [CMD picsoak health]", s.HealthCheck)
	}
	env := func(k string) string {
		if v := s.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	for k, want := range map[string]string{
		"PICSOAK_TARGET_URL":         "http://pic:8080/events",
		"PICSOAK_TARGET_METRICS_URL": "http://pic:8080/metrics",
		"PICSOAK_LISTEN_ADDR":        ":9853",
	} {
		if got := env(k); got != want {
			t.Errorf("picsoak: got %s=%q, want %q", k, got, want)
		}
	}
	// Reports must land on a volume: the root filesystem is read-only.
	reports := env("PICSOAK_REPORT_DIR")
	mounted := false
	for _, v := range s.Volumes {
		if v.Target == reports && (v.Type == types.VolumeTypeVolume || v.Type == types.VolumeTypeTmpfs) {
			mounted = true
		}
	}
	if reports == "" || !mounted {
		t.Errorf("picsoak: got PICSOAK_REPORT_DIR %q and volumes %v, want the report directory on a volume", reports, s.Volumes)
	}
}

func nonRoot(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	return u != "" && u != "root" && u != "0"
}

// deployDoc is the page that documents the docker-compose set-up and its ports.
const deployDoc = "docs/deploy.md"

// TestDeployDocPortsMatchCompose keeps the port table of docs/deploy.md honest.
func TestDeployDocPortsMatchCompose(t *testing.T) {
	p := loadCompose(t, repoRoot)
	got := map[string]string{}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: got port %s published on %q, want 127.0.0.1 as %s says", name, port.Published, port.HostIP, deployDoc)
			}
			if port.Published != strconv.Itoa(int(port.Target)) {
				t.Errorf("%s: got host port %s for container port %d, want the same number", name, port.Published, port.Target)
			}
			got[name] += port.Published
		}
	}
	doc, err := os.ReadFile(filepath.Join(repoRoot, deployDoc))
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(doc), "\n## docker-compose\n")
	if !found {
		t.Fatalf("%s: got no \"## docker-compose\" section, want one", deployDoc)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	raw := []byte(section)
	row := regexp.MustCompile("^\\| `([a-z-]+)` \\| ([0-9]+) \\|")
	want := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			want[m[1]] += m[2]
		}
	}
	if len(want) != len(wantServices) {
		t.Errorf("%s: got port rows for %v, want one per service %v", deployDoc, want, wantServices)
	}
	for name, port := range want {
		if got[name] != port {
			t.Errorf("%s: got compose port %q, want %q as %s documents", name, got[name], port, deployDoc)
		}
	}
	for name, port := range got {
		if want[name] != port {
			t.Errorf("%s: got compose port %q, want %s to document it (it says %q)", name, port, deployDoc, want[name])
		}
	}
}

// --- Grafana provisioning -------------------------------------------------------

// datasources mirrors Grafana's datasource provisioning file, decoded strictly so a
// misspelt key fails here instead of being ignored by Grafana.
type datasources struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string         `yaml:"name"`
		UID       string         `yaml:"uid"`
		Type      string         `yaml:"type"`
		Access    string         `yaml:"access"`
		URL       string         `yaml:"url"`
		IsDefault bool           `yaml:"isDefault"`
		Editable  bool           `yaml:"editable"`
		JSONData  map[string]any `yaml:"jsonData"`
	} `yaml:"datasources"`
}

type dashboardProviders struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		OrgID                 int    `yaml:"orgId"`
		Type                  string `yaml:"type"`
		Folder                string `yaml:"folder"`
		FolderUID             string `yaml:"folderUid"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path                      string `yaml:"path"`
			FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: got %v, want no error", path, err)
	}
}

func TestGrafanaDatasources(t *testing.T) {
	var ds datasources
	decodeStrict(t, "grafana/provisioning/datasources/prometheus.yaml", &ds)
	if ds.APIVersion != 1 {
		t.Errorf("got apiVersion %d, want 1", ds.APIVersion)
	}
	p := loadCompose(t, repoRoot)
	var prom int
	for _, d := range ds.Datasources {
		if d.UID == "" {
			t.Errorf("%s: got no uid, want a fixed one", d.Name)
		}
		if d.Type != "prometheus" {
			continue
		}
		prom++
		if d.URL != "http://prometheus:9090" || !d.IsDefault || d.Access != "proxy" {
			t.Errorf("%s: got url %q default %v access %q, want http://prometheus:9090, default, proxy", d.Name, d.URL, d.IsDefault, d.Access)
		}
		if !exposes(service(t, p, "prometheus"), 9090) {
			t.Errorf("got prometheus service without port 9090, want the datasource URL to reach it")
		}
	}
	if prom != 1 {
		t.Errorf("got %d Prometheus datasources, want 1", prom)
	}
}

func exposes(s types.ServiceConfig, port uint32) bool {
	for _, p := range s.Ports {
		if p.Target == port {
			return true
		}
	}
	return false
}

// dashboardProviderPath is the folder Grafana's file provider reads dashboards from.
func dashboardProviderPath(t *testing.T) string {
	t.Helper()
	var dp dashboardProviders
	decodeStrict(t, "grafana/provisioning/dashboards/picsoak.yaml", &dp)
	if dp.APIVersion != 1 || len(dp.Providers) != 1 {
		t.Fatalf("got apiVersion %d and %d providers, want 1 and 1", dp.APIVersion, len(dp.Providers))
	}
	pr := dp.Providers[0]
	if pr.Type != "file" || pr.Options.Path == "" {
		t.Fatalf("got provider type %q path %q, want a file provider with a path", pr.Type, pr.Options.Path)
	}
	return pr.Options.Path
}

func TestGrafanaDashboardProvider(t *testing.T) {
	p := loadCompose(t, repoRoot)
	path := dashboardProviderPath(t)
	if got := bindTarget(t, service(t, p, "grafana"), "dashboards"); got != path {
		t.Errorf("got ./dashboards mounted at %q, want the provider's path %q", got, path)
	}
	// The home dashboard must be one the provider loads.
	home := service(t, p, "grafana").Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
	if home == nil || filepath.Dir(*home) != path {
		t.Fatalf("got home dashboard %v, want a file in %s", home, path)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "dashboards", filepath.Base(*home))); err != nil {
		t.Errorf("home dashboard: got %v, want dashboards/%s to exist", err, filepath.Base(*home))
	}
}

// TestPrometheusConfigFitsCompose checks deploy/prometheus/prometheus.yml against what
// this stack mounts and names: rule files where ./alerts is mounted, picsoak scraped
// under the job name the dashboards select (job="picsoak"), Alertmanager by its
// service name, and a scrape interval equal to Grafana's timeInterval, from which
// $__rate_interval is derived.
func TestPrometheusConfigFitsCompose(t *testing.T) {
	raw, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatalf("got %v, want deploy/prometheus/prometheus.yml", err)
	}
	var cfg struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
		RuleFiles []string `yaml:"rule_files"`
		Alerting  struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
			StaticConfigs  []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("decode prometheus.yml: got %v, want no error", err)
	}
	if len(cfg.RuleFiles) == 0 {
		t.Errorf("got no rule_files, want the rules mounted at /etc/prometheus/rules")
	}
	for _, f := range cfg.RuleFiles {
		if !strings.HasPrefix(f, "/etc/prometheus/rules/") {
			t.Errorf("got rule file %q, want one under /etc/prometheus/rules/ where compose mounts ./alerts", f)
		}
	}
	var am []string
	for _, a := range cfg.Alerting.Alertmanagers {
		for _, sc := range a.StaticConfigs {
			am = append(am, sc.Targets...)
		}
	}
	if !slices.Contains(am, "alertmanager:9093") {
		t.Errorf("got alertmanagers %v, want alertmanager:9093", am)
	}
	interval := cfg.Global.ScrapeInterval
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			if slices.Contains(s.Targets, "picsoak:9853") {
				found = true
				if sc.JobName != "picsoak" {
					t.Errorf("got picsoak:9853 scraped by job %q, want job picsoak (the dashboards select job=\"picsoak\")", sc.JobName)
				}
				if sc.ScrapeInterval != "" {
					interval = sc.ScrapeInterval
				}
			}
		}
	}
	if !found {
		t.Errorf("got no scrape target picsoak:9853, want picsoak scraped")
	}
	if interval == "" {
		interval = "1m" // Prometheus's default
	}
	var ds datasources
	decodeStrict(t, "grafana/provisioning/datasources/prometheus.yaml", &ds)
	for _, d := range ds.Datasources {
		if d.Type == "prometheus" && d.JSONData["timeInterval"] != interval {
			t.Errorf("got Grafana timeInterval %v, want picsoak's scrape interval %s", d.JSONData["timeInterval"], interval)
		}
	}
}

// --- Dockerfile -----------------------------------------------------------------

type instruction struct{ cmd, args string }

// dockerfile reads the repository's Dockerfile as instructions, continuation lines
// joined and comments dropped.
func dockerfile(t *testing.T) []instruction {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// stages splits the Dockerfile at each FROM.
func stages(t *testing.T) [][]instruction {
	t.Helper()
	var out [][]instruction
	for _, in := range dockerfile(t) {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) == 0 {
			continue // ARG before the first FROM
		}
		out[len(out)-1] = append(out[len(out)-1], in)
	}
	if len(out) < 2 {
		t.Fatalf("got %d stages, want a build stage and a small final stage", len(out))
	}
	return out
}

func TestDockerfileImagesPinned(t *testing.T) {
	names := map[string]bool{}
	for _, st := range stages(t) {
		f := strings.Fields(st[0].args)
		image := f[0]
		switch {
		case names[strings.ToLower(image)]:
			// An earlier stage, not an image.
		case strings.Contains(image, "$"):
			t.Errorf("got FROM %q, want a literal image so the pin is visible", image)
		default:
			if err := pinned(image); err != "" {
				t.Errorf("got FROM %q, want %s", image, err)
			}
		}
		if len(f) == 3 && strings.EqualFold(f[1], "AS") {
			names[strings.ToLower(f[2])] = true
		}
	}
}

func TestDockerfileFinalStage(t *testing.T) {
	st := stages(t)
	final := st[len(st)-1]
	var user, entrypoint string
	var expose []string
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "EXPOSE":
			expose = append(expose, strings.Fields(in.args)...)
		}
	}
	if !nonRoot(user) {
		t.Errorf("final stage: got USER %q, want a non-root uid", user)
	}
	if !strings.HasPrefix(entrypoint, `["`) || !strings.Contains(entrypoint, "picsoak") {
		t.Errorf("final stage: got ENTRYPOINT %q, want the picsoak binary in exec form", entrypoint)
	}
	slices.Sort(expose)
	if want := []string{"8080", "9853"}; !slices.Equal(expose, want) {
		t.Errorf("final stage: got EXPOSE %v, want %v", expose, want)
	}
}

func TestDockerfileBuildStage(t *testing.T) {
	build := stages(t)[0]
	image := strings.Fields(build[0].args)[0]
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindSubmatch(gomod)
	if goLine == nil {
		t.Fatal("got no go line in go.mod, want one")
	}
	if want := "golang:" + string(goLine[1]); image != want && !strings.HasPrefix(image, want+"-") {
		t.Errorf("build stage: got FROM %s, want %s (go.mod's go line, so no toolchain download)", image, want)
	}
	var run string
	for _, in := range build {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			run = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "-X main.version=", "./cmd/picsoak"} {
		if !strings.Contains(run, want) {
			t.Errorf("build stage: got go build %q, want it to contain %q", run, want)
		}
	}
}

// TestDockerignoreKeepsSources: the build stage compiles ./cmd/picsoak from the
// context, so no package it may import and neither go.mod nor go.sum may be ignored.
func TestDockerignoreKeepsSources(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, strings.TrimPrefix(line, "/"))
		}
	}
	if !slices.Contains(patterns, ".git") {
		t.Errorf("got .dockerignore %v, want .git ignored (it changes every commit and busts the cache)", patterns)
	}
	// ignored reports whether path or one of its parent directories matches a pattern.
	ignored := func(path string) string {
		for p := path; p != "." && p != "/"; p = filepath.Dir(p) {
			for _, pat := range patterns {
				if ok, _ := filepath.Match(pat, p); ok {
					return pat
				}
			}
		}
		return ""
	}
	need := []string{"go.mod", "go.sum"}
	err = filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			need = append(need, rel)
			// Files the package embeds are build inputs too.
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range regexp.MustCompile(`(?m)^//go:embed (.+)$`).FindAllSubmatch(src, -1) {
				for _, pat := range strings.Fields(string(m[1])) {
					need = append(need, filepath.Join(filepath.Dir(rel), pat))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range need {
		if pat := ignored(f); pat != "" {
			t.Errorf("got %s ignored by .dockerignore pattern %q, want it in the build context", f, pat)
		}
	}
}

// dockerfileUser is the final stage's USER, which owns the reports directory.
func dockerfileUser(t *testing.T) string {
	t.Helper()
	st := stages(t)
	user := ""
	for _, in := range st[len(st)-1] {
		if in.cmd == "USER" {
			user = in.args
		}
	}
	return user
}
