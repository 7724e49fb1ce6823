package autocall

import (
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The scan finds a secret however a server escaped it on the way back:
// it reads the text one escaped character at a time, comparing what each
// stands for, and replaces the escaped run whole. Any mix of escapes is
// found, "%6B%65y", "\u006bey", "&#107;ey", as the literal "key" is.

// unit is one character of the text as written: the bytes it stands for,
// and where the next one starts.
type unit struct {
	b    [utf8.UTFMax]byte
	n    int  // bytes in b
	alt  byte // another byte it may stand for ('+' is a space in a query); 0: none
	next int
}

func byteUnit(c byte, next int) unit { return unit{b: [utf8.UTFMax]byte{c}, n: 1, next: next} }

func runeUnit(r rune, next int) unit {
	u := unit{next: next}
	u.n = utf8.EncodeRune(u.b[:], r)
	return u
}

// scanRedact replaces every run of s that stands for one of the forms
// (indexed by first byte, longest first) with the redaction mark.
func scanRedact(s string, byFirst *[256][]form) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		u := decodeAt(s, i)
		cands := byFirst[u.b[0]]
		if u.alt != 0 && len(byFirst[u.alt]) > 0 {
			cands = append(slices.Clip(cands), byFirst[u.alt]...)
		}
		end := -1
		for _, t := range cands {
			if e, ok := matchAt(s, i, t); ok {
				end = e
				break
			}
		}
		if end < 0 {
			i = u.next
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:i])
		b.WriteString(redacted)
		last, i = end, end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// matchAt reports whether the characters of s from i stand for f, and
// where they end.
func matchAt(s string, i int, f form) (int, bool) {
	t := f.s
	j := 0
	for j < len(t) {
		if i >= len(s) {
			return 0, false
		}
		u := decodeAt(s, i)
		if f.wrap && j > 0 && u.n == 1 && (u.b[0] == '\n' || u.b[0] == '\r') {
			i = u.next // a line break inside a wrapped base64 run
			continue
		}
		for k := 0; k < u.n && j < len(t); k++ {
			if c := u.b[k]; c != t[j] && (u.n != 1 || u.alt != t[j]) && (!f.fold || otherCase(c) != t[j]) {
				return 0, false
			}
			j++
		}
		i = u.next
	}
	return i, true
}

// decodeAt reads the character of s at i, undoing one escape.
func decodeAt(s string, i int) unit {
	c := s[i]
	switch c {
	case '+':
		return unit{b: [utf8.UTFMax]byte{'+'}, n: 1, alt: ' ', next: i + 1}
	case '%':
		// "%2541" is "%41" encoded once more: 'A' too.
		p := i + 1
		for strings.HasPrefix(s[p:], "25") && p+3 < len(s) && isHex(s[p+2]) && isHex(s[p+3]) {
			p += 2
		}
		if p+1 < len(s) {
			if h, ok := hexPair(s[p], s[p+1]); ok {
				return byteUnit(h, p+2)
			}
		}
	case '\\':
		if u, ok := backslashAt(s, i); ok {
			return u
		}
	case '&':
		// "&amp;#43;" is "&#43;" escaped once more.
		p := i
		for strings.HasPrefix(s[p:], "&amp;") && p+5 < len(s) && s[p+5] == '#' {
			p += 4
		}
		if u, ok := entityAt(s, p); ok {
			return u
		}
	}
	return byteUnit(c, i+1)
}

// backslashAt reads a JSON or Go escape: \uXXXX (a surrogate pair
// joined), \xXX, \/ and the one-letter ones. Backslashes doubled by a
// second quoting (Go's %q of a JSON text: "\\u0041") count as one.
func backslashAt(s string, i int) (unit, bool) {
	j := i // the run's last backslash, a few at most: a hostile run stays linear
	for j+1 < len(s) && s[j+1] == '\\' && j-i < 8 {
		j++
	}
	if j > i && j+1 < len(s) && isEscapeLetter(s[j+1]) {
		i = j
	}
	if i+1 >= len(s) {
		return unit{}, false
	}
	switch e := s[i+1]; e {
	case 'u', 'U':
		r, ok := hex4(s, i+2)
		if !ok {
			return unit{}, false
		}
		next := i + 6
		if utf16.IsSurrogate(r) && next+1 < len(s) && s[next] == '\\' && s[next+1] == 'u' {
			if r2, ok := hex4(s, next+2); ok {
				r, next = utf16.DecodeRune(r, r2), next+6
			}
		}
		return runeUnit(r, next), true
	case 'x', 'X':
		if i+3 < len(s) {
			if h, ok := hexPair(s[i+2], s[i+3]); ok {
				return byteUnit(h, i+4), true
			}
		}
	case '/', '\\', '"', '\'':
		return byteUnit(e, i+2), true
	case 'n':
		return byteUnit('\n', i+2), true
	case 't':
		return byteUnit('\t', i+2), true
	case 'r':
		return byteUnit('\r', i+2), true
	}
	return unit{}, false
}

var namedEntities = []struct {
	name string
	c    byte
}{{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&plus;", '+'}, {"&sol;", '/'}, {"&equals;", '='}}

// entityAt reads an HTML character reference: &#NN;, &#xHH; (the ';'
// optional, as browsers read them) or a named one.
func entityAt(s string, i int) (unit, bool) {
	if i+2 < len(s) && s[i+1] == '#' {
		p, base := i+2, rune(10)
		if s[p] == 'x' || s[p] == 'X' {
			p, base = p+1, 16
		}
		var r rune
		digits := 0
		for ; p < len(s) && digits < 8; p++ {
			d, ok := digitVal(s[p], base)
			if !ok {
				break
			}
			r = r*base + d
			digits++
		}
		if digits == 0 || r > utf8.MaxRune {
			return unit{}, false
		}
		if p < len(s) && s[p] == ';' {
			p++
		}
		return runeUnit(r, p), true
	}
	for _, e := range namedEntities {
		if strings.HasPrefix(s[i:], e.name) {
			return byteUnit(e.c, i+len(e.name)), true
		}
	}
	return unit{}, false
}

func digitVal(c byte, base rune) (rune, bool) {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0'), true
	case base == 16 && c >= 'a' && c <= 'f':
		return rune(c-'a') + 10, true
	case base == 16 && c >= 'A' && c <= 'F':
		return rune(c-'A') + 10, true
	}
	return 0, false
}

func isHex(c byte) bool {
	_, ok := digitVal(c, 16)
	return ok
}

func isEscapeLetter(c byte) bool { return strings.IndexByte(`uUxX/"'ntr`, c) >= 0 }

func hexPair(a, b byte) (byte, bool) {
	h, ok1 := digitVal(a, 16)
	l, ok2 := digitVal(b, 16)
	return byte(h<<4 | l), ok1 && ok2
}

func hex4(s string, p int) (rune, bool) {
	if p+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[p : p+4]) {
		d, ok := digitVal(c, 16)
		if !ok {
			return 0, false
		}
		r = r<<4 | d
	}
	return r, true
}
