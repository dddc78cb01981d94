package soak

import (
	"fmt"
	"strconv"
	"time"
)

// Seconds formats a duration given in seconds for people: 1.50s, 2.30ms, 120µs. The
// engine's findings and the reports write every duration with it.
func Seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", s)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", s*1e3)
	}
	return fmt.Sprintf("%.0fµs", s*1e6)
}

// formatNumber writes a configured number as it would be configured: 0.95, 50000.
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
