package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nginxPortNumber is nginxPort's port: tcpdump's filter and the side of a segment.
var _, nginxPortNumber, _ = net.SplitHostPort(nginxPort)

// capture is tcpdump recording the benchmark port on loopback during one run: the
// independent measurement of the target's latency, taken from the packets.
type capture struct {
	cmd    *exec.Cmd
	path   string
	stderr *bufio.Reader
}

// startCapture starts tcpdump on nginx's core (the generator's core stays the
// generator's) and returns once tcpdump says it is listening.
func startCapture(tcpdump, path string) (*capture, error) {
	cmd := exec.Command("taskset", "-c", nginxCore, tcpdump, "-i", "lo", "-n", "-s", "128", "-B", "65536",
		"--time-stamp-precision=nano", "-w", path, "tcp port "+nginxPortNumber)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting tcpdump: %w", err)
	}
	c := &capture{cmd: cmd, path: path, stderr: bufio.NewReader(pipe)}
	for {
		line, err := c.stderr.ReadString('\n')
		if strings.Contains(line, "listening on") {
			return c, nil
		}
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("tcpdump did not start listening: %s", line)
		}
	}
}

var droppedByKernel = regexp.MustCompile(`(\d+) packets? dropped by kernel`)

// wireFigures is what the packets of one run show.
type wireFigures struct {
	p99 float64 // seconds, from a request's first byte to its reply's
	// perMs10 and perMs90 are the 10th and 90th percentiles of the requests that
	// reached the wire in each millisecond: the arrival process the target saw.
	perMs10, perMs90 int
}

// stop ends the capture and returns what its packets show.
func (c *capture) stop() (wireFigures, error) {
	c.cmd.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(c.stderr)
	if err := c.cmd.Wait(); err != nil {
		return wireFigures{}, fmt.Errorf("tcpdump: %w\n%s", err, rest)
	}
	// A dropped packet would pair a request with a later reply, or lose a slow one.
	if m := droppedByKernel.FindSubmatch(rest); m == nil || string(m[1]) != "0" {
		return wireFigures{}, fmt.Errorf("tcpdump lost packets or said nothing about it:\n%s", rest)
	}
	f, err := os.Open(c.path)
	if err != nil {
		return wireFigures{}, err
	}
	defer f.Close()
	lat, starts, err := wireLatencies(bufio.NewReaderSize(f, 1<<20), nginxPortNumber)
	if err != nil {
		return wireFigures{}, fmt.Errorf("%s: %w", c.path, err)
	}
	if len(lat) == 0 {
		return wireFigures{}, fmt.Errorf("%s: no request and reply seen", c.path)
	}
	slices.Sort(lat)
	w := wireFigures{p99: lat[int(0.99*float64(len(lat)-1))].Seconds()}
	w.perMs10, w.perMs90 = arrivalSpread(starts)
	return w, nil
}

// arrivalSpread counts the requests that reached the wire in each whole
// millisecond from the first request's to the last's and returns the 10th and
// 90th percentiles of those counts. Two generators at the same rate can load the
// target differently: evenly spaced requests at 20,000 req/s put 20 in every
// millisecond, bunched ones 3 in one and 37 in the next, and the target (and the
// generator reading the replies) queues the bunches.
func arrivalSpread(starts []int64) (p10, p90 int) {
	if len(starts) == 0 {
		return 0, 0
	}
	first, last := slices.Min(starts), slices.Max(starts)
	counts := make([]int, (last-first)/1e6+1)
	for _, t := range starts {
		counts[(t-first)/1e6]++
	}
	// The last millisecond is partial: the run ended in it.
	if len(counts) > 1 {
		counts = counts[:len(counts)-1]
	}
	slices.Sort(counts)
	return counts[len(counts)/10], counts[len(counts)*9/10]
}

// wireLatencies reads a nanosecond pcap of Ethernet frames (tcpdump on Linux's lo)
// and returns, for every request to serverPort, the time from its first byte on
// the wire to the first byte of the reply on the same connection: the target's
// latency as the network sees it, none of the generator's own time included. One
// request at a time per connection, as HTTP/1.1 without pipelining sends them.
// starts holds every request's first byte's time, in nanoseconds, answered or not.
func wireLatencies(r io.Reader, serverPort string) (lat []time.Duration, starts []int64, err error) {
	port, err := strconv.ParseUint(serverPort, 10, 16)
	if err != nil {
		return nil, nil, fmt.Errorf("server port %q: %w", serverPort, err)
	}
	var hdr [24]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("pcap header: %w", err)
	}
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(hdr[:]) == 0xa1b23c4d:
		order = binary.LittleEndian
	case binary.BigEndian.Uint32(hdr[:]) == 0xa1b23c4d:
		order = binary.BigEndian
	default:
		return nil, nil, errors.New("not a nanosecond pcap (tcpdump --time-stamp-precision=nano)")
	}
	if link := order.Uint32(hdr[20:]); link != 1 {
		return nil, nil, fmt.Errorf("link type %d, want 1 (Ethernet, as tcpdump -i lo writes)", link)
	}
	sent := map[uint16]int64{} // client port -> when its pending request's first byte passed
	var rec [16]byte
	buf := make([]byte, 0, 256)
	for {
		if _, err := io.ReadFull(r, rec[:]); err == io.EOF {
			return lat, starts, nil
		} else if err != nil {
			return nil, nil, fmt.Errorf("pcap record: %w", err)
		}
		at := int64(order.Uint32(rec[0:]))*1e9 + int64(order.Uint32(rec[4:]))
		n := order.Uint32(rec[8:])
		if n > 1<<16 {
			return nil, nil, fmt.Errorf("pcap record of %d bytes", n)
		}
		buf = slices.Grow(buf[:0], int(n))[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, nil, fmt.Errorf("pcap record: %w", err)
		}
		src, dst, payload, ok := tcpSegment(buf)
		if !ok || payload == 0 {
			continue
		}
		switch {
		case dst == uint16(port):
			if _, pending := sent[src]; !pending {
				sent[src] = at
				starts = append(starts, at)
			}
		case src == uint16(port):
			if t, pending := sent[dst]; pending {
				lat = append(lat, time.Duration(at-t))
				delete(sent, dst)
			}
		}
	}
}

// tcpSegment reads an Ethernet frame's IPv4 TCP ports and payload length, from the
// headers alone (the capture keeps only the first 128 bytes).
func tcpSegment(frame []byte) (src, dst uint16, payload int, ok bool) {
	if len(frame) < 14+20 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
		return 0, 0, 0, false
	}
	ip := frame[14:]
	ihl := int(ip[0]&0x0f) * 4
	if ip[9] != syscall.IPPROTO_TCP || len(ip) < ihl+20 {
		return 0, 0, 0, false
	}
	tcp := ip[ihl:]
	dataOffset := int(tcp[12]>>4) * 4
	return binary.BigEndian.Uint16(tcp[0:]), binary.BigEndian.Uint16(tcp[2:]),
		int(binary.BigEndian.Uint16(ip[2:])) - ihl - dataOffset, true
}
