package report

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/picsoak/picsoak/soak"
)

// Run is what `picsoak run --json` writes, and what --baseline reads back: every
// result of one run and, when it had a baseline, the comparison with it.
type Run struct {
	Version    string         `json:"picsoak_version"`
	Target     string         `json:"target"`
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	Passed     bool           `json:"passed"`
	Results    []*soak.Result `json:"results"`
	Baseline   string         `json:"baseline,omitempty"`
	Comparison *Comparison    `json:"baseline_comparison,omitempty"`
}

// ReadRun reads a run's JSON. A single cycle report (the report store's JSON)
// is accepted too, as a run of that one cycle.
func ReadRun(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Results json.RawMessage `json:"results"`
		Cycle   json.RawMessage `json:"cycle"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%s: not a picsoak run or report: %w", path, err)
	}
	var rr Run
	switch {
	case probe.Results != nil:
		err = json.Unmarshal(b, &rr)
	case probe.Cycle != nil:
		var r soak.Result
		err = json.Unmarshal(b, &r)
		rr = Run{Target: r.Target, Start: r.Start, End: r.End, Passed: r.Verdict == soak.VerdictPass, Results: []*soak.Result{&r}}
	default:
		return nil, fmt.Errorf("%s: not a picsoak run or report: no results", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rr.Results) == 0 {
		return nil, fmt.Errorf("%s: the run has no results to compare with", path)
	}
	return &rr, nil
}
