// Package picsim is a stand-in for PIC, the service picsoak soaks: an HTTP endpoint
// whose latency and error ratio can be changed at runtime, to try picsoak without PIC
// and to inject regressions in tests.
package picsim

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Settings are the simulator's behaviour.
type Settings struct {
	// Latency is the base time before each reply.
	Latency time.Duration
	// Jitter adds a uniformly random extra in [0, Jitter).
	Jitter time.Duration
	// ErrorRatio is the share of requests answered with ErrorStatus, 0..1.
	ErrorRatio float64
	// ErrorStatus is the status of injected errors; 0 means 500.
	ErrorStatus int
}

// Validate names the first invalid field.
func (s Settings) Validate() error {
	switch {
	case s.Latency < 0:
		return fmt.Errorf("latency %s: want a duration >= 0", s.Latency)
	case s.Jitter < 0:
		return fmt.Errorf("jitter %s: want a duration >= 0", s.Jitter)
	case s.ErrorRatio < 0 || s.ErrorRatio > 1:
		return fmt.Errorf("error_ratio %g: want a ratio from 0 to 1", s.ErrorRatio)
	case s.ErrorStatus != 0 && (s.ErrorStatus < 100 || s.ErrorStatus > 599):
		return fmt.Errorf("error_status %d: want an HTTP status 100-599", s.ErrorStatus)
	}
	return nil
}

// settingsJSON is the control endpoint's form of Settings: durations as strings such
// as "20ms". Absent fields are left as they are.
type settingsJSON struct {
	Latency     *string  `json:"latency,omitempty"`
	Jitter      *string  `json:"jitter,omitempty"`
	ErrorRatio  *float64 `json:"error_ratio,omitempty"`
	ErrorStatus *int     `json:"error_status,omitempty"`
}

func (s Settings) toJSON() settingsJSON {
	l, j := s.Latency.String(), s.Jitter.String()
	return settingsJSON{Latency: &l, Jitter: &j, ErrorRatio: &s.ErrorRatio, ErrorStatus: &s.ErrorStatus}
}

// Simulator is the PIC stand-in. Its zero value is not usable; call New.
type Simulator struct {
	mu       sync.RWMutex
	settings Settings

	registry *prometheus.Registry
	requests *prometheus.CounterVec
}

// New returns a simulator with the given settings, which must be valid.
func New(s Settings) *Simulator {
	sim := &Simulator{settings: s, registry: prometheus.NewRegistry()}
	sim.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "picsim_requests_total",
		Help: "Requests the PIC simulator answered, by status code.",
	}, []string{"code"})
	sim.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		sim.requests,
	)
	return sim
}

// Settings returns the current settings.
func (s *Simulator) Settings() Settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.settings
}

// Set replaces the settings.
func (s *Simulator) Set(set Settings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	s.settings = set
	s.mu.Unlock()
	return nil
}

// Handler serves the simulated PIC: /control (GET the settings, PUT or POST a JSON
// object with any of latency, jitter, error_ratio, error_status), /metrics, /healthz,
// and every other path as PIC's event endpoint.
func (s *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/control", s.control)
	mux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/", s.event)
	return mux
}

func (s *Simulator) event(w http.ResponseWriter, r *http.Request) {
	set := s.Settings()
	// Drain the request body as a real service would before it answers.
	io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	delay := set.Latency
	if set.Jitter > 0 {
		delay += rand.N(set.Jitter)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if set.ErrorRatio > 0 && rand.Float64() < set.ErrorRatio {
		status := set.ErrorStatus
		if status == 0 {
			status = http.StatusInternalServerError
		}
		s.requests.WithLabelValues(strconv.Itoa(status)).Inc()
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"injected by the PIC simulator"}`)
		return
	}
	s.requests.WithLabelValues("200").Inc()
	io.WriteString(w, `{"accepted":true}`)
}

func (s *Simulator) control(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut, http.MethodPost:
		s.mu.Lock()
		next, err := s.settings.apply(io.LimitReader(r.Body, 64<<10))
		if err == nil {
			s.settings = next
		}
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	default:
		w.Header().Set("Allow", "GET, PUT, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.Settings().toJSON())
}

// apply returns s changed by the JSON object in body.
func (s Settings) apply(body io.Reader) (Settings, error) {
	var in settingsJSON
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return s, fmt.Errorf("control: want a JSON object with latency, jitter, error_ratio or error_status: %v", err)
	}
	var err error
	if in.Latency != nil {
		if s.Latency, err = time.ParseDuration(*in.Latency); err != nil {
			return s, fmt.Errorf("latency %q: want a duration such as 20ms", *in.Latency)
		}
	}
	if in.Jitter != nil {
		if s.Jitter, err = time.ParseDuration(*in.Jitter); err != nil {
			return s, fmt.Errorf("jitter %q: want a duration such as 5ms", *in.Jitter)
		}
	}
	if in.ErrorRatio != nil {
		s.ErrorRatio = *in.ErrorRatio
	}
	if in.ErrorStatus != nil {
		s.ErrorStatus = *in.ErrorStatus
	}
	return s, s.Validate()
}
