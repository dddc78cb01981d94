package soak

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

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
	if order := weightedOrder(got); len(order) != 4 || count(order, 1) != 3 {
		t.Errorf("order = %v, want 4 slots, 3 of them the weighted target", order)
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
	tmpl, err := parseBodyTemplate([]byte(`{"seq":{{seq}},"stream":{{ stream }},"at":{{timestamp}},"id":"{{random}}"}`))
	if err != nil {
		t.Fatal(err)
	}
	st := templateState{stream: 4, rand: 42}
	var ids []string
	var buf []byte
	for i := 1; i <= 3; i++ {
		buf = tmpl.render(buf[:0], &st, 1700000000000000000)
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
	if n := testing.AllocsPerRun(100, func() { buf = tmpl.render(buf[:0], &st, 1) }); n != 0 {
		t.Errorf("render allocates %v times, want 0 into a reused buffer", n)
	}
	if _, err := parseBodyTemplate([]byte(`{{user}}`)); err == nil || !strings.Contains(err.Error(), "unknown placeholder {{user}}") {
		t.Errorf("got %v, want the unknown placeholder named", err)
	}
}

func TestResponseCheck(t *testing.T) {
	tests := []struct {
		name, substring, json, body, wantErr string
	}{
		{"substring present", "accepted", "", `{"accepted":true}`, ""},
		{"substring missing", "accepted", "", `{"rejected":true}`, `reply body lacks "accepted"`},
		{"json field equal", "", `data.ok=true`, `{"data":{"ok":true}}`, ""},
		{"json field different", "", `status="accepted"`, `{"status":"queued"}`, `reply JSON status is "queued", want "accepted"`},
		{"json field absent", "", `status="accepted"`, `{"state":1}`, "reply JSON has no status"},
		{"not json", "", `status=1`, `<html>`, "reply body is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newResponseCheck(tt.substring, tt.json)
			if err != nil {
				t.Fatal(err)
			}
			err = c.verify([]byte(tt.body))
			if got := errText(err); got != tt.wantErr {
				t.Errorf("got %q, want %q", got, tt.wantErr)
			}
		})
	}
	if _, err := newResponseCheck("", "status"); err == nil {
		t.Error("EXPECT_JSON without =value accepted, want an error")
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A targets file spreads a cycle over its endpoints by weight, templated bodies
// differ per request, and a wrong reply body counts as http_error; with both clients.
func TestMultiEndpointWorkload(t *testing.T) { forEachClient(t, testMultiEndpointWorkload) }

func testMultiEndpointWorkload(t *testing.T, client string) {
	var mu sync.Mutex
	hits := map[string]int{}
	bodies := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits[r.Method+" "+r.URL.Path]++
		if len(b) > 0 {
			bodies[string(b)] = true
		}
		mu.Unlock()
		if r.URL.Path == "/broken" {
			io.WriteString(w, `{"status":"rejected"}`)
			return
		}
		io.WriteString(w, `{"status":"accepted"}`)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "event.json"), []byte(`{"seq":{{seq}},"id":"{{random}}"}`), 0o644)
	file := filepath.Join(dir, "targets.txt")
	os.WriteFile(file, []byte("# weight: 3\nPOST "+srv.URL+"/events\n@event.json\n\nGET "+srv.URL+"/broken\n"), 0o644)

	cfg := testConfig(srv.URL)
	cfg.Target.TargetsFile, cfg.Target.BodyTemplate, cfg.Target.ExpectJSON, cfg.Target.Client = file, true, `status="accepted"`, client
	target, err := NewHTTPTarget(cfg.Target, 4, "picsoak-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(target.CloseIdleConnections)
	cfg.Streams.Count, cfg.Streams.Requests = 2, 40
	r := &Runner{Config: cfg, Target: target, TargetName: target.Name()}
	res := r.Run(context.Background(), Streams)

	mu.Lock()
	defer mu.Unlock()
	if hits["POST /events"] != 60 || hits["GET /broken"] != 20 {
		t.Errorf("hits %v, want 60 POST /events and 20 GET /broken (weights 3:1 over 80)", hits)
	}
	if len(bodies) != 60 {
		t.Errorf("%d distinct bodies, want 60: every templated body differs", len(bodies))
	}
	if res.Requests[OutcomeOK] != 60 || res.Requests[OutcomeHTTPError] != 20 {
		t.Errorf("outcomes %v, want 60 ok and the 20 rejected replies as http_error", res.Requests)
	}
	if !strings.Contains(res.Errors["http_error"], `want "accepted"`) {
		t.Errorf("example error %q, want the failed check", res.Errors["http_error"])
	}
	if !strings.Contains(target.Name(), "(+1 more endpoints)") {
		t.Errorf("name %q, want the endpoint count", target.Name())
	}
}

func TestTargetsFileVariable(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "targets.txt")
	os.WriteFile(good, []byte("GET http://pic:8080/a\n\nGET http://pic:8080/b\n"), 0o644)
	c, err := LoadConfig([]string{"PICSOAK_TARGETS_FILE=" + good})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := c.Target.Endpoints(); err != nil || len(e) != 2 {
		t.Errorf("endpoints %v, %v; want the file's two", e, err)
	}
	_, err = LoadConfig([]string{"PICSOAK_TARGETS_FILE=" + filepath.Join(dir, "missing.txt"), "PICSOAK_TARGET_EXPECT_JSON=status"})
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 2 ||
		!strings.HasPrefix(ce.Problems[0], `PICSOAK_TARGETS_FILE="`+filepath.Join(dir, "missing.txt")+`": open `) ||
		!strings.HasPrefix(ce.Problems[1], `PICSOAK_TARGET_EXPECT_JSON="status": want path=value`) {
		t.Errorf("got %v, want both variables named", err)
	}
}
