package picsim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSimulatorLatencyErrorsAndControl(t *testing.T) {
	sim := New(Settings{Latency: 20 * time.Millisecond})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)

	start := time.Now()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if el := time.Since(start); resp.StatusCode != 200 || el < 20*time.Millisecond {
		t.Errorf("got %d after %s, want 200 after ≥ 20ms", resp.StatusCode, el)
	}

	// Inject errors through the control endpoint, as the end-to-end tests do.
	put := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/control", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := put(`{"latency":"0s","error_ratio":1,"error_status":503}`); code != 200 || !strings.Contains(body, `"error_ratio":1`) {
		t.Fatalf("PUT /control = %d %s, want 200 with the new settings", code, body)
	}
	for range 5 {
		resp, err := http.Post(srv.URL+"/events", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Errorf("status = %d, want the injected 503", resp.StatusCode)
		}
	}
	if s := sim.Settings(); s.ErrorRatio != 1 || s.Latency != 0 || s.ErrorStatus != 503 {
		t.Errorf("settings = %+v, want error ratio 1, no latency, 503", s)
	}

	// Bad control input is refused with the field named, and changes nothing.
	for body, want := range map[string]string{
		`{"error_ratio":2}`:     "error_ratio 2: want a ratio from 0 to 1",
		`{"latency":"soon"}`:    `latency "soon": want a duration such as 20ms`,
		`{"latencyy":"1ms"}`:    "unknown field",
		`{"error_status":1000}`: "error_status 1000",
	} {
		if code, got := put(body); code != 400 || !strings.Contains(got, want) {
			t.Errorf("PUT %s = %d %q, want 400 containing %q", body, code, got, want)
		}
	}
	if s := sim.Settings(); s.ErrorRatio != 1 {
		t.Errorf("settings changed by a refused request: %+v", s)
	}
}

func TestSimulatorServesItsOwnMetrics(t *testing.T) {
	srv := httptest.NewServer(New(Settings{}).Handler())
	t.Cleanup(srv.Close)
	http.Get(srv.URL + "/events")
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"process_resident_memory_bytes", "go_goroutines", "process_cpu_seconds_total", `picsim_requests_total{code="200"} 1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
