package soak

import (
	"fmt"
	"time"
)

// Shard is one replica's place among Count replicas that share the configured load
// (PICSOAK_SHARD=Index/Count). The zero value means unsharded, as does 0/1.
type Shard struct {
	Index, Count int
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, max(s.Count, 1)) }

// Stream is the global index of this shard's j-th stream: shard i of n runs streams
// i, i+n, i+2n, ..., so stream indexes (the X-Picsoak-Stream header, the per-stream
// metrics) are unique across the replicas.
func (s Shard) Stream(j int) int { return s.Index + j*max(s.Count, 1) }

// Offset is how long this shard delays each cycle start: Index/Count of jitter, so n
// replicas on the same schedule start spread evenly over jitter instead of together.
func (s Shard) Offset(jitter time.Duration) time.Duration {
	if s.Count <= 1 || jitter <= 0 {
		return 0
	}
	// In floating point: jitter × Index could overflow a Duration.
	return time.Duration(float64(jitter) * float64(s.Index) / float64(s.Count))
}
