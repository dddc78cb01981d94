package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// PromAPI is a minimal client of Prometheus's HTTP API: only what the end-to-end
// test asks.
type PromAPI struct {
	Base   string // http://127.0.0.1:port
	Client *http.Client
}

// Series is one series of a query result.
type Series struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`  // instant: [time, "value"]
	Values [][]any           `json:"values"` // range: [[time, "value"], ...]
}

// Alert is one entry of /api/v1/alerts.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"` // pending or firing
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

// Rule is one rule of /api/v1/rules.
type Rule struct {
	Name      string `json:"name"`
	Query     string `json:"query"`
	Type      string `json:"type"` // recording or alerting
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

func (p PromAPI) get(path string, params url.Values, data any) error {
	u := p.Base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := p.Client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("GET %s: status %d, body %.200q: %w", path, resp.StatusCode, body, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s %v: got status %q error %q, want success", path, params, env.Status, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

// Query runs an instant query now.
func (p PromAPI) Query(expr string) ([]Series, error) {
	var d struct {
		Result []Series `json:"result"`
	}
	err := p.get("/api/v1/query", url.Values{"query": {expr}}, &d)
	return d.Result, err
}

// QueryRange runs a range query.
func (p PromAPI) QueryRange(expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	var d struct {
		Result []Series `json:"result"`
	}
	err := p.get("/api/v1/query_range", url.Values{
		"query": {expr},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}, &d)
	return d.Result, err
}

// MetricNames lists every metric name Prometheus has.
func (p PromAPI) MetricNames() ([]string, error) {
	var names []string
	err := p.get("/api/v1/label/__name__/values", nil, &names)
	return names, err
}

// LabelValues lists the values of a label.
func (p PromAPI) LabelValues(label string) ([]string, error) {
	var values []string
	err := p.get("/api/v1/label/"+url.PathEscape(label)+"/values", nil, &values)
	return values, err
}

// Alerts lists the pending and firing alerts.
func (p PromAPI) Alerts() ([]Alert, error) {
	var d struct {
		Alerts []Alert `json:"alerts"`
	}
	err := p.get("/api/v1/alerts", nil, &d)
	return d.Alerts, err
}

// Rules lists every loaded rule.
func (p PromAPI) Rules() ([]Rule, error) {
	var d struct {
		Groups []struct {
			Rules []Rule `json:"rules"`
		} `json:"groups"`
	}
	err := p.get("/api/v1/rules", nil, &d)
	var rules []Rule
	for _, g := range d.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules, err
}
