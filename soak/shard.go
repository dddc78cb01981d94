package soak

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Shard is one replica's place among Count replicas that share the configured load
// (PICSOAK_SHARD=Index/Count). The zero value means unsharded, as does 0/1.
type Shard struct {
	Index, Count int
}

var errShard = errors.New("want i/n with 0 <= i < n, such as 0/3 for the first of three replicas")

// ParseShard parses "i/n" with 0 <= i < n.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, errShard
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil || i < 0 || i >= n {
		return Shard{}, errShard
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, max(s.Count, 1)) }

// share is this shard's part of total whole units (requests, streams): total ÷ n, the
// remainder going one each to the lowest shards, so the parts sum to total.
func (s Shard) share(total int) int {
	n := max(s.Count, 1)
	q := total / n
	if s.Index < total%n {
		q++
	}
	return q
}

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

// ForShard returns the configuration this replica runs: PICSOAK_SHARD's share of the
// configured load, so that the n replicas together send exactly what is configured.
// Arrival rates (sustained, and every capacity rate, so the steps stay the same steps)
// are divided by n; burst sizes and stream counts are split in whole requests and
// streams with the remainder going to the lowest shards, and a shard left with no
// burst request or no stream has that cycle off. Worker caps, durations, thresholds
// and the enterprise target are per replica and stay as configured: dashboards sum the
// replicas' rates and achievements. c must be valid; ForShard of its own result
// changes nothing.
func (c Config) ForShard() Config {
	if c.Shard.Count != 0 {
		return c
	}
	sh, err := ParseShard(c.Daemon.Shard)
	if err != nil { // only an unvalidated config gets here
		sh = Shard{Index: 0, Count: 1}
	}
	c.Shard = sh
	n := float64(sh.Count)
	c.Sustained.Rate /= n
	c.Capacity.StartRate /= n
	c.Capacity.StepRate /= n
	c.Capacity.MaxRate /= n
	if c.Burst.Size = sh.share(c.Burst.Size); c.Burst.Size == 0 {
		c.Burst.Schedule = ScheduleOff
	}
	if c.Streams.Count = sh.share(c.Streams.Count); c.Streams.Count == 0 {
		c.Streams.Schedule = ScheduleOff
	}
	return c
}
