package soak_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/picsoak/picsoak/internal/soaktest"
	"github.com/picsoak/picsoak/soak"
	"github.com/picsoak/picsoak/soak/report"
)

// A result leaves Run with no credential in it, whatever its errors quoted.
func TestRunRedactsResults(t *testing.T) {
	// PIC hangs up on every request, so net/http's errors quote the request URL.
	pic := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer pic.Close()
	const secret = "PLANTED-ENGINE-SECRET"
	cfg := soaktest.Config(t, strings.Replace(pic.URL, "http://", "http://u:"+secret+"@", 1)+"/e?token="+secret,
		"PICSOAK_TARGET_CLIENT=net/http", "PICSOAK_STREAMS_COUNT=1", "PICSOAK_STREAMS_REQUESTS=2")
	r := newRunner(t, cfg)
	// The name as written, credentials and all: Run must hide them itself.
	r.TargetName = cfg.Target.Endpoints[0].URL.String()
	r.Sampler = failingSampler{secret}
	res := r.Run(t.Context(), soak.Streams)
	if e := res.Errors["conn_error"]; !strings.Contains(e, "token=xxxxx") {
		t.Errorf("conn_error example: got %q, want net/http's error with the URL redacted", e)
	}
	if res.Resources == nil {
		t.Fatalf("resources: got nil, want the failed samples listed as missing")
	}
	for where, s := range map[string]string{
		"target": res.Target, "abort reason": res.AbortReason,
		"findings": strings.Join(res.Findings, "\n"), "errors": strings.Join(mapValues(res.Errors), "\n"),
		"missing": strings.Join(res.Resources.Missing, "\n"), "markdown": report.Markdown(res),
	} {
		if strings.Contains(s, secret) {
			t.Errorf("%s: got %q, want no %s", where, s, secret)
		}
	}
}

type failingSampler struct{ secret string }

func (f failingSampler) Sample(ctx context.Context) (soak.ResourceSample, error) {
	return soak.ResourceSample{Time: time.Now()}, errors.New(`Get "http://pic/metrics?token=` + f.secret + `": refused`)
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
