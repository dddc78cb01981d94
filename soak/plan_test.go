package soak

import (
	"strings"
	"testing"
	"time"
)

func TestTolerancesValidate(t *testing.T) {
	if err := (Tolerances{MaxThroughputDrop: 0.3, MaxP99Rise: 1, P99Slack: time.Millisecond, MaxSuccessDrop: 0.01}).Validate(); err != nil {
		t.Errorf("defaults: got %v, want valid", err)
	}
	err := Tolerances{MaxThroughputDrop: 2, MaxP99Rise: -1, MaxSuccessDrop: -0.1}.Validate()
	for _, want := range []string{"max throughput drop 2", "max p99 rise -1", "max success drop -0.1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to name %q", err, want)
		}
	}
}
