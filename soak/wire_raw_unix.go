//go:build unix

package soak

import "syscall"

// rawIO says replySource may read and write a connection's descriptor itself.
const rawIO = true

func sysWrite(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }
func sysRead(fd uintptr, p []byte) (int, error)  { return syscall.Read(int(fd), p) }
