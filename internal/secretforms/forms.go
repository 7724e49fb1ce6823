// Package secretforms is the corpus of forms a secret may be echoed in,
// which the SDK's redaction must hide: the SDK's own tests run it, and so
// do those of the modules that record what the SDK tells them (otel/).
package secretforms

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Form is one way a server may echo a secret.
type Form struct {
	Name string
	Enc  func(string) string
}

func eachByte(format string) func(string) string {
	return func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, format, s[i])
		}
		return b.String()
	}
}

func eachRune(format string) func(string) string {
	return func(s string) string {
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, format, r)
		}
		return b.String()
	}
}

// inBase64Blob is the secret inside a longer base64 text, offset by pad
// bytes, as an echoed, encoded request body would carry it.
func inBase64Blob(enc *base64.Encoding, pad int) func(string) string {
	return func(s string) string { return enc.EncodeToString([]byte(strings.Repeat("x", pad) + s + "}")) }
}

// All is every form the SDK's redaction must hide a secret in.
var All = []Form{
	{"raw", func(s string) string { return s }},
	{"query escape", url.QueryEscape},
	{"path escape", url.PathEscape},
	{"every byte %XX", eachByte("%%%02X")},
	{"every byte %xx", eachByte("%%%02x")},
	{"query escape, lower-case %xx", func(s string) string {
		q := url.QueryEscape(s)
		var b strings.Builder
		for i := 0; i < len(q); i++ {
			if q[i] == '%' && i+2 < len(q) {
				b.WriteString(strings.ToLower(q[i : i+3]))
				i += 2
				continue
			}
			b.WriteByte(q[i])
		}
		return b.String()
	}},
	{"JSON \\u00XX", eachRune(`\u%04x`)},
	{"JSON \\u00XX upper", eachRune(`\u%04X`)},
	{"JSON escaped slash", func(s string) string {
		j, _ := json.Marshal(s)
		return strings.ReplaceAll(string(j[1:len(j)-1]), "/", `\/`)
	}},
	{"Go %q", func(s string) string { q := strconv.QuoteToASCII(s); return q[1 : len(q)-1] }},
	{"Go \\xXX", eachByte(`\x%02x`)},
	{"HTML &#NN;", eachRune("&#%d;")},
	{"HTML &#xHH;", eachRune("&#x%X;")},
	{"HTML &#NN no semicolon", eachRune("&#%d")},
	{"base64 std", func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }},
	{"base64 URL", func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }},
	{"base64 raw URL", func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }},
	{"base64 in a blob, offset 1", inBase64Blob(base64.StdEncoding, 1)},
	{"base64 in a blob, offset 2", inBase64Blob(base64.StdEncoding, 2)},
	{"base64 URL in a blob, offset 4", inBase64Blob(base64.URLEncoding, 4)},
	{"hex", func(s string) string { return hex.EncodeToString([]byte(s)) }},
	{"HEX", func(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) }},
	{"NFD", norm.NFD.String},
	{"NFC", norm.NFC.String},
	{"ASCII upper case", asciiCase('a', 'z', 'A')},
	{"ASCII lower case", asciiCase('A', 'Z', 'a')},
	{"upper case, query escape", func(s string) string { return url.QueryEscape(asciiCase('a', 'z', 'A')(s)) }},
	{"upper case, JSON \\u00XX", func(s string) string { return eachRune(`\u%04x`)(asciiCase('a', 'z', 'A')(s)) }},
	{"hex, mixed case", func(s string) string {
		return asciiCase('a', 'f', 'A')(hex.EncodeToString([]byte(s[:len(s)/2]))) + hex.EncodeToString([]byte(s[len(s)/2:]))
	}},
	{"base64 wrapped at 76, CRLF", wrapped(inBase64Blob(base64.StdEncoding, 40), 76, "\r\n")},
	{"base64 wrapped at 64, LF", wrapped(inBase64Blob(base64.StdEncoding, 2), 64, "\n")},
	{"base64 wrapped at 76, JSON \\r\\n", wrapped(inBase64Blob(base64.StdEncoding, 41), 76, `\r\n`)},
	{"base64 URL wrapped at 64, JSON \\n", wrapped(inBase64Blob(base64.URLEncoding, 2), 64, `\n`)},
}

// asciiCase maps the ASCII letters from lo to hi onto those from to: a
// server upper-casing a GUID-like key leaves its diacritics alone.
func asciiCase(lo, hi, to byte) func(string) string {
	return func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if c >= lo && c <= hi {
				b[i] = c - lo + to
			}
		}
		return string(b)
	}
}

// wrapped breaks an encoding's output into lines of cols characters.
func wrapped(enc func(string) string, cols int, sep string) func(string) string {
	return func(s string) string {
		e := enc(s)
		var b strings.Builder
		for len(e) > cols {
			b.WriteString(e[:cols] + sep)
			e = e[cols:]
		}
		b.WriteString(e)
		return b.String()
	}
}
