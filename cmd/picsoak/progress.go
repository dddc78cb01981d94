package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picsoak/picsoak/soak"
)

// progress counts the running cycle's requests as they happen, for the display of
// `picsoak run`. Its observer methods are on the hot path: an atomic add, nothing else.
type progress struct {
	soak.NopObserver
	requests atomic.Int64
	errors   atomic.Int64
	started  atomic.Int64 // cycle start, Unix nanoseconds
	kind     atomic.Int32 // the running cycle's soak.Kind, -1 between cycles
	index    atomic.Int32 // the running cycle's position in the run, from 1
	total    int

	// mu serialises writes to the terminal: the display line and the log lines that
	// must not be drawn over it.
	mu    sync.Mutex
	out   io.Writer
	tty   bool
	drawn bool // a progress line is on screen and must be cleared before other output
}

func newProgress(out io.Writer, tty bool, total int) *progress {
	p := &progress{out: out, tty: tty, total: total}
	p.kind.Store(-1)
	return p
}

// CycleStarted implements soak.Observer.
func (p *progress) CycleStarted(kind soak.Kind) {
	p.requests.Store(0)
	p.errors.Store(0)
	p.started.Store(time.Now().UnixNano())
	p.index.Add(1)
	p.kind.Store(int32(kind))
}

// ObserveRequest implements soak.Observer.
func (p *progress) ObserveRequest(_ soak.Kind, r soak.Reply, _ time.Duration) {
	p.requests.Add(1)
	if r.Outcome != soak.OutcomeOK {
		p.errors.Add(1)
	}
}

// CycleFinished implements soak.Observer.
func (p *progress) CycleFinished(*soak.Result) { p.kind.Store(-1) }

// progressLine is one report of the running cycle.
func progressLine(kind soak.Kind, index, total int, elapsed time.Duration, requests, errors int64, rps float64) string {
	return fmt.Sprintf("picsoak run: %s (%d/%d) %5.1fs  %d requests  %.0f req/s  %d errors",
		kind, index, total, elapsed.Seconds(), requests, rps, errors)
}

// run draws the display until stop is closed: on a terminal one line rewritten every
// 250 ms, elsewhere (CI logs) one plain line every `every`. req/s is over the last
// period, so it shows what PIC does now, not the cycle's average.
func (p *progress) run(stop <-chan struct{}, every time.Duration) {
	if p.tty {
		every = 250 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var lastN int64
	lastT := time.Now()
	lastKind := int32(-1)
	for {
		select {
		case <-stop:
			p.clear()
			return
		case now := <-tick.C:
			kind := p.kind.Load()
			if kind < 0 {
				continue
			}
			n := p.requests.Load()
			if kind != lastKind || n < lastN {
				lastN, lastT, lastKind = 0, time.Unix(0, p.started.Load()), kind
			}
			rps := 0.0
			if d := now.Sub(lastT); d > 0 {
				rps = float64(n-lastN) / d.Seconds()
			}
			// On a terminal the rate is smoothed over about a second; the line still
			// redraws every tick.
			if !p.tty || now.Sub(lastT) >= time.Second {
				lastN, lastT = n, now
			}
			line := progressLine(soak.Kind(kind), int(p.index.Load()), p.total, now.Sub(time.Unix(0, p.started.Load())), n, p.errors.Load(), rps)
			p.mu.Lock()
			if p.tty {
				fmt.Fprintf(p.out, "\r\x1b[K%s", line)
				p.drawn = true
			} else {
				fmt.Fprintln(p.out, line)
			}
			p.mu.Unlock()
		}
	}
}

func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		io.WriteString(p.out, "\r\x1b[K")
		p.drawn = false
	}
}

// Write lets the logger share the terminal: it clears the progress line first, and
// the next tick draws it again below the log line.
func (p *progress) Write(b []byte) (int, error) {
	p.clear()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// isTerminal reports whether w is a character device, i.e. someone is watching.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
