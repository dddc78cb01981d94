package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/config"
)

const testToken = "0123456789abcdef-test-token"

// newTestRunAPI returns the run API, with testToken and its clock reading *now, over a
// scheduler of environ's configuration that never starts, so accepted runs stay pending.
func newTestRunAPI(t *testing.T, environ []string, now *time.Time) (*RunAPI, *soak.Scheduler) {
	t.Helper()
	cfg, err := config.Load(environ)
	if err != nil {
		t.Fatal(err)
	}
	sched := soak.NewScheduler(&soak.Runner{Plan: cfg.Plan})
	api := NewRunAPI(sched, testToken, slog.New(slog.DiscardHandler))
	api.now = func() time.Time { return *now }
	return api, sched
}

func TestRunAPI(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	api, sched := newTestRunAPI(t, []string{"PICSOAK_BURST_SCHEDULE=off"}, &now)
	off := NewRunAPI(sched, "", slog.New(slog.DiscardHandler))
	mux := func(a *RunAPI) http.Handler {
		m := http.NewServeMux()
		m.Handle("POST /api/v1/cycles/{cycle}/run", a)
		return LimitBodies(m)
	}
	bearer := map[string]string{"Authorization": "Bearer " + testToken}

	// The rows run in order against one scheduler and one clock: accepted runs stay
	// pending because the scheduler is never started.
	for _, tc := range []struct {
		name    string
		api     *RunAPI
		method  string
		path    string
		header  map[string]string
		body    string
		advance time.Duration // added to the clock before the request
		want    int
		wantIn  string // in the body
	}{
		{name: "off without PICSOAK_API_TOKEN, even with a token", api: off, header: bearer,
			want: http.StatusForbidden, wantIn: "PICSOAK_API_TOKEN"},
		{name: "no credentials", want: http.StatusUnauthorized, wantIn: "Bearer"},
		{name: "a wrong token", header: map[string]string{"Authorization": "Bearer " + testToken + "x"}, want: http.StatusUnauthorized},
		{name: "a prefix of the token", header: map[string]string{"Authorization": "Bearer " + testToken[:8]}, want: http.StatusUnauthorized},
		{name: "the token as basic auth is not a bearer token", header: map[string]string{"Authorization": "Basic " + testToken}, want: http.StatusUnauthorized},
		{name: "a query parameter cannot change anything", path: "/api/v1/cycles/sustained/run?rate=100000", header: bearer,
			want: http.StatusBadRequest, wantIn: "no parameters"},
		{name: "nor can a body", header: bearer, body: `{"target":"http://elsewhere/"}`, want: http.StatusBadRequest, wantIn: "no parameters"},
		{name: "a body over the bound", header: bearer, body: strings.Repeat("x", MaxRequestBody+1),
			want: http.StatusRequestEntityTooLarge, wantIn: "4096"},
		{name: "an unknown cycle", path: "/api/v1/cycles/everything/run", header: bearer, want: http.StatusNotFound, wantIn: "sustained, streams"},
		{name: "a cycle whose schedule is off", path: "/api/v1/cycles/burst/run", header: bearer, want: http.StatusNotFound},
		{name: "GET does not start load", method: http.MethodGet, header: bearer, want: http.StatusMethodNotAllowed},
		{name: "accepted", header: bearer, want: http.StatusAccepted, wantIn: `"status":"queued"`},
		{name: "again within the minute", header: bearer, advance: 20 * time.Second,
			want: http.StatusTooManyRequests, wantIn: "retry in 40s"},
		{name: "after the minute, still pending", header: bearer, advance: 40 * time.Second,
			want: http.StatusConflict, wantIn: "already waiting or running"},
		{name: "another cycle has its own limit; the token may come in X-Picsoak-Token", path: "/api/v1/cycles/streams/run",
			header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz", TokenHeader: testToken}, want: http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.api
			if a == nil {
				a = api
			}
			method, path := tc.method, tc.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/api/v1/cycles/sustained/run"
			}
			now = now.Add(tc.advance)
			req := httptest.NewRequest(method, path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			mux(a).ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.want || !strings.Contains(string(body), tc.wantIn) {
				t.Errorf("%s %s: got %d %s, want %d with %q", method, path, rec.Code, body, tc.want, tc.wantIn)
			}
			if tc.want == http.StatusTooManyRequests && rec.Header().Get("Retry-After") != "40" {
				t.Errorf("Retry-After: got %q, want 40", rec.Header().Get("Retry-After"))
			}
			if tc.want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("WWW-Authenticate: got none, want a Bearer challenge")
			}
		})
	}
}

func TestRunAPILocksOutAnAddressAfterWrongTokens(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	api, _ := newTestRunAPI(t, nil, &now)
	post := func(from, cycle, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/cycles/"+cycle+"/run", nil)
		req.SetPathValue("cycle", cycle)
		req.RemoteAddr = from
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		return rec
	}

	start := now // the address's window starts with its first wrong token
	for i := range maxTokenFailures {
		now = start.Add(time.Duration(i) * time.Second)
		if rec := post("192.0.2.1:40000", "sustained", "wrong-token-guess"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: got %d, want 401", i+1, rec.Code)
		}
	}
	now = start.Add(20 * time.Second)
	// Locked out, even with the right token from another port, so guessing cannot go on.
	rec := post("192.0.2.1:40001", "sustained", testToken)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "40" || !strings.Contains(rec.Body.String(), "wrong API tokens") {
		t.Errorf("after %d wrong tokens: got %d (Retry-After %q) %s, want 429 with Retry-After 40", maxTokenFailures, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	// Another address is not locked out.
	if rec := post("198.51.100.7:5000", "sustained", testToken); rec.Code != http.StatusAccepted {
		t.Errorf("another address with the right token: got %d %s, want 202", rec.Code, rec.Body)
	}
	// The window over, the address's right token counts again.
	now = now.Add(40 * time.Second)
	if rec := post("192.0.2.1:40002", "streams", testToken); rec.Code != http.StatusAccepted {
		t.Errorf("after the window: got %d %s, want 202", rec.Code, rec.Body)
	}
}

func TestFailureLimiterStaysBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newFailureLimiter(3, time.Minute, 2)
	l.fail("a", now)
	l.fail("b", now)
	// The table is full: every other address shares one window.
	for _, c := range []string{"c", "d", "e"} {
		l.fail(c, now)
	}
	if len(l.windows) != 2 {
		t.Fatalf("tracked %d addresses, want at most 2", len(l.windows))
	}
	if l.wait("f", now) == 0 {
		t.Error("an untracked address may try although the shared window is used up")
	}
	if l.wait("a", now) != 0 {
		t.Error("a tracked address with one failure is locked out by the others")
	}
	// Once the windows end, a new address gets a window of its own again.
	later := now.Add(time.Minute)
	if l.wait("f", later) != 0 {
		t.Error("the shared window did not end")
	}
	l.fail("f", later)
	if _, ok := l.windows["f"]; !ok || len(l.windows) > 2 {
		t.Errorf("after expiry: windows %v, want f tracked and at most 2", l.windows)
	}
}
