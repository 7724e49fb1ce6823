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
// padded or not, at any alignment; hex in either case).
type redactor struct {
	mu      sync.RWMutex
	secrets []string // the fixed credentials, then the recent tokens
	fixed   int      // how many of secrets are the fixed credentials
	tokens  []string // the most recent tokens, oldest first
	targets []string // what the scan looks for: secrets and their whole-transform forms, longest first
}

func newRedactor(fixed ...string) *redactor {
	r := &redactor{}
	for _, s := range fixed {
		if s != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	r.fixed = len(r.secrets)
	r.targets = targetsOf(r.secrets)
	return r
}

// targetsOf returns secrets and the forms a transform of the whole text
// gives them, longest first so that a secret that begins another does not
// leave the other's tail.
func targetsOf(secrets []string) []string {
	var dst []string
	for _, s := range secrets {
		dst = appendForms(dst, s)
	}
	slices.SortStableFunc(dst, func(a, b string) int { return len(b) - len(a) })
	return dst
}

// appendForms adds sec and its base64 and hex forms. A secret inside a
// longer base64 text is encoded at one of three alignments; each gives a
// run of characters that depend on the secret alone.
func appendForms(dst []string, sec string) []string {
	if sec == "" {
		return dst
	}
	add := func(f string, encoded bool) {
		if (!encoded || len(f) >= minEncodedForm) && !slices.Contains(dst, f) {
			dst = append(dst, f)
		}
	}
	// A server may normalise what it echoes: a key with diacritics comes
	// back composed (NFC) or decomposed (NFD).
	for _, v := range []string{sec, norm.NFC.String(sec), norm.NFD.String(sec)} {
		add(v, false)
		add(hex.EncodeToString([]byte(v)), true)
		add(strings.ToUpper(hex.EncodeToString([]byte(v))), true)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			for shift := 0; shift < 3; shift++ {
				in := append(make([]byte, shift), v...)
				out := enc.EncodeToString(in)
				start := (shift*8 + 5) / 6 // characters holding a bit of the prefix
				end := len(in) * 8 / 6     // characters wholly from the secret
				if start < end {
					add(out[start:end], true)
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
	// A new array: string reads the old one without the lock.
	r.secrets = append(slices.Clip(r.secrets[:r.fixed]), r.tokens...)
	r.targets = targetsOf(r.secrets)
}

// string hides every known secret in s, and extra, the request's own
// (callback_apikey), in every form the redactor knows.
func (r *redactor) string(s string, extra ...string) string {
	if s == "" {
		return s
	}
	s = secretFields.ReplaceAllStringFunc(s, func(m string) string {
		sub := secretFields.FindStringSubmatch(m)
		if sub[1] != "" {
			return sub[1] + `"` + redacted + `"`
		}
		return sub[2] + redacted
	})
	r.mu.RLock()
	secrets, targets := r.secrets, r.targets
	r.mu.RUnlock()
	var own []string
	for _, e := range extra {
		if e != "" && !slices.Contains(secrets, e) {
			own = append(own, e)
		}
	}
	if len(own) > 0 {
		secrets = append(slices.Clip(secrets), own...)
		targets = targetsOf(secrets)
	}
	// As they are first: a secret that holds an escape ("a%41b") is not
	// found by the decoding scan.
	for _, t := range targets {
		s = strings.ReplaceAll(s, t, redacted)
	}
	return scanRedact(s, targets)
}
