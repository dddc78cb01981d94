//go:build !linux

package httptarget

import "errors"

// rawIO is off: elsewhere connections are read and written the ordinary way.
const rawIO = false

func sysWrite(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }
func sysRead(uintptr, []byte) (int, error)  { return 0, errors.ErrUnsupported }
