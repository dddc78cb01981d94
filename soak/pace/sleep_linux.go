package pace

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fineTimer is a timerfd waited on through the runtime's poller: the kernel's
// high-resolution timer wakes the poller, so the goroutine resumes on time without
// holding the only P in a blocking syscall.
type fineTimer struct {
	file  *os.File
	raw   syscall.RawConn
	spec  unix.ItimerSpec
	armed bool
	err   error
	buf   [8]byte
	step  func(fd uintptr) bool // t.readStep, bound once so a sleep allocates nothing
}

// newFineTimer returns nil when the kernel offers no timerfd.
func newFineTimer() *fineTimer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	t := &fineTimer{file: os.NewFile(uintptr(fd), "timerfd")}
	if t.raw, err = t.file.SyscallConn(); err != nil {
		t.file.Close()
		return nil
	}
	t.step = t.readStep
	return t
}

// sleep waits d. The timer is armed inside the wait, after the poller is: the poller
// is edge-triggered, and a short timer could expire before a wait armed later.
func (t *fineTimer) sleep(d time.Duration) error {
	t.spec.Value = unix.NsecToTimespec(int64(d))
	t.armed, t.err = false, nil
	if err := t.raw.Read(t.step); err != nil {
		return err
	}
	return t.err
}

func (t *fineTimer) readStep(fd uintptr) bool {
	if !t.armed {
		t.armed = true
		if err := unix.TimerfdSettime(int(fd), 0, &t.spec, nil); err != nil {
			t.err = err
			return true
		}
		return false
	}
	for {
		switch _, err := unix.Read(int(fd), t.buf[:]); err {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			t.err = err
			return true
		}
	}
}

func (t *fineTimer) close() { t.file.Close() }
