package soak

import (
	"testing"
	"time"
)

func TestShardOffset(t *testing.T) {
	tests := []struct {
		shard  Shard
		jitter time.Duration
		want   time.Duration
	}{
		{Shard{}, time.Minute, 0},                                                     // unsharded: no delay
		{Shard{Index: 0, Count: 4}, time.Minute, 0},                                   // the first shard starts on time
		{Shard{Index: 1, Count: 4}, time.Minute, 15 * time.Second},                    // i/n of the jitter
		{Shard{Index: 3, Count: 4}, time.Minute, 45 * time.Second},                    // the last stays inside the jitter
		{Shard{Index: 2, Count: 3}, 0, 0},                                             // the default jitter is none
		{Shard{Index: 999, Count: 1000}, 24 * time.Hour, 86313600 * time.Millisecond}, // no overflow
	}
	for _, tt := range tests {
		if got := tt.shard.Offset(tt.jitter); got != tt.want {
			t.Errorf("%v.Offset(%s) = %s, want %s", tt.shard, tt.jitter, got, tt.want)
		}
	}
}
