package redact

import (
	"net/http"
	"net/url"
	"testing"
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

func TestURL(t *testing.T) {
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
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
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
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactorHidesEveryGivenSecret(t *testing.T) {
	parse := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	r := New(
		[]*url.URL{parse("http://user:pass%2Fword@pic/events?token=tok%3Den&page=22222"), parse("http://pic/metrics?api_key=metricskey"), nil},
		[]http.Header{{"Authorization": {"Bearer bearer-credential"}, "X-Api-Key": {"headerkey"}, "Accept": {"application/json"}}},
	)
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
