package soak_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
)

// connectingTarget's senders count their Connects and check, at each Send, that
// every worker had connected before the first request went out.
type connectingTarget struct {
	workers    int64
	fail       bool
	dialTime   time.Duration // how long each Connect takes
	connects   atomic.Int64  // Connects begun
	connected  atomic.Int64  // Connects returned
	early      atomic.Int64  // Sends that found a worker not yet connected
	sends      atomic.Int64
	concurrent atomic.Int64
	peak       atomic.Int64 // most Connects under way at once
}

func (t *connectingTarget) NewSender(int) soak.Sender { return connectingSender{t} }

type connectingSender struct{ t *connectingTarget }

func (s connectingSender) Connect(context.Context) error {
	t := s.t
	t.connects.Add(1)
	n := t.concurrent.Add(1)
	for p := t.peak.Load(); n > p && !t.peak.CompareAndSwap(p, n); p = t.peak.Load() {
	}
	defer t.concurrent.Add(-1)
	defer t.connected.Add(1)
	if t.dialTime > 0 {
		time.Sleep(t.dialTime) // a slow handshake, not synchronisation
	}
	if t.fail {
		return errors.New("connection refused")
	}
	return nil
}

func (s connectingSender) Send(context.Context) soak.Reply {
	s.t.sends.Add(1)
	if !s.t.fail && s.t.dialTime == 0 && s.t.connected.Load() != s.t.workers {
		s.t.early.Add(1)
	}
	return soak.Reply{Outcome: soak.OutcomeOK, Status: 200}
}

// An open-model cycle's clock starts once every worker has connected, at most
// soak.WarmUpDials dialling at once.
func TestPacedWorkersConnectBeforeTheClockStarts(t *testing.T) {
	const workers = 500
	cfg := soaktest.Config(t, "http://127.0.0.1:1/", "PICSOAK_SUSTAINED_WORKERS=500", "PICSOAK_SUSTAINED_RATE=1000", "PICSOAK_SUSTAINED_DURATION=200ms")
	target := &connectingTarget{workers: workers}
	res := soaktest.Runner(cfg, target).Run(context.Background(), soak.Sustained)
	if got := target.connects.Load(); got != workers {
		t.Errorf("%d Connects, want one per worker (%d)", got, workers)
	}
	if early := target.early.Load(); early != 0 {
		t.Errorf("%d of %d requests went out before every worker had connected, want none", early, target.sends.Load())
	}
	if peak := target.peak.Load(); peak > soak.WarmUpDials {
		t.Errorf("%d Connects at once, want at most %d", peak, soak.WarmUpDials)
	}
	if res.Sustained.Sent != res.Sustained.Planned || res.Requests.Total() != res.Sustained.Sent {
		t.Errorf("sent %d of %d planned, counted %d; want all", res.Sustained.Sent, res.Sustained.Planned, res.Requests.Total())
	}
}

// A PIC refusing connections costs the warm-up one failed dial per slot, not one per
// worker; the requests still go out and report what fails.
func TestWarmUpStopsAtTheFirstFailedConnect(t *testing.T) {
	const workers = 2000
	cfg := soaktest.Config(t, "http://127.0.0.1:1/", "PICSOAK_SUSTAINED_WORKERS=2000", "PICSOAK_SUSTAINED_RATE=1000", "PICSOAK_SUSTAINED_DURATION=100ms")
	target := &connectingTarget{workers: workers, fail: true}
	res := soaktest.Runner(cfg, target).Run(context.Background(), soak.Sustained)
	if got := target.connects.Load(); got > soak.WarmUpDials {
		t.Errorf("%d Connects after the first failed, want at most %d (the ones already under way)", got, soak.WarmUpDials)
	}
	if res.Sustained.Sent != res.Sustained.Planned || target.sends.Load() != res.Sustained.Sent {
		t.Errorf("sent %d of %d planned, the target saw %d; want all", res.Sustained.Sent, res.Sustained.Planned, target.sends.Load())
	}
}

// A PIC slow to accept delays the run's start by at most warmUpFor and a dial: after
// that the workers not yet connected dial as they send.
func TestWarmUpStopsStartingDialsAtItsLimit(t *testing.T) {
	soak.SetWarmUpFor(t, 50*time.Millisecond)
	const workers = 5000
	cfg := soaktest.Config(t, "http://127.0.0.1:1/", "PICSOAK_SUSTAINED_WORKERS=5000", "PICSOAK_SUSTAINED_RATE=1000", "PICSOAK_SUSTAINED_DURATION=100ms")
	// 64 dials at a time of 20 ms each connect about 3,200 a second: 5,000 would take
	// 1.6 s, the limit stops the warm-up after about 160.
	target := &connectingTarget{workers: workers, dialTime: 20 * time.Millisecond}
	res := soaktest.Runner(cfg, target).Run(context.Background(), soak.Sustained)
	if got := target.connects.Load(); got >= workers/2 {
		t.Errorf("%d of %d workers connected, want the warm-up to stop starting dials after 50ms", got, workers)
	}
	if res.Sustained.Sent != res.Sustained.Planned || target.sends.Load() != res.Sustained.Sent {
		t.Errorf("sent %d of %d planned, the target saw %d; want all", res.Sustained.Sent, res.Sustained.Planned, target.sends.Load())
	}
}
