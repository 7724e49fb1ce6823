package autocall

import (
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
var secretFields = regexp.MustCompile(`(?i)("(?:access_token|refresh_token|secret_key|api_?key|callback_apikey|token|password)"\s*:\s*)"(?:[^"\\]|\\.)*"|((?:api_?key|access_token|token|secret_key)=)[^&\s"']+`)

// redactor hides the client's credentials in anything that leaves the SDK:
// error strings, logs, APIError.Body.
type redactor struct {
	mu      sync.RWMutex
	secrets []string // fixed credentials, then the most recent tokens
	fixed   int
}

func newRedactor(fixed ...string) *redactor {
	r := &redactor{}
	for _, s := range fixed {
		if s != "" {
			r.secrets = append(r.secrets, s)
		}
	}
	r.fixed = len(r.secrets)
	return r
}

// addToken remembers a token, forgetting the oldest beyond maxKnownTokens.
func (r *redactor) addToken(tok string) {
	if tok == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s == tok {
			return
		}
	}
	r.secrets = append(r.secrets, tok)
	if extra := len(r.secrets) - r.fixed - maxKnownTokens; extra > 0 {
		r.secrets = append(r.secrets[:r.fixed], r.secrets[r.fixed+extra:]...)
	}
}

func (r *redactor) string(s string) string {
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
	// Longest first: a token that begins another must not leave its tail.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return s
}

func (r *redactor) bytes(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	return []byte(r.string(string(b)))
}
