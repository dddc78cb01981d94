//go:build !unix

package pace

import "time"

// ProcessCPU is unknown here: findings about a limited generator then name workers.
func ProcessCPU() (time.Duration, bool) { return 0, false }
