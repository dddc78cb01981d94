//go:build !unix

package soak

import "time"

// processCPU is unknown here: findings about a limited generator then name workers.
func processCPU() (time.Duration, bool) { return 0, false }
