package httptarget

import "github.com/picsoak/picsoak/soak/config"

// weightedOrder interleaves endpoint indexes by weight (smooth weighted round robin),
// so a sender cycling through it spreads each endpoint's share evenly over time.
func weightedOrder(endpoints []config.Endpoint) []int {
	total := 0
	for _, e := range endpoints {
		total += e.Weight
	}
	current := make([]int, len(endpoints))
	order := make([]int, 0, total)
	for range total {
		best := 0
		for i, e := range endpoints {
			current[i] += e.Weight
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		order = append(order, best)
	}
	return order
}
