package soak

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"0/1", Shard{0, 1}, true},       // the default: one replica runs everything
		{"2/3", Shard{2, 3}, true},       // the last of three
		{"3/3", Shard{}, false},          // i must be under n
		{"-1/3", Shard{}, false},         // i is not negative
		{"0/0", Shard{}, false},          // no replicas is not a split
		{"1", Shard{}, false},            // n is required
		{"a/b", Shard{}, false},          // numbers only
		{" 1/3", Shard{}, false},         // no spaces
		{"1/3/5", Shard{}, false},        // one slash
		{"", Shard{}, false},             // empty is not the default
		{"0/1000", Shard{0, 1000}, true}, // many replicas
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestLoadConfigShardErrors(t *testing.T) {
	_, err := LoadConfig([]string{"PICSOAK_SHARD=3/3", "PICSOAK_SCHEDULE_JITTER=-1s"})
	var ce *ConfigError
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
			base, err := LoadConfig(nil)
			if err != nil {
				t.Fatal(err)
			}
			base.Sustained.Rate, base.Burst.Size, base.Streams.Count = tt.rate, tt.burstSize, tt.streams
			base.Capacity.StartRate, base.Capacity.StepRate, base.Capacity.MaxRate = tt.capStart, tt.capStart, tt.capMax
			steps := base.Capacity.StepRates()

			var rate, capStart, capStep, capMax float64
			var burst int
			var streams []int
			for i := range tt.shards {
				c := base
				c.Daemon.Shard = Shard{i, tt.shards}.String()
				c = c.ForShard()
				if again := c.ForShard(); again != c {
					t.Errorf("shard %d: ForShard twice = %+v, want it unchanged", i, again)
				}
				rate += c.Sustained.Rate
				capStart += c.Capacity.StartRate
				capStep += c.Capacity.StepRate
				capMax += c.Capacity.MaxRate
				if got, want := len(c.Capacity.StepRates()), len(steps); got != want {
					t.Errorf("shard %d: got %d capacity steps, want %d (the same steps, each 1/n)", i, got, want)
				}
				burst += c.Burst.Size
				if (c.Burst.Size == 0) != (c.Burst.Schedule == ScheduleOff) {
					t.Errorf("shard %d: burst size %d with schedule %q, want off exactly when it has no requests", i, c.Burst.Size, c.Burst.Schedule)
				}
				if (c.Streams.Count == 0) != (c.Streams.Schedule == ScheduleOff) {
					t.Errorf("shard %d: %d streams with schedule %q, want off exactly when it has none", i, c.Streams.Count, c.Streams.Schedule)
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

func TestShardOffset(t *testing.T) {
	tests := []struct {
		shard  Shard
		jitter time.Duration
		want   time.Duration
	}{
		{Shard{}, time.Minute, 0},                                       // unsharded: no delay
		{Shard{0, 4}, time.Minute, 0},                                   // the first shard starts on time
		{Shard{1, 4}, time.Minute, 15 * time.Second},                    // i/n of the jitter
		{Shard{3, 4}, time.Minute, 45 * time.Second},                    // the last stays inside the jitter
		{Shard{2, 3}, 0, 0},                                             // the default jitter is none
		{Shard{999, 1000}, 24 * time.Hour, 86313600 * time.Millisecond}, // no overflow
	}
	for _, tt := range tests {
		if got := tt.shard.Offset(tt.jitter); got != tt.want {
			t.Errorf("%v.Offset(%s) = %s, want %s", tt.shard, tt.jitter, got, tt.want)
		}
	}
}

// TestShardedStreamsKeepGlobalIndexes: shard 1 of 3 of 7 streams runs streams 1 and 4,
// and says so to PIC and in its result.
func TestShardedStreamsKeepGlobalIndexes(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get(StreamHeader)]++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig(srv.URL)
	cfg.Streams.Count, cfg.Streams.Requests, cfg.Daemon.Shard = 7, 3, "1/3"
	cfg = cfg.ForShard()
	r := &Runner{Config: cfg, Target: newTestTarget(t, srv.URL, nil), TargetName: srv.URL}
	res := r.Run(context.Background(), Streams)

	mu.Lock()
	defer mu.Unlock()
	if want := map[string]int{"1": 3, "4": 3}; !maps.Equal(seen, want) {
		t.Errorf("requests by %s header: got %v, want %v", StreamHeader, seen, want)
	}
	var got []int
	for _, s := range res.Streams.Streams {
		got = append(got, s.Index)
	}
	if want := []int{1, 4}; !slices.Equal(got, want) {
		t.Errorf("result stream indexes: got %v, want %v", got, want)
	}
}
