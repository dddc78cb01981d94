package pace

import (
	"testing"
	"time"
)

func TestConstantPacer(t *testing.T) {
	tests := []struct {
		rate     float64
		duration time.Duration
		hits     int64
		due3     time.Duration
	}{
		{100, 30 * time.Second, 3000, 30 * time.Millisecond}, // the seed's sustained test
		{3, time.Second, 3, time.Second},                     // due exactly at the end is outside
		{0.5, 3 * time.Second, 2, 6 * time.Second},           // slower than one per second
		{20000, 10 * time.Second, 200000, 150 * time.Microsecond},
	}
	for _, tt := range tests {
		p := Constant{Rate: tt.rate}
		if got := p.Hits(tt.duration); got != tt.hits {
			t.Errorf("rate %g: Hits(%s) = %d, want %d", tt.rate, tt.duration, got, tt.hits)
		}
		if got := p.Due(3); got != tt.due3 {
			t.Errorf("rate %g: Due(3) = %s, want %s", tt.rate, got, tt.due3)
		}
	}
}

func BenchmarkPacerDue(b *testing.B) {
	p := Constant{Rate: 50000}
	var i int64
	for b.Loop() {
		i++
		_ = p.Due(i)
	}
}
