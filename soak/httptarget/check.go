package httptarget

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/picsoak/picsoak/soak/config"
)

var errNotJSON = errors.New("reply body is not a JSON object")

// verify reports what is wrong with an ok-status reply's body for check, nil when
// nothing is.
func verify(check *config.ReplyCheck, body []byte) error {
	if len(check.Substring) > 0 && !bytes.Contains(body, check.Substring) {
		return fmt.Errorf("reply body lacks %q", check.Substring)
	}
	if check.JSONPath == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return errNotJSON
	}
	for _, key := range check.JSONPath {
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("reply JSON has no %s", check.JSONField)
		}
		if v, ok = obj[key]; !ok {
			return fmt.Errorf("reply JSON has no %s", check.JSONField)
		}
	}
	got, _ := json.Marshal(v)
	if !bytes.Equal(got, check.JSONWant) {
		return fmt.Errorf("reply JSON %s is %s, want %s", check.JSONField, got, check.JSONWant)
	}
	return nil
}
