package soak

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// responseCheck verifies a reply body beyond its status: a substring, a JSON field, or
// both. A failed check counts as http_error: PIC answered, but not correctly.
type responseCheck struct {
	substring []byte
	jsonPath  []string
	jsonWant  []byte // compact JSON of the wanted value
	spec      string // as configured, for errors
}

// newResponseCheck returns nil when neither check is configured.
func newResponseCheck(substring, jsonSpec string) (*responseCheck, error) {
	if substring == "" && jsonSpec == "" {
		return nil, nil
	}
	c := &responseCheck{substring: []byte(substring), spec: jsonSpec}
	if jsonSpec != "" {
		path, want, ok := strings.Cut(jsonSpec, "=")
		var v any
		if !ok || path == "" || json.Unmarshal([]byte(want), &v) != nil {
			return nil, fmt.Errorf(`PICSOAK_TARGET_EXPECT_JSON=%q: want path=value with a JSON value, such as status="accepted" or data.ok=true`, jsonSpec)
		}
		c.jsonPath = strings.Split(path, ".")
		c.jsonWant, _ = json.Marshal(v)
	}
	return c, nil
}

var errNotJSON = errors.New("reply body is not a JSON object")

func (c *responseCheck) verify(body []byte) error {
	if len(c.substring) > 0 && !bytes.Contains(body, c.substring) {
		return fmt.Errorf("reply body lacks %q", c.substring)
	}
	if c.jsonPath == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return errNotJSON
	}
	for _, key := range c.jsonPath {
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("reply JSON has no %s", c.spec[:strings.Index(c.spec, "=")])
		}
		if v, ok = obj[key]; !ok {
			return fmt.Errorf("reply JSON has no %s", c.spec[:strings.Index(c.spec, "=")])
		}
	}
	got, _ := json.Marshal(v)
	if !bytes.Equal(got, c.jsonWant) {
		return fmt.Errorf("reply JSON %s is %s, want %s", c.spec[:strings.Index(c.spec, "=")], got, c.jsonWant)
	}
	return nil
}
