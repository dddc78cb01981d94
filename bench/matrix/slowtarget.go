package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// slowHandler is the scale stage's target: an HTTP/1.1 handler that answers every
// request 200 after a fixed delay, so that rate × delay requests are in flight. The
// wait is a runtime timer the handler's goroutine parks on, never a spin: a
// connection waiting for its reply costs the target a parked goroutine and no CPU,
// so 10,000 of them fit on one core beside the replies it sends. late counts how
// late each timer woke the handler: the target's own share of a generator's p99.
func slowHandler(delay time.Duration, late *lateness) http.Handler {
	body := []byte("ok")
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		due := time.Now().Add(delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done(): // the generator gave up or closed the connection
			t.Stop()
			return
		}
		late.add(time.Since(due))
		h := w.Header()
		h["Content-Type"] = []string{"text/plain"}
		h["Content-Length"] = []string{length}
		w.Write(body)
	})
}

// latenessPath is where the slow target says how late its replies were since the
// last time it was asked, and starts counting anew.
const latenessPath = "/.lateness"

// lateness counts replies by how late the target's timer woke their handler, in
// whole milliseconds up to a second (the last bucket holds everything later).
// Adding is one atomic increment, so counting costs the target nothing it would
// show.
type lateness struct {
	ms  [1001]atomic.Int64
	gcs atomic.Uint32 // collections finished when counting began
}

// targetMemoryLimit is the slow target's soft memory limit: a run at 10,000 req/s
// leaves about 25 MB of garbage a second, 1.2 GB for a run and picsoak's heap pass
// at 24 s each.
const targetMemoryLimit = 4 << 30

// gcCount is the number of garbage collections the runtime has finished.
func gcCount() uint32 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.NumGC
}

func (l *lateness) add(d time.Duration) {
	l.ms[min(max(d/time.Millisecond, 0), time.Duration(len(l.ms)-1))].Add(1)
}

// targetLateness is what the slow target reports at latenessPath.
type targetLateness struct {
	Replies int64 `json:"replies"`
	// P99Ms is the 99th percentile of the lateness in whole ms: a reply counted in
	// bucket n woke n to n+1 ms late.
	P99Ms   int64 `json:"p99_ms"`
	Over5ms int64 `json:"over_5ms"` // replies more than 5 ms late
	// GCs counts the target's garbage collections meanwhile: 0 unless its heap
	// reached the memory limit.
	GCs uint32 `json:"gcs"`
}

// take reports the counts and resets them.
func (l *lateness) take() targetLateness {
	var counts [len(l.ms)]int64
	t := targetLateness{GCs: gcCount() - l.gcs.Load()}
	for i := range l.ms {
		counts[i] = l.ms[i].Swap(0)
		t.Replies += counts[i]
		if i > 5 {
			t.Over5ms += counts[i]
		}
	}
	var seen int64
	for i, c := range counts {
		if seen += c; c > 0 && seen*100 >= t.Replies*99 {
			t.P99Ms = int64(i)
			break
		}
	}
	return t
}

// serveSlowTarget serves slowHandler on addr until SIGTERM or SIGINT. It prints
// "listening" on stdout once it accepts connections, which is how the bench knows it
// may start a generator.
func serveSlowTarget(addr string, delay time.Duration) error {
	// No garbage collection during a run: with 10,000 connections a collection's
	// mark phase takes the target's one core for 120 – 180 ms, and the replies due
	// meanwhile went out up to 130 ms late (p99), in every generator's p99. The bench
	// asks for the lateness between runs, which collects the garbage then; the
	// memory limit is the backstop, and a collection it forced would show in the
	// count of collections during the run.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(targetMemoryLimit)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	late := &lateness{}
	mux := http.NewServeMux()
	mux.Handle("/", slowHandler(delay, late))
	mux.HandleFunc(latenessPath, func(w http.ResponseWriter, _ *http.Request) {
		t := late.take()
		// The garbage of the run that ended goes now, before the next one starts.
		debug.FreeOSMemory()
		late.gcs.Store(gcCount())
		json.NewEncoder(w).Encode(t)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// Connections stay open between a generator's requests, however far apart
		// (at 50 in flight a connection sends one request every delay × headroom).
		IdleTimeout:    time.Minute,
		MaxHeaderBytes: 8 << 10,
	}
	fmt.Fprintln(os.Stdout, "listening")
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
