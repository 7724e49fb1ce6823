package autocall

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxSessionChars is OMICall's limit on text-to-speech characters in one
// auto-call session (limit_word_session). The daily quota (limit_word) is
// the provider's to count: it answers ErrLimitWord.
const MaxSessionChars = 300

// nfc returns s in Unicode NFC. Vietnamese typed on some keyboards or
// pasted from macOS is NFD ("ế" as e + ̂ + ́); the engine and the
// providers' character counts expect the composed form.
func nfc(s string) string { return norm.NFC.String(s) }

// charCount counts characters as a reader would: Unicode code points after
// NFC, so "Nguyễn" is 6 whether it was typed composed or not.
func charCount(s string) int { return utf8.RuneCountInString(nfc(s)) }

// wholeSeconds checks a duration sent on the wire as whole seconds.
func wholeSeconds(field string, d time.Duration) (int64, error) {
	switch {
	case d < 0:
		return 0, invalid(field, d.String(), "negative")
	case d%time.Second != 0:
		return 0, invalid(field, d.String(), "not a whole number of seconds")
	}
	return int64(d / time.Second), nil
}

func nonNegative(field string, n int) error {
	if n < 0 {
		return invalid(field, fmt.Sprint(n), "negative")
	}
	return nil
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid(field, "", "empty")
	}
	return nil
}

// callbackURL checks an optional webhook address.
func callbackURL(field, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid(field, raw, "must be an absolute http or https URL")
	}
	return nil
}

// callerNumber checks a caller id or hotline: providers assign these
// (hotlines, 1900/1800 numbers, trunk ids), so only the characters are
// checked, not the Vietnamese numbering plan.
func callerNumber(field, s string, need bool) (string, error) {
	if s == "" {
		if need {
			return "", invalid(field, "", "empty")
		}
		return "", nil
	}
	if n, reason := normalizePhone(s); reason == "" {
		return n, nil // a Vietnamese number: national form, like the callees
	}
	d, _, reason := phoneDigits(s)
	switch {
	case reason != "":
		return "", invalid(field, s, reason)
	case len(d) < 3 || len(d) > 15:
		return "", invalid(field, s, "must have 3 to 15 digits")
	}
	return d, nil
}

// pathSegment checks and escapes an id that goes into a URL path. "." and
// ".." are refused: escaping leaves them as they are, and a normalising
// proxy would turn /report/.. into another endpoint, same authorisation.
func pathSegment(field, id string) (string, error) {
	switch strings.TrimSpace(id) {
	case "":
		return "", invalid(field, "", "empty")
	case ".", "..":
		return "", invalid(field, id, "a path step, not an id")
	}
	return url.PathEscape(id), nil
}

// errNilContext: a nil ctx would panic in a goroutine the caller's recover
// cannot reach (the shared token fetch), so every method refuses it first.
func errNilContext() error {
	return invalid("ctx", "", "nil context: pass context.Background() or a context of your own")
}

// spoken checks text that goes to the speech engine or into an OTP: valid
// UTF-8 and no control character, which the engine would read as noise or
// the provider mangle. multiline allows line breaks (template content).
func spoken(field, s string, multiline bool) error {
	if value, reason := spokenProblem(s, multiline); reason != "" {
		return invalid(field, value, reason)
	}
	return nil
}

// spokenProblem is spoken's check alone, for callers that build the
// field's name only when there is a problem.
func spokenProblem(s string, multiline bool) (value, reason string) {
	if !utf8.ValidString(s) {
		return strings.ToValidUTF8(s, "\uFFFD"), "not valid UTF-8"
	}
	for i, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return "", fmt.Sprintf("control character %U at byte %d", r, i)
		}
	}
	return "", ""
}

// indexed names an element of a list field, "Callees[3]": built only for
// an error, never on the way to a request.
func indexed(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }
