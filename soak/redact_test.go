package soak

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIsSecretName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"Authorization", true},       // the standard credential header
		{"proxy-authorization", true}, // case-insensitive
		{"Cookie", true},              // session cookies
		{"X-Api-Key", true},           // the common API key header
		{"X-Auth-Token", true},        // contains auth and token
		{"access_token", true},        // OAuth query parameter
		{"client_secret", true},       // OAuth client secret
		{"password", true},            // pass
		{"X-Amz-Signature", true},     // presigned URLs
		{"Content-Type", false},       // ordinary header
		{"X-Picsoak-Stream", false},   // picsoak's own header
		{"page", false},               // ordinary query parameter
	} {
		if got := IsSecretName(tc.name); got != tc.want {
			t.Errorf("IsSecretName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		// Nothing to hide: returned as written, not re-encoded.
		{"http://pic:8080/events?page=2&b=a%20b", "http://pic:8080/events?page=2&b=a%20b"},
		// A password in the userinfo.
		{"http://user:s3cret@pic/events", "http://user:xxxxx@pic/events"},
		// A lone user name is usually a token (https://<token>@host).
		{"https://ghp_abcdef@pic/events", "https://xxxxx@pic/events"},
		// Credential query parameters, in order, the others kept.
		{"http://pic/e?token=abc&page=2&API_KEY=def", "http://pic/e?token=xxxxx&page=2&API_KEY=xxxxx"},
		// A credential parameter without a value.
		{"http://pic/e?secret", "http://pic/e?secret=xxxxx"},
		// Both at once.
		{"http://u:p@pic/e?access_token=t#frag", "http://u:xxxxx@pic/e?access_token=xxxxx#frag"},
		// Unparseable: hidden whole, it may hold anything.
		{"http://u:p@pic:port/", "(unparseable URL)"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactText(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		// net/http's error quotes the URL.
		{`Get "http://pic/e?token=abc": dial tcp 127.0.0.1:1: connect: connection refused`,
			`Get "http://pic/e?token=xxxxx": dial tcp 127.0.0.1:1: connect: connection refused`},
		// Two URLs, one clean.
		{"from https://a:b@x/ to http://y/z", "from https://a:xxxxx@x/ to http://y/z"},
		// No URL at all.
		{"unexpected status 503 Service Unavailable", "unexpected status 503 Service Unavailable"},
	} {
		if got := RedactText(tc.in); got != tc.want {
			t.Errorf("RedactText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactorHidesEveryConfiguredSecret(t *testing.T) {
	r := NewRedactor(TargetConfig{
		URL:        "http://user:pass%2Fword@pic/events?token=tok%3Den&page=22222",
		MetricsURL: "http://pic/metrics?api_key=metricskey",
		Headers:    "Authorization: Bearer bearer-credential\nX-Api-Key: headerkey\nAccept: application/json",
	})
	for _, tc := range []struct {
		in, want string
	}{
		// The header value and the bare credential after its scheme.
		{"sent Authorization: Bearer bearer-credential", "sent Authorization: xxxxx"},
		{"token bearer-credential rejected", "token xxxxx rejected"},
		// Another credential header.
		{"key headerkey", "key xxxxx"},
		// The URL password decoded and encoded.
		{"pass/word and pass%2Fword", "xxxxx and xxxxx"},
		// Query credentials decoded and encoded, from either URL.
		{"tok=en tok%3Den metricskey", "xxxxx xxxxx xxxxx"},
		// Non-credential values stay: the page number and the Accept header.
		{"page 22222 accepts application/json", "page 22222 accepts application/json"},
	} {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var zero *Redactor
	if got, want := zero.String("http://a:b@c/"), "http://a:xxxxx@c/"; got != want {
		t.Errorf("nil Redactor: got %q, want %q", got, want)
	}
}

// A targets file's credentials are hidden like PICSOAK_TARGET_*'s.
func TestRedactorReadsTheTargetsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "targets")
	os.WriteFile(file, []byte("GET http://u:file-password@pic/a?access_token=file-token\nCookie: session=file-cookie\n\nPOST http://pic/b\n"), 0o600)
	r := NewRedactor(TargetConfig{TargetsFile: file})
	got := r.String("file-password file-token session=file-cookie pic/b")
	if want := "xxxxx xxxxx xxxxx pic/b"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

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
	cfg := testConfig(strings.Replace(pic.URL, "http://", "http://u:"+secret+"@", 1) + "/e?token=" + secret)
	cfg.Target.Client = ClientNetHTTP
	cfg.Streams.Count, cfg.Streams.Requests = 1, 2
	target, err := NewHTTPTarget(cfg.Target, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Config: cfg, Target: target, TargetName: cfg.Target.URL, Sampler: failingSampler{secret}}
	res := r.Run(t.Context(), Streams)
	if e := res.Errors["conn_error"]; !strings.Contains(e, "token=xxxxx") {
		t.Errorf("conn_error example: got %q, want net/http's error with the URL redacted", e)
	}
	if res.Resources == nil {
		t.Fatalf("resources: got nil, want the failed samples listed as missing")
	}
	for where, s := range map[string]string{
		"target": res.Target, "abort reason": res.AbortReason,
		"findings": strings.Join(res.Findings, "\n"), "errors": strings.Join(mapValues(res.Errors), "\n"),
		"missing": strings.Join(res.Resources.Missing, "\n"), "markdown": Markdown(res),
	} {
		if strings.Contains(s, secret) {
			t.Errorf("%s: got %q, want no %s", where, s, secret)
		}
	}
}

type failingSampler struct{ secret string }

func (f failingSampler) Sample(ctx context.Context) (ResourceSample, error) {
	return ResourceSample{Time: time.Now()}, errors.New(`Get "http://pic/metrics?token=` + f.secret + `": refused`)
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
