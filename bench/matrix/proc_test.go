package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	real, err := os.ReadFile("testdata/proc-stat") // /proc/PID/stat of yes(1), busy for half a second
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		stat       string
		user, sys  time.Duration
		wantErrHas string
	}{
		// utime 14 and stime 35 ticks of USER_HZ 100.
		{"a real process", string(real), 140 * time.Millisecond, 350 * time.Millisecond, ""},
		// A command name may hold spaces and parentheses; fields count from the last ')'.
		{"a name with ') (' in it", strings.Replace(string(real), "(yes)", "(a) (b c)", 1), 140 * time.Millisecond, 350 * time.Millisecond, ""},
		{"cut short", "22337 (yes) R 22336 22334", 0, 0, "fields after the command name"},
		{"no name", "22337 yes R", 0, 0, "no ')'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, s, err := parseProcStat([]byte(c.stat))
			if c.wantErrHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErrHas) {
					t.Fatalf("error = %v, want one saying %q", err, c.wantErrHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u != c.user || s != c.sys {
				t.Errorf("user %v, system %v; want %v, %v", u, s, c.user, c.sys)
			}
		})
	}
}

func TestParseStatusBytes(t *testing.T) {
	status, err := os.ReadFile("testdata/proc-status") // /proc/PID/status of the same yes(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		want float64
	}{
		{"VmRSS", 1636 * 1024},
		{"VmHWM", 1636 * 1024},
	} {
		if got, err := parseStatusBytes(status, c.key); err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.key, got, err, c.want)
		}
	}
	// A line the status lacks, and one in no kB, are errors.
	for _, key := range []string{"VmSwapped", "Threads"} {
		if _, err := parseStatusBytes(status, key); err == nil {
			t.Errorf("%s: no error, want one", key)
		}
	}
}

func TestProcOfThisProcess(t *testing.T) {
	pid := os.Getpid()
	if _, err := processCPU(pid); err != nil {
		t.Errorf("processCPU: %v", err)
	}
	if v, err := rss(pid); err != nil || v <= 0 {
		t.Errorf("rss = %v, %v; want > 0", v, err)
	}
	f, err := os.Open("testdata/proc-stat")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := openFiles(pid)
	if err != nil || n < 4 { // stdin, stdout, stderr and f at least
		t.Errorf("openFiles = %d, %v; want at least 4", n, err)
	}
}
