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
	// Send sends one request under ctx and reports how it ended.
	Send(ctx context.Context) Reply
}

// Connector is a Sender that can open its connections before its first request. An
// open-model cycle connects its workers before its clock starts, as fortio's warm-up
// does: thousands of workers dialling in the first second would otherwise put
// picsoak's own dialling into the first requests' latencies.
type Connector interface {
	// Connect opens the connections a Send would open. Its error need not be acted
	// on: the next Send dials again and reports what fails.
	Connect(ctx context.Context) error
}

// Reply is how one request ended.
type Reply struct {
	Outcome Outcome
	// Endpoint is the request's index in the plan's Endpoints.
	Endpoint int
	// Status is the HTTP status PIC answered with, 0 when no reply came.
	Status int
	// Err explains any outcome but OutcomeOK and is nil for it.
	Err error
}

// ProtocolReporter is a Target that can say which protocol PIC's replies came in;
// the Runner puts it in each Result.
type ProtocolReporter interface {
	// ReplyProtocols names the protocols of the replies received since the last
	// call, such as "HTTP/1.1" or "HTTP/2.0", "" when none came.
	ReplyProtocols() string
}
