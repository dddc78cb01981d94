package httptarget

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

// The weighted round robin spreads a weight-3 endpoint over 3 of every 4 requests.
func TestWeightedOrder(t *testing.T) {
	order := weightedOrder([]config.Endpoint{{Weight: 1}, {Weight: 3}})
	if len(order) != 4 || count(order, 1) != 3 || order[0] == order[1] && order[1] == order[2] {
		t.Errorf("order = %v, want 4 slots, 3 of them the weighted endpoint, interleaved", order)
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
			cfg, err := config.Load([]string{"PICSOAK_TARGET_EXPECT_BODY=" + tt.substring, "PICSOAK_TARGET_EXPECT_JSON=" + tt.json})
			if err != nil {
				t.Fatal(err)
			}
			err = verify(cfg.Target.Check, []byte(tt.body))
			if got := errText(err); got != tt.wantErr {
				t.Errorf("got %q, want %q", got, tt.wantErr)
			}
		})
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

	cfg, err := config.Load([]string{"PICSOAK_TARGETS_FILE=" + file, "PICSOAK_TARGET_BODY_TEMPLATE=true", `PICSOAK_TARGET_EXPECT_JSON=status="accepted"`,
		"PICSOAK_TARGET_CLIENT=" + client, "PICSOAK_TARGET_SETTLE_TIME=0s", "PICSOAK_STREAMS_COUNT=2", "PICSOAK_STREAMS_REQUESTS=40"})
	if err != nil {
		t.Fatal(err)
	}
	target := New(cfg.Target, 4, "picsoak-test")
	t.Cleanup(target.CloseIdleConnections)
	r := &soak.Runner{Plan: cfg.Plan, Target: target, TargetName: cfg.Target.Name()}
	res := r.Run(context.Background(), soak.Streams)

	mu.Lock()
	defer mu.Unlock()
	if hits["POST /events"] != 60 || hits["GET /broken"] != 20 {
		t.Errorf("hits %v, want 60 POST /events and 20 GET /broken (weights 3:1 over 80)", hits)
	}
	if len(bodies) != 60 {
		t.Errorf("%d distinct bodies, want 60: every templated body differs", len(bodies))
	}
	if res.Requests[soak.OutcomeOK] != 60 || res.Requests[soak.OutcomeHTTPError] != 20 {
		t.Errorf("outcomes %v, want 60 ok and the 20 rejected replies as http_error", res.Requests)
	}
	if !strings.Contains(res.Errors["http_error"], `want "accepted"`) {
		t.Errorf("example error %q, want the failed check", res.Errors["http_error"])
	}
	// Each endpoint's own figures, named by method and path, and every reply's status.
	if len(res.Endpoints) != 2 {
		t.Fatalf("endpoints %+v, want the file's two", res.Endpoints)
	}
	if e := res.Endpoints[0]; e.Name != "POST /events" || e.Requests[soak.OutcomeOK] != 60 || e.SuccessRatio != 1 || e.Codes["200"] != 60 || e.P99Seconds <= 0 {
		t.Errorf("first endpoint %+v, want POST /events with 60 ok 200s and a p99", e)
	}
	if e := res.Endpoints[1]; e.Name != "GET /broken" || e.Requests[soak.OutcomeHTTPError] != 20 || e.SuccessRatio != 0 || e.Codes["200"] != 20 {
		t.Errorf("second endpoint %+v, want GET /broken with 20 failed checks of 200 replies", e)
	}
	if res.Codes["200"] != 80 || len(res.Codes) != 1 {
		t.Errorf("codes %v, want 80 replies of 200", res.Codes)
	}
	if !strings.Contains(cfg.Target.Name(), "(+1 more endpoints)") {
		t.Errorf("name %q, want the endpoint count", cfg.Target.Name())
	}
}
