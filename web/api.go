package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/picsoak/picsoak/soak"
)

// MaxRequestBody bounds every request body the daemon reads; none of its endpoints
// takes one, so this only caps what a client can make it read.
const MaxRequestBody = 4 << 10

// LimitBodies caps every request body at MaxRequestBody.
func LimitBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
		h.ServeHTTP(w, r)
	})
}

// Status serves /api/v1/status: every cycle's schedule, state and last result as JSON.
func Status(status func() []soak.CycleStatus) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(statusView(status()))
	})
}

// statusCycle is one cycle in /api/v1/status.
type statusCycle struct {
	Cycle           string       `json:"cycle"`
	Schedule        string       `json:"schedule"`
	Enabled         bool         `json:"enabled"`
	Running         bool         `json:"running"`
	Next            *time.Time   `json:"next_run,omitempty"`
	IntervalSeconds float64      `json:"interval_seconds"`
	Last            *soak.Result `json:"last,omitempty"`
}

func statusView(sts []soak.CycleStatus) []statusCycle {
	var out []statusCycle
	for _, s := range sts {
		v := statusCycle{Cycle: s.Cycle.String(), Schedule: s.Schedule, Enabled: s.Enabled, Running: s.Running, IntervalSeconds: s.Interval.Seconds(), Last: s.Last}
		if !s.Next.IsZero() {
			next := s.Next
			v.Next = &next
		}
		out = append(out, v)
	}
	return out
}

// TokenHeader carries the API token when the Authorization header is taken by the
// web config's basic auth.
const TokenHeader = "X-Picsoak-Token"

// runEvery is the rate limit of API runs: at most one accepted run per cycle per
// runEvery, whatever the token holder asks.
const runEvery = time.Minute

// RunAPI is POST /api/v1/cycles/{cycle}/run, the only endpoint that starts load. It is
// off without PICSOAK_API_TOKEN; with it, it wants the token, compared in constant
// time (too many wrong ones lock the caller's address out for a while), accepts at
// most one run per cycle per runEvery, and takes no parameters: it enqueues the cycle
// exactly as configured, so no caller can change the target or raise a rate.
type RunAPI struct {
	sched *soak.Scheduler
	// token is the SHA-256 of PICSOAK_API_TOKEN, nil when the endpoint is off. Hashing
	// both sides makes the comparison's time independent of the lengths too.
	token []byte
	every time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu   sync.Mutex
	next map[soak.Kind]time.Time // earliest time of the next accepted run per cycle

	failures *failureLimiter
}

// NewRunAPI returns the run API over sched; an empty token turns it off.
func NewRunAPI(sched *soak.Scheduler, token string, log *slog.Logger) *RunAPI {
	a := &RunAPI{sched: sched, every: runEvery, now: time.Now, log: log, next: map[soak.Kind]time.Time{},
		failures: newFailureLimiter(maxTokenFailures, time.Minute, maxTrackedClients)}
	if token != "" {
		h := sha256.Sum256([]byte(token))
		a.token = h[:]
	}
	return a
}

// apiError writes {"error": msg} with code.
func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// requestToken returns the token of r: X-Picsoak-Token, or a Bearer Authorization.
func requestToken(r *http.Request) string {
	if t := r.Header.Get(TokenHeader); t != "" {
		return t
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}

func (a *RunAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.token == nil {
		apiError(w, http.StatusForbidden, "starting cycles over the API is off: set PICSOAK_API_TOKEN to turn it on")
		return
	}
	client := clientAddress(r)
	if wait := a.failures.wait(client, a.now()); wait > 0 {
		// The token goes unchecked until then, or the lock-out would not slow guessing.
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		apiError(w, http.StatusTooManyRequests, fmt.Sprintf("too many wrong API tokens from this address (at most %d per %s); retry in %s",
			a.failures.max, a.failures.window, wait.Round(time.Second)))
		return
	}
	got := sha256.Sum256([]byte(requestToken(r)))
	if subtle.ConstantTimeCompare(got[:], a.token) != 1 {
		if a.failures.fail(client, a.now()) {
			a.log.Warn("wrong API tokens: locking the address out of the run API", "remote", r.RemoteAddr,
				"failures", a.failures.max, "for", a.failures.window.String())
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="picsoak"`)
		apiError(w, http.StatusUnauthorized, "want the API token as 'Authorization: Bearer <token>' or '"+TokenHeader+": <token>'")
		return
	}
	n, err := io.Copy(io.Discard, r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		apiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes; this endpoint takes none", tooBig.Limit))
		return
	case err != nil:
		apiError(w, http.StatusBadRequest, "reading the request body failed")
		return
	case n > 0 || r.URL.RawQuery != "":
		apiError(w, http.StatusBadRequest, "this endpoint takes no parameters: the cycle runs exactly as configured")
		return
	}
	name := r.PathValue("cycle")
	kind, err := soak.ParseKind(name)
	if err != nil || !a.enabled(kind) {
		apiError(w, http.StatusNotFound, fmt.Sprintf("no enabled cycle %q; enabled: %s", name, a.enabledNames()))
		return
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if wait := a.next[kind].Sub(now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		apiError(w, http.StatusTooManyRequests, fmt.Sprintf("at most one %s run per %s over the API; retry in %s", kind, a.every, wait.Round(time.Second)))
		return
	}
	if !a.sched.Enqueue(kind) {
		apiError(w, http.StatusConflict, fmt.Sprintf("a %s cycle is already waiting or running", kind))
		return
	}
	a.next[kind] = now.Add(a.every)
	a.log.Info("cycle requested over the API", "cycle", kind.String(), "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]string{"cycle": kind.String(), "status": "queued"})
}

func (a *RunAPI) enabled(k soak.Kind) bool {
	for _, e := range a.sched.Enabled() {
		if e == k {
			return true
		}
	}
	return false
}

func (a *RunAPI) enabledNames() string {
	var names []string
	for _, e := range a.sched.Enabled() {
		names = append(names, e.String())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// maxTokenFailures wrong tokens per minute from one address lock it out of the run API
// for the rest of that minute; maxTrackedClients addresses are tracked at once.
const (
	maxTokenFailures  = 10
	maxTrackedClients = 1024
)

// clientAddress is the host of r's peer: the address a lock-out applies to.
func clientAddress(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// failureLimiter counts wrong tokens per client address in fixed windows. Memory stays
// bounded: past tracked addresses, new ones share a single window, so a flood from many
// addresses is slowed as a whole instead of growing the table.
type failureLimiter struct {
	max     int
	window  time.Duration
	tracked int

	mu       sync.Mutex
	windows  map[string]*failureWindow
	overflow failureWindow
}

type failureWindow struct {
	start    time.Time
	failures int
}

func newFailureLimiter(limit int, window time.Duration, tracked int) *failureLimiter {
	return &failureLimiter{max: limit, window: window, tracked: tracked, windows: map[string]*failureWindow{}}
}

// wait is how long client must wait before its token is checked again, 0 if not at all.
func (l *failureLimiter) wait(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windowOf(client, now, false)
	if w == nil || w.failures < l.max {
		return 0
	}
	return max(w.start.Add(l.window).Sub(now), 0)
}

// fail records a wrong token from client and reports whether it used up the window.
func (l *failureLimiter) fail(client string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windowOf(client, now, true)
	if now.Sub(w.start) >= l.window {
		*w = failureWindow{start: now}
	}
	w.failures++
	return w.failures == l.max
}

// windowOf returns client's window, the shared one when the table is full even of
// current windows, or, for a client not tracked yet, nil unless create.
func (l *failureLimiter) windowOf(client string, now time.Time, create bool) *failureWindow {
	if w := l.windows[client]; w != nil {
		return w
	}
	if len(l.windows) >= l.tracked {
		maps.DeleteFunc(l.windows, func(_ string, w *failureWindow) bool { return now.Sub(w.start) >= l.window })
	}
	switch {
	case len(l.windows) >= l.tracked:
		return &l.overflow
	case !create:
		return nil
	}
	w := &failureWindow{start: now}
	l.windows[client] = w
	return w
}
