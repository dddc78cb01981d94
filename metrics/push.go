package metrics

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
)

// RegisterBatchRun registers what a pushed `picsoak run` adds to the daemon's
// metrics: whether the run as a whole passed (every cycle passed and nothing
// regressed) and how often its job is expected to push, which the alert on a job
// that stopped pushing reads.
func RegisterBatchRun(reg prometheus.Registerer, passed bool, expected time.Duration) {
	f := factory{reg}
	f.gauge("run_pass", "1 if the pushed picsoak run passed: every cycle passed and, against a baseline, nothing regressed; else 0.").Set(boolFloat(passed))
	f.gauge("push_expected_interval_seconds", "How often runs of this job are expected to push (PICSOAK_PUSH_EXPECTED_INTERVAL).").Set(expected.Seconds())
}

// Push replaces the Pushgateway group of job and grouping at gateway (a base URL;
// basic auth from its user:password, TLS for https://) with every metric gathered
// from g, under ctx. Its error names the Pushgateway as given, so callers redact it.
func Push(ctx context.Context, gateway, job string, grouping map[string]string, g prometheus.Gatherer) error {
	u, err := url.Parse(gateway)
	if err != nil {
		return fmt.Errorf("Pushgateway URL: %w", err)
	}
	var user *url.Userinfo
	user, u.User = u.User, nil
	p := push.New(u.String(), job).Gatherer(g).Client(&http.Client{})
	if user != nil {
		password, _ := user.Password()
		p = p.BasicAuth(user.Username(), password)
	}
	for name, value := range grouping {
		p = p.Grouping(name, value)
	}
	return p.PushContext(ctx)
}
