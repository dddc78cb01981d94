package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeepCPUsAwakeIsCheckedAtStart(t *testing.T) {
	saved := cpuLatencyPath
	t.Cleanup(func() { cpuLatencyPath = saved })
	env := []string{"PICSOAK_KEEP_CPUS_AWAKE=true"}

	cpuLatencyPath = filepath.Join(t.TempDir(), "missing", "cpu_dma_latency")
	var stdout, stderr bytes.Buffer
	if code := check(env, &stdout, &stderr); code != exitConfig ||
		!strings.Contains(stderr.String(), "PICSOAK_KEEP_CPUS_AWAKE=true: open "+cpuLatencyPath) || !strings.Contains(stderr.String(), "set PICSOAK_KEEP_CPUS_AWAKE=false") {
		t.Errorf("check = %d\n%s\nwant %d naming the variable, the path and the way out", code, stderr.String(), exitConfig)
	}

	cpuLatencyPath = filepath.Join(t.TempDir(), "cpu_dma_latency")
	if err := os.WriteFile(cpuLatencyPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := check(env, &stdout, &stderr); code != exitOK {
		t.Errorf("check with a writable %s = %d\n%s, want 0", cpuLatencyPath, code, stderr.String())
	}
}
