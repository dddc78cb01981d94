package main

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"
)

// pcapWriter builds the file tcpdump -i lo --time-stamp-precision=nano writes.
type pcapWriter struct{ bytes.Buffer }

func newPcap(magic uint32, link uint32) *pcapWriter {
	w := &pcapWriter{}
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], magic)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 128)
	binary.LittleEndian.PutUint32(hdr[20:], link)
	w.Write(hdr)
	return w
}

// segment appends a TCP segment from port src to port dst carrying payload bytes,
// seen at ns nanoseconds past a whole second.
func (w *pcapWriter) segment(ns int64, src, dst uint16, payload int) {
	frame := make([]byte, 14+20+32) // Ethernet, IPv4 without options, TCP with timestamps
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	ip := frame[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+32+payload))
	ip[9] = 6
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp[0:], src)
	binary.BigEndian.PutUint16(tcp[2:], dst)
	tcp[12] = 8 << 4
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[0:], uint32(1700000000+ns/1e9))
	binary.LittleEndian.PutUint32(rec[4:], uint32(ns%1e9))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)+payload))
	w.Write(rec)
	w.Write(frame)
}

func TestWireLatencies(t *testing.T) {
	const server = 18089
	w := newPcap(0xa1b23c4d, 1)
	w.segment(1_000, 40001, server, 40)          // request on connection A
	w.segment(1_500, 40002, server, 40)          // request on connection B
	w.segment(2_000, server, 40001, 0)           // a pure ACK is no reply
	w.segment(31_000, server, 40002, 150)        // B's reply: 29.5 µs
	w.segment(51_000, server, 40001, 150)        // A's reply: 50 µs
	w.segment(52_000, server, 40001, 150)        // the rest of A's reply belongs to no request
	w.segment(60_000, 40001, server, 40)         // A's next request
	w.segment(60_500, 40001, server, 10)         // its second segment does not restart the clock
	w.segment(1_000_060_000, server, 40001, 150) // across a second boundary: 1 s
	w.segment(1_000_070_000, server, 40003, 150) // a reply to a request from before the capture
	got, starts, err := wireLatencies(&w.Buffer, "18089")
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{29_500, 50_000, time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("latencies = %v, want %v", got, want)
	}
	const s0 = 1_700_000_000 * int64(time.Second)
	if wantStarts := []int64{s0 + 1_000, s0 + 1_500, s0 + 60_000}; !slices.Equal(starts, wantStarts) {
		t.Errorf("request starts = %v, want %v", starts, wantStarts)
	}
}

func TestArrivalSpread(t *testing.T) {
	const ms = int64(time.Millisecond)
	even := make([]int64, 0, 200)
	for i := range int64(200) {
		even = append(even, 7*ms+i*50_000) // 20,000 req/s, evenly spaced
	}
	// The same 200 requests bunched: 37 within 2 µs of each other in one
	// millisecond, 3 in the next.
	var bunched []int64
	for m := range int64(10) {
		n := int64(37)
		if m%2 == 1 {
			n = 3
		}
		for i := range n {
			bunched = append(bunched, 7*ms+m*ms+i*50)
		}
	}
	for _, c := range []struct {
		name     string
		starts   []int64
		p10, p90 int
	}{
		{"even", even, 20, 20},
		{"bunched", bunched, 3, 37},
		{"unsorted", []int64{5 * ms, 3 * ms, 3*ms + 1, 4*ms + 5, 6 * ms}, 1, 2},
		{"within one millisecond", []int64{3 * ms, 3*ms + 10}, 2, 2},
		{"none", nil, 0, 0},
	} {
		p10, p90 := arrivalSpread(c.starts)
		if p10 != c.p10 || p90 != c.p90 {
			t.Errorf("%s: requests per ms p10 %d, p90 %d; want %d, %d", c.name, p10, p90, c.p10, c.p90)
		}
	}
}

func TestWireLatenciesRejectsOtherCaptures(t *testing.T) {
	for _, c := range []struct {
		name        string
		magic, link uint32
		want        string
	}{
		{"microsecond timestamps", 0xa1b2c3d4, 1, "nanosecond"},
		{"linux cooked capture (-i any)", 0xa1b23c4d, 113, "link type 113"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newPcap(c.magic, c.link)
			w.segment(1_000, 40001, 18089, 40)
			_, _, err := wireLatencies(&w.Buffer, "18089")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want one naming %q", err, c.want)
			}
		})
	}
}
