package config

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/picsoak/picsoak/soak"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want soak.Shard
		ok   bool
	}{
		{"0/1", soak.Shard{Index: 0, Count: 1}, true},       // the default: one replica runs everything
		{"2/3", soak.Shard{Index: 2, Count: 3}, true},       // the last of three
		{"3/3", soak.Shard{}, false},                        // i must be under n
		{"-1/3", soak.Shard{}, false},                       // i is not negative
		{"0/0", soak.Shard{}, false},                        // no replicas is not a split
		{"1", soak.Shard{}, false},                          // n is required
		{"a/b", soak.Shard{}, false},                        // numbers only
		{" 1/3", soak.Shard{}, false},                       // no spaces
		{"1/3/5", soak.Shard{}, false},                      // one slash
		{"", soak.Shard{}, false},                           // empty is not the default
		{"0/1000", soak.Shard{Index: 0, Count: 1000}, true}, // many replicas
	}
	for _, tt := range tests {
		got, err := parseShard(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseShard(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestLoadShardErrors(t *testing.T) {
	_, err := Load([]string{"PICSOAK_SHARD=3/3", "PICSOAK_SCHEDULE_JITTER=-1s"})
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("LoadConfig = %v, want a *ConfigError", err)
	}
	want := []string{
		`PICSOAK_SHARD="3/3": want i/n with 0 <= i < n, such as 0/3 for the first of three replicas`,
		"PICSOAK_SCHEDULE_JITTER=-1s: want a duration >= 0",
	}
	if !slices.Equal(ce.Problems, want) {
		t.Errorf("problems:\ngot  %q\nwant %q", ce.Problems, want)
	}
}

// TestForShardSumsToConfiguredLoad: whatever n, the n shards together send exactly the
// configured load, and every stream index is run by exactly one shard.
func TestForShardSumsToConfiguredLoad(t *testing.T) {
	tests := []struct {
		name                   string
		shards                 int
		rate, capStart, capMax float64
		burstSize, streams     int
	}{
		{"one replica is the whole load", 1, 100, 1000, 50000, 500, 10},
		{"even split", 2, 100, 1000, 50000, 500, 10},
		{"remainders go to the lowest shards", 3, 100, 1000, 50000, 500, 10},
		{"more shards than streams: some run none", 16, 100, 1000, 50000, 500, 10},
		{"more shards than burst requests: some send none", 7, 100, 1000, 50000, 5, 3},
		{"rates that do not divide evenly", 6, 1, 10, 100, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(nil)
			if err != nil {
				t.Fatal(err)
			}
			base := cfg.Plan
			base.Sustained.Rate, base.Burst.Size, base.Streams.Count = tt.rate, tt.burstSize, tt.streams
			base.Capacity.StartRate, base.Capacity.StepRate, base.Capacity.MaxRate = tt.capStart, tt.capStart, tt.capMax
			steps := base.Capacity.StepRates()

			var rate, capStart, capStep, capMax float64
			var burst int
			var streams []int
			for i := range tt.shards {
				c := forShard(base, soak.Shard{Index: i, Count: tt.shards})
				rate += c.Sustained.Rate
				capStart += c.Capacity.StartRate
				capStep += c.Capacity.StepRate
				capMax += c.Capacity.MaxRate
				if got, want := len(c.Capacity.StepRates()), len(steps); got != want {
					t.Errorf("shard %d: got %d capacity steps, want %d (the same steps, each 1/n)", i, got, want)
				}
				burst += c.Burst.Size
				if (c.Burst.Size == 0) != c.Burst.Schedule.Off() {
					t.Errorf("shard %d: burst size %d with schedule %q, want off exactly when it has no requests", i, c.Burst.Size, c.Burst.Schedule.Spec)
				}
				if (c.Streams.Count == 0) != c.Streams.Schedule.Off() {
					t.Errorf("shard %d: %d streams with schedule %q, want off exactly when it has none", i, c.Streams.Count, c.Streams.Schedule.Spec)
				}
				for j := range c.Streams.Count {
					streams = append(streams, c.Shard.Stream(j))
				}
				// The split sizes differ by one at most, the larger ones first.
				if lo, hi := tt.burstSize/tt.shards, (tt.burstSize+tt.shards-1)/tt.shards; c.Burst.Size < lo || c.Burst.Size > hi {
					t.Errorf("shard %d: burst size %d, want %d or %d", i, c.Burst.Size, lo, hi)
				}
			}
			near := func(what string, got, want float64) {
				if d := got - want; d > 1e-9*want || d < -1e-9*want {
					t.Errorf("%s summed over %d shards: got %g, want %g", what, tt.shards, got, want)
				}
			}
			near("sustained rate", rate, tt.rate)
			near("capacity start rate", capStart, tt.capStart)
			near("capacity step rate", capStep, tt.capStart)
			near("capacity max rate", capMax, tt.capMax)
			if burst != tt.burstSize {
				t.Errorf("burst size summed over %d shards: got %d, want %d", tt.shards, burst, tt.burstSize)
			}
			slices.Sort(streams)
			want := make([]int, tt.streams)
			for i := range want {
				want[i] = i
			}
			if !slices.Equal(streams, want) {
				t.Errorf("stream indexes over %d shards: got %v, want %v, each once", tt.shards, streams, want)
			}
		})
	}
}

// Load applies PICSOAK_SHARD to the plan: nothing downstream has to remember to.
func TestLoadAppliesTheShard(t *testing.T) {
	c, err := Load([]string{"PICSOAK_SHARD=1/3", "PICSOAK_SUSTAINED_RATE=300", "PICSOAK_STREAMS_COUNT=7", "PICSOAK_SCHEDULE_JITTER=1m"})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Plan
	if p.Shard != (soak.Shard{Index: 1, Count: 3}) || p.Sustained.Rate != 100 || p.Streams.Count != 2 || p.ScheduleJitter != time.Minute {
		t.Errorf("plan shard %v, rate %g, streams %d, jitter %s; want 1/3, 100, 2, 1m", p.Shard, p.Sustained.Rate, p.Streams.Count, p.ScheduleJitter)
	}
}
