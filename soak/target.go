package soak

import "context"

// Target is the service under test (soak/httptarget is PIC over HTTP).
type Target interface {
	// NewSender returns a Sender for one goroutine's sequential use. stream is the
	// stream index in the streams cycle and -1 elsewhere.
	NewSender(stream int) Sender
}

// Sender sends one request at a time.
type Sender interface {
	// Send sends one request under ctx and reports how it ended. The error explains
	// any outcome but OutcomeOK and is nil for it.
	Send(ctx context.Context) (Outcome, error)
}
