package autocall

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

const redacted = "[REDACTED]"

// maxKnownTokens bounds how many past tokens the redactor remembers: a
// server may echo a token it has just rejected.
const maxKnownTokens = 8

// secretFields matches JSON members and query parameters that carry
// credentials, whatever their value, so that a secret the client never saw
// (another user's token echoed back) is hidden too.
var secretFields = regexp.MustCompile(`(?i)("(?:access_token|refresh_token|secret_key|api_?key|callback_apikey|token|password)"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)|((?:api_?key|access_token|token|secret_key)=)[^&\s"']+`)

// redactor hides the client's credentials in anything that leaves the SDK:
// error strings, logs, APIError.Body.
type redactor struct {
	mu      sync.RWMutex
	secrets []string // every form of: the fixed credentials, then the recent tokens
	fixed   int      // how many of secrets are the fixed credentials' forms
	tokens  []string // the most recent tokens, oldest first
}

func newRedactor(fixed ...string) *redactor {
	r := &redactor{}
	for _, s := range fixed {
		r.secrets = appendForms(r.secrets, s)
	}
	r.fixed = len(r.secrets)
	return r
}

// appendForms adds sec and the forms a server may echo it in: JSON-escaped
// ("a\/b", "\u003c"), URL-encoded (query and path), so that an echo in
// any of them is hidden too.
func appendForms(dst []string, sec string) []string {
	if sec == "" {
		return dst
	}
	forms := []string{sec, url.QueryEscape(sec), url.PathEscape(sec), strings.ReplaceAll(sec, "/", `\/`)}
	if j, err := json.Marshal(sec); err == nil {
		forms = append(forms, string(j[1:len(j)-1]), strings.ReplaceAll(string(j[1:len(j)-1]), "/", `\/`))
	}
	for _, f := range forms {
		if !slices.Contains(dst, f) {
			dst = append(dst, f)
		}
	}
	return dst
}

// addToken remembers a token, forgetting the oldest beyond maxKnownTokens.
func (r *redactor) addToken(tok string) {
	if tok == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.secrets[r.fixed:], tok) {
		return
	}
	r.tokens = append(r.tokens, tok)
	if len(r.tokens) > maxKnownTokens {
		r.tokens = r.tokens[len(r.tokens)-maxKnownTokens:]
	}
	r.secrets = r.secrets[:r.fixed]
	for _, t := range r.tokens {
		r.secrets = appendForms(r.secrets, t)
	}
}

// string hides every known secret in s, and extra, the request's own.
func (r *redactor) string(s string, extra ...string) string {
	s = secretFields.ReplaceAllStringFunc(s, func(m string) string {
		sub := secretFields.FindStringSubmatch(m)
		if sub[1] != "" {
			return sub[1] + `"` + redacted + `"`
		}
		return sub[2] + redacted
	})
	r.mu.RLock()
	secrets := slices.Clone(r.secrets)
	r.mu.RUnlock()
	for _, e := range extra {
		secrets = appendForms(secrets, e)
	}
	// Longest first: a token that begins another must not leave its tail.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return s
}
