package report

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/picsoak/picsoak/soak"
)

// JUnit XML, the subset every CI system reads: one testsuite, one testcase per cycle.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       float64         `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// JUnit renders a run as JUnit XML: a cycle that failed, or regressed against the
// run's baseline (when it has one), is a failure with its findings; an aborted one is
// an error. Each testcase's system-out holds its Markdown report.
func JUnit(run *Run) ([]byte, error) {
	s := junitSuite{Name: "picsoak", Properties: []junitProperty{{Name: "target", Value: run.Target}}}
	if run.Version != "" {
		s.Properties = append(s.Properties, junitProperty{Name: "picsoak_version", Value: run.Version})
	}
	if run.Baseline != "" {
		s.Properties = append(s.Properties, junitProperty{Name: "baseline", Value: run.Baseline})
	}
	if !run.Start.IsZero() {
		s.Timestamp = run.Start.UTC().Format("2006-01-02T15:04:05")
	}
	for _, r := range run.Results {
		c := junitCase{Name: r.Cycle.String(), Classname: "picsoak." + r.Cycle.String(), Time: r.DurationSeconds, SystemOut: Markdown(r)}
		var regressions []ComparisonRow
		if run.Comparison != nil {
			regressions = run.Comparison.Regressions(r.Cycle)
		}
		switch {
		case r.Verdict == soak.VerdictAborted:
			c.Error = &junitProblem{Type: "aborted", Message: "aborted: " + r.AbortReason, Body: findings(r, regressions)}
			s.Errors++
		case r.Verdict != soak.VerdictPass || len(regressions) > 0:
			var msgs []string
			for _, t := range r.Missed() {
				msgs = append(msgs, fmt.Sprintf("threshold %s missed: %s %s", t.String(), t.Metric, t.Measured()))
			}
			if r.Verdict != soak.VerdictPass && len(msgs) == 0 {
				msgs = append(msgs, verdictReason(r))
			}
			for _, g := range regressions {
				msgs = append(msgs, "regression against the baseline: "+g.Summary())
			}
			typ := "fail"
			if r.Verdict == soak.VerdictPass {
				typ = "regression"
			}
			c.Failure = &junitProblem{Type: typ, Message: strings.Join(msgs, "; "), Body: findings(r, regressions)}
			s.Failures++
		}
		s.Tests++
		s.Time += r.DurationSeconds
		s.Cases = append(s.Cases, c)
	}
	doc := junitSuites{Name: "picsoak", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []junitSuite{s}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding JUnit XML: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

func findings(r *soak.Result, regressions []ComparisonRow) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString("- " + f + "\n")
	}
	for _, g := range regressions {
		b.WriteString("- Regression against the baseline: " + g.Summary() + "\n")
	}
	return b.String()
}
