package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/picsoak/picsoak/soak"
)

const testToken = "0123456789abcdef-test-token"

func TestRunAPI(t *testing.T) {
	cfg, err := soak.LoadConfig([]string{"PICSOAK_BURST_SCHEDULE=off"})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := soak.NewScheduler(&soak.Runner{Config: cfg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	api := newRunAPI(sched, testToken, slog.New(slog.DiscardHandler))
	api.now = func() time.Time { return now }
	off := newRunAPI(sched, "", slog.New(slog.DiscardHandler))
	mux := func(a *runAPI) http.Handler {
		m := http.NewServeMux()
		m.Handle("POST /api/v1/cycles/{cycle}/run", a)
		return limitBodies(m)
	}
	bearer := map[string]string{"Authorization": "Bearer " + testToken}

	// The rows run in order against one scheduler and one clock: accepted runs stay
	// pending because the scheduler is never started.
	for _, tc := range []struct {
		name    string
		api     *runAPI
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
		{name: "a body over the bound", header: bearer, body: strings.Repeat("x", maxRequestBody+1),
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
