package soak

import "time"

// Observer receives live events, so that counters can be exported while a cycle runs
// without the engine knowing who listens. Implementations must be safe for concurrent
// use; ObserveRequest and LateRequest are on the hot path and must not block.
type Observer interface {
	CycleStarted(kind Kind)
	ObserveRequest(kind Kind, r Reply, latency time.Duration)
	LateRequest(kind Kind)
	CycleFinished(r *Result)
	CycleSkipped(kind Kind)
}

// NopObserver ignores every event.
type NopObserver struct{}

func (NopObserver) CycleStarted(Kind)                         {}
func (NopObserver) ObserveRequest(Kind, Reply, time.Duration) {}
func (NopObserver) LateRequest(Kind)                          {}
func (NopObserver) CycleFinished(*Result)                     {}
func (NopObserver) CycleSkipped(Kind)                         {}

// Observers hands every event to each of its observers, in order; nil hands it to none.
type Observers []Observer

func (os Observers) CycleStarted(kind Kind) {
	for _, o := range os {
		o.CycleStarted(kind)
	}
}

func (os Observers) ObserveRequest(kind Kind, r Reply, latency time.Duration) {
	for _, o := range os {
		o.ObserveRequest(kind, r, latency)
	}
}

func (os Observers) LateRequest(kind Kind) {
	for _, o := range os {
		o.LateRequest(kind)
	}
}

func (os Observers) CycleFinished(r *Result) {
	for _, o := range os {
		o.CycleFinished(r)
	}
}

func (os Observers) CycleSkipped(kind Kind) {
	for _, o := range os {
		o.CycleSkipped(kind)
	}
}
