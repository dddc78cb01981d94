// Package redact hides credentials in everything picsoak prints: URLs with a password
// or a token, credential headers and query parameters, and the literal values of the
// configured secrets wherever else they turn up. It is a leaf: it knows nothing of
// picsoak's configuration, which hands it the URLs and headers to protect.
package redact

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

// URL hides the credentials in u, for logs, reports and errors: the userinfo's
// password (or a lone user name, which is usually a token) and the values of query
// parameters named like credentials (IsSecretName). An unparseable u is hidden whole.
func URL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	if s, changed := parsedURL(parsed); changed {
		return s
	}
	return u
}

// parsedURL returns u's redacted form and whether it differs from u.
func parsedURL(u *url.URL) (string, bool) {
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

// Text hides the credentials of every URL found in s.
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, URL)
}

// minSecretLen is the shortest configured secret replaced wherever it appears; a
// shorter one would mangle ordinary words, so it is hidden only where it sits in a URL.
const minSecretLen = 4

// Redactor hides the credentials of one configuration in any text: the URL
// credentials Text finds, and the literal values of credential headers, URL passwords
// and credential query parameters wherever else they turn up (an error that quotes a
// header, a percent-decoded URL). A nil Redactor does Text only. It is immutable, so
// safe for concurrent use.
type Redactor struct {
	secrets []string // longest first, so a secret containing another is hidden whole
}

// New collects the secrets of urls (nil entries are skipped) and headers.
func New(urls []*url.URL, headers []http.Header) *Redactor {
	r := &Redactor{}
	for _, u := range urls {
		if u != nil {
			r.addURL(u)
		}
	}
	for _, h := range headers {
		r.addHeader(h)
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
	s = Text(s)
	if r == nil {
		return s
	}
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, Redacted)
	}
	return s
}
