package autocall

import (
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"
)

const redacted = "[REDACTED]"

// maxKnownTokens bounds how many past tokens the redactor remembers: a
// server may echo a token it has just rejected.
const maxKnownTokens = 8

// minEncodedForm is the shortest base64 or hex form of a secret that is
// redacted: shorter runs would hide ordinary text.
const minEncodedForm = 8

// secretFields matches JSON members and query parameters that carry
// credentials, whatever their value, so that a secret the client never saw
// (another user's token echoed back) is hidden too.
var secretFields = regexp.MustCompile(`(?i)("(?:access_token|refresh_token|secret_key|api_?key|callback_apikey|token|password)"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)|((?:api_?key|access_token|token|secret_key)=)[^&\s"']+`)

// redactor hides the client's credentials in anything that leaves the SDK:
// error strings and every error in their chains, logs, APIError.Body,
// per-callee reasons. It is the one place that knows how a secret may be
// echoed: as it is; in any mix of the escapes a server may apply on the
// way (%XX in either case, JSON \uXXXX and \/, Go's \xXX, HTML &#NN;,
// &#xHH; and &amp;, + for a space), which the scan in redact_scan.go
// decodes as it matches; or transformed whole (base64, std or URL,
// padded or not, at any alignment, wrapped into lines by CR, LF or their
// JSON escapes; hex); composed (NFC) or decomposed (NFD). ASCII letters
// match in either case, except in base64.
type redactor struct {
	mu      sync.RWMutex
	secrets []string // the fixed credentials, then the recent tokens
	fixed   int      // how many of secrets are the fixed credentials
	tokens  []string // the most recent tokens, oldest first
	m       *matcher // for secrets; replaced, never changed
}

func newRedactor(fixed ...string) *redactor {
	r := &redactor{}
	for _, s := range fixed {
		if s != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	r.fixed = len(r.secrets)
	r.m = newMatcher(r.secrets)
	return r
}

// matcher finds a set of secrets in the forms redactor lists.
type matcher struct {
	raw     []string    // the secrets as they are, NFC and NFD, longest first
	byFirst [256][]form // every form, by its first byte in either case, longest first
}

// form is one way a secret may be written.
type form struct {
	s string
	// fold: ASCII letters match in either case (the secret as it is, its
	// escapes and hex). A server may upper-case a GUID-like key, or a
	// host name it echoes; base64 is case-sensitive.
	fold bool
	// wrap: line breaks inside the run are skipped (base64 wrapped at 76
	// or 64 columns, as MIME and PEM do).
	wrap bool
}

func newMatcher(secrets []string) *matcher {
	m := &matcher{}
	var forms []form
	for _, s := range secrets {
		m.raw = appendRaw(m.raw, s)
		forms = appendForms(forms, s)
	}
	// Longest first: a secret that begins another must not leave its tail.
	slices.SortStableFunc(m.raw, func(a, b string) int { return len(b) - len(a) })
	slices.SortStableFunc(forms, func(a, b form) int { return len(b.s) - len(a.s) })
	for _, f := range forms {
		c := f.s[0]
		m.byFirst[c] = append(m.byFirst[c], f)
		if o := otherCase(c); f.fold && o != c {
			m.byFirst[o] = append(m.byFirst[o], f)
		}
	}
	return m
}

// otherCase returns an ASCII letter in the other case; c for any other byte.
func otherCase(c byte) byte {
	switch {
	case c >= 'a' && c <= 'z':
		return c - 'a' + 'A'
	case c >= 'A' && c <= 'Z':
		return c - 'A' + 'a'
	}
	return c
}

// appendRaw adds sec as it is, composed and decomposed: a server may
// normalise what it echoes, and a key may hold diacritics.
func appendRaw(dst []string, sec string) []string {
	if sec == "" {
		return dst
	}
	for _, v := range []string{sec, norm.NFC.String(sec), norm.NFD.String(sec)} {
		if !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

// appendForms adds sec's raw forms and their base64 and hex forms. A
// secret inside a longer base64 text is encoded at one of three
// alignments; each gives a run of characters that depend on the secret
// alone.
func appendForms(dst []form, sec string) []form {
	add := func(f form, encoded bool) {
		if (!encoded || len(f.s) >= minEncodedForm) && !slices.Contains(dst, f) {
			dst = append(dst, f)
		}
	}
	for _, v := range appendRaw(nil, sec) {
		add(form{s: v, fold: true}, false)
		add(form{s: hex.EncodeToString([]byte(v)), fold: true}, true)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			for shift := 0; shift < 3; shift++ {
				in := append(make([]byte, shift), v...)
				out := enc.EncodeToString(in)
				start := (shift*8 + 5) / 6 // characters holding a bit of the prefix
				end := len(in) * 8 / 6     // characters wholly from the secret
				if start < end {
					add(form{s: out[start:end], wrap: true}, true)
				}
			}
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
	if slices.Contains(r.secrets, tok) {
		return
	}
	r.tokens = append(r.tokens, tok)
	if len(r.tokens) > maxKnownTokens {
		r.tokens = r.tokens[len(r.tokens)-maxKnownTokens:]
	}
	// A new array: matcherFor reads the old one without the lock.
	r.secrets = append(slices.Clip(r.secrets[:r.fixed]), r.tokens...)
	r.m = newMatcher(r.secrets)
}

// matcherFor returns the matcher of the Client's secrets and extra, a
// request's own (callback_apikey). Build it once for many strings.
func (r *redactor) matcherFor(extra ...string) *matcher {
	r.mu.RLock()
	secrets, m := r.secrets, r.m
	r.mu.RUnlock()
	var own []string
	for _, e := range extra {
		if e != "" && !slices.Contains(secrets, e) {
			own = append(own, e)
		}
	}
	if len(own) == 0 {
		return m
	}
	return newMatcher(append(slices.Clip(secrets), own...))
}

// string hides every known secret in s, and extra, in the forms redactor lists.
func (r *redactor) string(s string, extra ...string) string {
	if s == "" {
		return s
	}
	return r.matcherFor(extra...).string(s)
}

// string hides m's secrets in s: credential fields whatever their value,
// then the secrets as they are (one that holds an escape, "a%41b", is not
// found by the decoding scan), then the scan.
func (m *matcher) string(s string) string {
	if s == "" {
		return s
	}
	if mayHaveSecretField(s) {
		s = secretFields.ReplaceAllStringFunc(s, func(f string) string {
			sub := secretFields.FindStringSubmatch(f)
			if sub[1] != "" {
				return sub[1] + `"` + redacted + `"`
			}
			return sub[2] + redacted
		})
	}
	for _, sec := range m.raw {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return scanRedact(s, &m.byFirst)
}

// mayHaveSecretField is false when s holds none of the words every
// secretFields match holds: the case-insensitive regexp is the slowest
// part of redacting a large body.
func mayHaveSecretField(s string) bool {
	for _, w := range []string{"token", "secret", "api", "password"} {
		for i := 0; i+len(w) <= len(s); i++ {
			if s[i]|0x20 == w[0] && strings.EqualFold(s[i:i+len(w)], w) {
				return true
			}
		}
	}
	return false
}
