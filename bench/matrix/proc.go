package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc/PID/stat's CPU times: USER_HZ, 100 on every
// architecture Linux runs the bench on, whatever the kernel's own tick.
const userHZ = 100

// parseProcStat returns the user and system CPU time of /proc/PID/stat's content.
// The command name (field 2) is in parentheses and may itself hold spaces and
// parentheses, so the fields are counted from the last ')'.
func parseProcStat(b []byte) (user, system time.Duration, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("/proc stat: no ')' after the command name")
	}
	// After the name: state (field 3) … utime (14), stime (15).
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc stat: %d fields after the command name, want at least 13", len(f))
	}
	ticks := func(s string) (time.Duration, error) {
		n, err := strconv.ParseUint(s, 10, 64)
		return time.Duration(n) * time.Second / userHZ, err
	}
	if user, err = ticks(f[11]); err != nil {
		return 0, 0, fmt.Errorf("/proc stat utime: %w", err)
	}
	if system, err = ticks(f[12]); err != nil {
		return 0, 0, fmt.Errorf("/proc stat stime: %w", err)
	}
	return user, system, nil
}

// processCPU is the user + system CPU time pid has used so far, to 10 ms.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	u, s, err := parseProcStat(b)
	return u + s, err
}

// parseStatusBytes returns a "kB" line of /proc/PID/status (VmRSS, VmHWM …) in bytes.
func parseStatusBytes(b []byte, key string) (float64, error) {
	for line := range strings.Lines(string(b)) {
		v, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(v), " ")
		if unit != "kB" {
			return 0, fmt.Errorf("/proc status %s: unit %q, want kB", key, unit)
		}
		kb, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc status %s: %w", key, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("/proc status has no %s line", key)
}

// rss is pid's resident memory now, in bytes.
func rss(pid int) (float64, error) {
	now, _, err := residentMemory(pid)
	return now, err
}

// residentMemory is pid's resident memory now and its high-water mark since its last
// exec (VmRSS, VmHWM), in bytes.
func residentMemory(pid int) (now, peak float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	if now, err = parseStatusBytes(b, "VmRSS"); err != nil {
		return 0, 0, err
	}
	peak, err = parseStatusBytes(b, "VmHWM")
	return now, peak, err
}

// openFiles counts pid's open file descriptors (its connections, at scale). It reads
// the names of /proc/PID/fd only, without following a link, so counting 10,000 costs
// a few system calls.
func openFiles(pid int) (int, error) {
	d, err := os.Open(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	return len(names), err
}
