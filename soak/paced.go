package soak

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picsoak/picsoak/soak/pace"
)

// pacedPool is the workers of an open-model run and the recorders they share,
// which split requests into segments by due time. They are made once per cycle, so the
// steps of a capacity cycle reuse their connections and histograms.
type pacedPool struct {
	senders []Sender
	recs    []*sharedRecorder
}

// pacedWorkers returns n workers whose recorders have the given segments.
func (c *cycle) pacedWorkers(n, segments int) pacedPool {
	ws := pacedPool{senders: make([]Sender, n), recs: c.sharedRecorders(n, segments)}
	for i := range ws.senders {
		ws.senders[i] = c.target.NewSender(-1)
	}
	for _, r := range ws.recs {
		r.TrackService()
	}
	return ws
}

// pacedRun is what one open-model run sent; its measurements are in its workers'
// recorders.
type pacedRun struct {
	workers             pacedPool
	planned, sent, late int64
	stalls              stalls
	// sendTime is how long sending took, at least the configured duration.
	sendTime time.Duration
	// cpuShare is the share of the CPU picsoak may use that it kept busy meanwhile, 0
	// when unknown.
	cpuShare float64
}

// stallMin is how much longer than asked the pacer must sleep for the wait to count
// as a stall of picsoak: well past the runtime timers' millisecond granularity.
const stallMin = 2 * time.Millisecond

// stalls counts the pacer's oversleeps of more than stallMin. The requests due
// meanwhile go out late and their latency, counted from the intended start, includes
// picsoak's stall (their service time does not): the host took picsoak's CPU (a VM's
// steal, a paused VM) or picsoak kept it busy itself.
type stalls struct {
	count   int64
	longest time.Duration
}

func (s *stalls) note(overslept time.Duration) {
	if overslept > stallMin {
		s.count++
		s.longest = max(s.longest, overslept)
	}
}

// addStalls adds an open-model run's stalls to the cycle's.
func (r *Result) addStalls(s stalls) {
	r.GeneratorStalls += s.count
	r.GeneratorLongestStallSeconds = max(r.GeneratorLongestStallSeconds, s.longest.Seconds())
}

// stallFinding names picsoak's own stalls: the latency quantiles include them.
func (c *cycle) stallFinding() {
	if c.res.GeneratorStalls == 0 {
		return
	}
	c.finding("picsoak itself stalled: its pacer woke over %s late (stalls: %d, the longest %s), so the requests due meanwhile went out late and their latency counts picsoak's stall, not PIC's (their service time does not). Its CPU was busy (generator_cpu_share) or the host took it (steal time, a paused VM).",
		stallMin, c.res.GeneratorStalls, Seconds(c.res.GeneratorLongestStallSeconds))
}

// cpuBoundShare is the CPU share from which a generator-limited run is put down to
// picsoak's CPU rather than its workers: a core that busy queues the replies and the
// pacer behind each other however many workers wait.
const cpuBoundShare = 0.8

// cpuBound says picsoak's CPU, not its workers, was the limit of a run that kept that
// share of it busy.
func cpuBound(share float64) bool { return share >= cpuBoundShare }

// cpuBoundAdvice is a generator-limited finding's advice when picsoak's CPU was the
// limit; lower names what to lower instead.
func cpuBoundAdvice(share float64, lower string) string {
	return fmt.Sprintf("Its workers waited for picsoak's CPU, %.0f%% busy of what it may use (GOMAXPROCS %d), so more workers would not help: give picsoak more CPU (a core of its own) or lower %s.",
		100*share, runtime.GOMAXPROCS(0), lower)
}

// merged returns a new recorder holding every request of the run.
func (r pacedRun) merged() *recorder { return mergeRecorders(r.workers.recs) }

// generatorLimited says more than generatorLimitedRatio of the run's requests started
// late: picsoak, not the target, set the pace.
func (r pacedRun) generatorLimited() bool {
	return r.sent > 0 && float64(r.late)/float64(r.sent) > generatorLimitedRatio
}

type pacedToken struct {
	due time.Time
	seg int
}

// paced runs the open model for d: request i is due at start + i/rate whatever
// happened to earlier ones, and its latency counts from that due time, so a stalled
// target shows up in the quantiles instead of slowing the schedule (coordinated
// omission). At most len(ws) requests are in flight; one that waits longer than
// lateAfter for a free worker counts as late. Requests are recorded into the workers'
// recorders, in the segment of their due time; callers reset them between runs.
func (c *cycle) paced(ctx context.Context, ws pacedPool, rate float64, d time.Duration) pacedRun {
	pacer := pace.Constant{Rate: rate}
	run := pacedRun{workers: ws, planned: pacer.Hits(d)}
	segments := time.Duration(len(ws.recs[0].segments))
	tokens := make(chan pacedToken) // unbuffered: a send succeeds only when a worker is free

	// The clock starts once every worker is connected and runs: the first requests of
	// a run would otherwise wait for dials to finish and goroutines to start, and
	// count as slow or late.
	connectAll(ctx, ws.senders)
	busy := pace.NewInFlight()
	var wg, started sync.WaitGroup
	started.Add(len(ws.senders))
	for i, sender := range ws.senders {
		rec := sharedFor(ws.recs, i)
		wg.Go(func() {
			started.Done()
			for tok := range tokens {
				c.send(ctx, sender, rec, tok.seg, tok.due)
				busy.Done()
			}
		})
	}
	started.Wait()

	sleep := pace.NewSleeper(time.Duration(float64(time.Second)/rate), busy)
	defer sleep.Close()
	readCPU := pace.ProcessCPU
	if c.runner.ProcessCPU != nil {
		readCPU = c.runner.ProcessCPU
	}
	cpuBefore, cpuKnown := readCPU()
	start := time.Now()
pace:
	for i := range run.planned {
		offset := pacer.Due(i)
		due := start.Add(offset)
		overslept, live := sleep.Until(ctx, due)
		if !live {
			break pace
		}
		run.stalls.note(overslept)
		tok := pacedToken{due: due, seg: int(offset * segments / d)}
		busy.Start()
		select {
		case tokens <- tok:
		default:
			select {
			case tokens <- tok:
			case <-ctx.Done():
				break pace
			}
			if time.Since(due) > lateAfter {
				run.late++
				c.obs.LateRequest(c.kind)
			}
		}
		run.sent++
	}
	elapsed := time.Since(start)
	run.sendTime = max(elapsed, d)
	if cpuAfter, ok := readCPU(); ok && cpuKnown && elapsed > 0 {
		run.cpuShare = (cpuAfter - cpuBefore).Seconds() / (elapsed.Seconds() * float64(runtime.GOMAXPROCS(0)))
	}
	close(tokens)
	wg.Wait()
	return run
}

// warmUpDials is how many connections are dialled at once before a run: enough to
// connect thousands in well under a second on loopback, few enough not to overflow a
// listen backlog (often 128 – 4096) with a burst of SYNs. No dial starts after
// warmUpFor: a PIC slow to accept delays the run's start by that and one dial
// timeout at most.
const warmUpDials = 64

var warmUpFor = 10 * time.Second // a variable for the tests

// connectAll connects the senders that can be before a run's clock starts, on
// warmUpDials goroutines of their own: a dial's deep stack then stays off the
// workers', which a Go stack keeps once grown (8 KiB instead of 4 for each of
// thousands). Once a dial fails it stops trying: an unreachable or refusing PIC would
// otherwise cost a dial timeout per worker before the first request. The run then
// dials as it sends, and reports the failures as PIC's.
func connectAll(ctx context.Context, senders []Sender) {
	next := make(chan Connector)
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(warmUpDials, len(senders)) {
		wg.Go(func() {
			for c := range next {
				if !failed.Load() && ctx.Err() == nil && c.Connect(ctx) != nil {
					failed.Store(true)
				}
			}
		})
	}
	stop := time.Now().Add(warmUpFor)
	for _, s := range senders {
		if failed.Load() || time.Now().After(stop) {
			break
		}
		if c, ok := s.(Connector); ok {
			next <- c
		}
	}
	close(next)
	wg.Wait()
}
