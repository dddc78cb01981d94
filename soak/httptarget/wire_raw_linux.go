//go:build linux

package httptarget

import (
	"syscall"
	"unsafe"
)

// rawIO says replySource may read and write a connection's descriptor itself.
const rawIO = true

// sysWrite and sysRead are raw system calls: the descriptor is non-blocking, so the
// call cannot block, and skipping the scheduler's syscall bookkeeping saves about
// 0.1 µs of the ~3 µs picsoak itself spends per request.
func sysWrite(fd uintptr, p []byte) (int, error) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return rawResult(n, errno)
}

func sysRead(fd uintptr, p []byte) (int, error) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return rawResult(n, errno)
}

func rawResult(n uintptr, errno syscall.Errno) (int, error) {
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
