package soak

import "encoding/json"

// Outcome is how one request ended. Every request ends in exactly one.
type Outcome uint8

const (
	OutcomeOK        Outcome = iota // the expected status and a readable body
	OutcomeHTTPError                // a reply with a status that is not expected
	OutcomeTimeout                  // no complete reply within the request timeout
	OutcomeConnError                // the connection could not be made or broke
	OutcomeOther                    // anything else, e.g. a malformed reply
	numOutcomes
)

// Outcomes lists every outcome in label order.
var Outcomes = [numOutcomes]Outcome{OutcomeOK, OutcomeHTTPError, OutcomeTimeout, OutcomeConnError, OutcomeOther}

var outcomeNames = [numOutcomes]string{"ok", "http_error", "timeout", "conn_error", "other"}

// String returns the outcome's metric label value.
func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "other"
}

// OutcomeCounts counts requests per outcome.
type OutcomeCounts [numOutcomes]int64

// Total is the number of requests counted.
func (c OutcomeCounts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// SuccessRatio is ok ÷ total, 0 when nothing was sent.
func (c OutcomeCounts) SuccessRatio() float64 {
	if t := c.Total(); t > 0 {
		return float64(c[OutcomeOK]) / float64(t)
	}
	return 0
}

// MarshalJSON writes the counts keyed by label, which reads better in reports than an array.
func (c OutcomeCounts) MarshalJSON() ([]byte, error) {
	m := make(map[string]int64, numOutcomes)
	for i, v := range c {
		m[outcomeNames[i]] = v
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (c *OutcomeCounts) UnmarshalJSON(b []byte) error {
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for i, name := range outcomeNames {
		c[i] = m[name]
	}
	return nil
}
