package soak

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces every credential picsoak prints.
const Redacted = "xxxxx"

// secretWords mark a header or query parameter name as a credential when the name
// contains one of them, case-insensitively: Authorization, Proxy-Authorization, Cookie,
// X-Api-Key, access_token, client_secret, password, X-Amz-Signature, …
var secretWords = []string{"auth", "token", "secret", "key", "cookie", "pass", "session", "signature", "credential"}

// IsSecretName reports whether a header or query parameter named name carries a
// credential, so that its value must never be printed.
func IsSecretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// RedactURL hides the credentials in u, for logs, reports and errors: the userinfo's
// password (or a lone user name, which is usually a token) and the values of query
// parameters named like credentials (IsSecretName). An unparseable u is hidden whole.
func RedactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	if s, changed := redactParsedURL(parsed); changed {
		return s
	}
	return u
}

// redactParsedURL returns u's redacted form and whether it differs from u.
func redactParsedURL(u *url.URL) (string, bool) {
	changed := false
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), Redacted)
		} else {
			c.User = url.User(Redacted)
		}
		changed = true
	}
	if c.RawQuery != "" {
		parts := strings.Split(c.RawQuery, "&")
		for i, part := range parts {
			name, _, _ := strings.Cut(part, "=")
			if unescaped, err := url.QueryUnescape(name); err == nil {
				name = unescaped
			}
			if IsSecretName(name) {
				parts[i] = url.QueryEscape(name) + "=" + Redacted
				changed = true
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	return c.String(), changed
}

// urlInText finds URLs inside free text such as net/http's `Get "http://…": …` errors.
var urlInText = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)

// RedactText hides the credentials of every URL found in s.
func RedactText(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, func(u string) string {
		parsed, err := url.Parse(u)
		if err != nil {
			return "(unparseable URL)"
		}
		if r, changed := redactParsedURL(parsed); changed {
			return r
		}
		return u
	})
}

// minSecretLen is the shortest configured secret replaced wherever it appears; a
// shorter one would mangle ordinary words, so it is hidden only where it sits in a URL.
const minSecretLen = 4

// Redactor hides the credentials of one target configuration in any text: the URL
// credentials RedactText finds, and the literal values of credential headers, URL
// passwords and credential query parameters wherever else they turn up (an error
// that quotes a header, a percent-decoded URL). The zero Redactor does RedactText only.
type Redactor struct {
	secrets []string // longest first, so a secret containing another is hidden whole
}

// NewRedactor collects the secrets of t: its URL and headers, every request of its
// targets file, and its metrics URL.
func NewRedactor(t TargetConfig) *Redactor {
	r := &Redactor{}
	for _, raw := range []string{t.URL, t.MetricsURL} {
		if u, err := url.Parse(raw); err == nil {
			r.addURL(u)
		}
	}
	header, _ := ParseHeaders(t.Headers) // invalid headers never get this far
	r.addHeader(header)
	endpoints, _ := t.Endpoints() // nor does an invalid targets file
	for _, e := range endpoints {
		r.addURL(e.URL)
		r.addHeader(e.Header)
	}
	slices.Sort(r.secrets)
	r.secrets = slices.Compact(r.secrets)
	slices.SortStableFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

func (r *Redactor) addURL(u *url.URL) {
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			r.add(p, url.QueryEscape(p), url.PathEscape(p))
		} else {
			r.add(u.User.Username())
		}
	}
	for _, part := range strings.Split(u.RawQuery, "&") {
		name, value, _ := strings.Cut(part, "=")
		if unescaped, err := url.QueryUnescape(name); err == nil {
			name = unescaped
		}
		if !IsSecretName(name) {
			continue
		}
		r.add(value)
		if unescaped, err := url.QueryUnescape(value); err == nil {
			r.add(unescaped)
		}
	}
}

func (r *Redactor) addHeader(h http.Header) {
	for name, values := range h {
		if !IsSecretName(name) {
			continue
		}
		for _, v := range values {
			r.add(v)
			// "Bearer <token>", "Basic <base64>": the credential alone may be quoted too.
			if fields := strings.Fields(v); len(fields) > 1 {
				r.add(fields[1:]...)
			}
		}
	}
}

func (r *Redactor) add(secrets ...string) {
	for _, s := range secrets {
		if len(s) >= minSecretLen && s != Redacted {
			r.secrets = append(r.secrets, s)
		}
	}
}

// String returns s with every credential hidden.
func (r *Redactor) String(s string) string {
	s = RedactText(s)
	if r == nil {
		return s
	}
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, Redacted)
	}
	return s
}

// redact hides credentials in every free-text field of res. Run calls it on every
// result it returns, so nothing downstream (reports, metrics, the status page, the
// API) can print a credential from a request error.
func (res *Result) redact(r *Redactor) {
	res.Target = r.String(res.Target)
	res.AbortReason = r.String(res.AbortReason)
	for k, e := range res.Errors {
		res.Errors[k] = r.String(e)
	}
	for i, f := range res.Findings {
		res.Findings[i] = r.String(f)
	}
	if res.Resources != nil {
		for i, m := range res.Resources.Missing {
			res.Resources.Missing[i] = r.String(m)
		}
	}
}
