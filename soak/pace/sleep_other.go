//go:build !linux

package pace

import "time"

// fineTimer exists on Linux only; elsewhere the runtime timer does all the waiting.
type fineTimer struct{}

func newFineTimer() *fineTimer               { return nil }
func (*fineTimer) sleep(time.Duration) error { return nil }
func (*fineTimer) close()                    {}
