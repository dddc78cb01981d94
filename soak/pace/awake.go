package pace

import (
	"encoding/binary"
	"io"
	"os"
)

// CPULatencyPath is Linux's CPU latency QoS interface: while any process keeps it open
// with a value written, no CPU enters an idle state slower to leave than that many
// microseconds.
const CPULatencyPath = "/dev/cpu_dma_latency"

// KeepCPUsAwake asks the kernel, through path, for a CPU wake-up latency of 0 until
// the returned Closer is closed: idle CPUs then poll instead of halting. On a VM a
// halted vCPU waits for the host to run it again, now and then for milliseconds on
// the machine of docs/performance.md, and a request whose start or reply fell into
// that wait reported it as PIC's latency.
func KeepCPUsAwake(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	if err := binary.Write(f, binary.NativeEndian, int32(0)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
