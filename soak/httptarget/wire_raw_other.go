//go:build !linux

package httptarget

import (
	"errors"
	"syscall"
)

// rawIO is off: elsewhere connections are read and written the ordinary way.
const rawIO = false

func sysWrite(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }
func sysRead(uintptr, []byte) (int, error)  { return 0, errors.ErrUnsupported }

// probeIdle cannot look at a connection here: a reused connection the server closed
// is found only when the request's write fails.
func probeIdle(uintptr) error { return nil }

// ackedBytes is unknown here, so a request that was written counts as received.
func ackedBytes(syscall.RawConn) (uint64, bool) { return 0, false }
