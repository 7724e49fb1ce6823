package autocall

import (
	"fmt"
	"strconv"
	"strings"
)

// oldMobilePrefixes maps the 11-digit mobile prefixes retired in 2018 to the
// 10-digit prefixes that replaced them.
var oldMobilePrefixes = map[string]string{
	// Viettel
	"0162": "032", "0163": "033", "0164": "034", "0165": "035",
	"0166": "036", "0167": "037", "0168": "038", "0169": "039",
	// MobiFone
	"0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
	// VinaPhone
	"0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
	// Vietnamobile
	"0186": "056", "0188": "058",
	// Gmobile
	"0199": "059",
}

// NormalizePhone returns a Vietnamese phone number in the national form the
// providers expect ("0987654321"). It accepts the forms seen in the wild:
// +84987654321, 84987654321, 0084…, "+84 98 765 43 21", "(+84) 98 765 4321",
// "098.765.4321", "(028) 3821 2345", and a trunk 0 kept after the country
// code ("+84 0987654321", "+84 (0) 98 765 4321", "0084 0954081438"), as
// people write and libphonenumber reads them. Errors say what is wrong with
// the number as written, and match ErrInvalidPhone and ErrValidation.
//
// Where it departs from libphonenumber, on purpose:
//
//   - The whole numbering plan: every 10-digit number starting 03, 05, 07,
//     08 or 09 is a mobile and every 11-digit number starting 02 a fixed
//     line, not only the blocks a library lists as assigned today. Carriers
//     open blocks before libraries learn of them; a number the provider
//     cannot call comes back in Rejected, which beats refusing a real
//     customer.
//   - 01x: no number has started 01 since the 2018 renumbering. An 11-digit
//     number with a retired prefix is refused with the number it became:
//     "01662345678" → "prefix 0166 was replaced by 036 in 2018: the number
//     is now 0362345678".
//   - Service numbers are not customers: 1800 (free), 1900 (premium) and
//     short codes are refused as callees. A Caller may be one (the provider
//     assigns it); only its characters are checked.
//   - Strict characters: digits, spaces, dots, hyphens, parentheses, a
//     no-break space and one leading "+" (or "(+"). Anything else, a letter
//     typed for a digit ("098765432l") or a second number glued on, is
//     refused, not dropped. A "+" must be followed by a country code, so
//     "+0987654321" is refused with both right forms.
//   - No leading 0: "987654321" is refused, not guessed, since a number that
//     lost a digit is as likely as one that lost its 0 and the wrong person
//     would be called; the error suggests the 0 form ("or is it 0987654321,
//     missing its leading 0?").
func NormalizePhone(s string) (string, error) { return normalizeField("Phone", s) }

// normalizeField is NormalizePhone with the field to name in the error.
func normalizeField(field, s string) (string, error) {
	n, reason := normalizePhone(s)
	if reason != "" {
		return "", &ValidationError{Field: field, Value: s, Reason: reason, also: ErrInvalidPhone}
	}
	return n, nil
}

// phoneDigits drops the separators people write numbers with, and reports
// a leading "+" (also as "(+"); any other character is a reason to refuse.
// Plain digits, the common case, take no copy.
func phoneDigits(s string) (digits string, plus bool, reason string) {
	s = strings.TrimSpace(s)
	plain := s != ""
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			plain = false
			break
		}
	}
	if plain {
		return s, false, ""
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0 && !plus && (i == 0 || strings.TrimSpace(s[:i]) == "("):
			plus = true
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", false, fmt.Sprintf("unexpected character %q", r)
		}
	}
	return b.String(), plus, ""
}

func normalizePhone(s string) (string, string) {
	d, plus, reason := phoneDigits(s)
	switch {
	case reason != "":
		return "", reason
	case d == "":
		return "", "empty"
	}
	intl := true
	switch {
	case plus && strings.HasPrefix(d, "84"):
		d = d[2:]
	case plus && d[0] == '0':
		return "", "a + must be followed by the country code 84: write " + d + " or +84" + d[1:]
	case plus:
		return "", "country code +" + d[:min(len(d), 3)] + "… is not Vietnam's (+84)"
	case strings.HasPrefix(d, "0084"):
		d = d[4:]
	case strings.HasPrefix(d, "84"):
		d = d[2:] // no national number starts with 8: this is the country code
	default:
		intl = false
	}
	if intl {
		if len(d) == 0 {
			return "", "nothing after the country code 84"
		}
		if d[0] == '0' {
			d = d[1:] // a trunk 0 written after the country code: "+84 (0) 98…"
		}
		if len(d) != 9 && len(d) != 10 {
			msg := fmt.Sprintf("%d digits after the country code 84; a Vietnamese number has 9 (mobile) or 10 (fixed line)", len(d))
			if !plus && !strings.HasPrefix(s, "0084") && len(d)+2 == 9 {
				msg += ", or is it 084" + d + ", missing its leading 0?"
			}
			return "", msg
		}
		d = "0" + d
	} else if d[0] != '0' {
		msg := fmt.Sprintf("starts with %c: a Vietnamese number starts with 0 (national) or 84 / +84 (international)", d[0])
		if _, r := normalizePhone("0" + d); r == "" {
			msg += ", or is it 0" + d + ", missing its leading 0?"
		}
		return "", msg
	}
	if len(d) == 11 {
		if repl, ok := oldMobilePrefixes[d[:4]]; ok {
			return "", fmt.Sprintf("prefix %s was replaced by %s in 2018: the number is now %s", d[:4], repl, repl+d[4:])
		}
	}
	switch {
	case len(d) == 10 && strings.IndexByte("35789", d[1]) >= 0:
		return d, ""
	case len(d) == 11 && d[1] == '2':
		return d, ""
	case len(d) == 10 && d[1] == '2':
		return "", "10 digits starting 02: a fixed line has 11 since 2017 (02 + area code + number)"
	case len(d) == 10:
		return "", fmt.Sprintf("prefix %s is neither a mobile prefix (03, 05, 07, 08, 09) nor a fixed line's (02)", d[:2])
	case len(d) == 11:
		return "", fmt.Sprintf("11 digits starting %s: only a fixed line (02…) has 11 digits", d[:2])
	}
	return "", fmt.Sprintf("%d digits: a Vietnamese mobile has 10 (03, 05, 07, 08, 09…) and a fixed line 11 (02…)", len(d))
}

// MaxCallees is the most numbers (or extensions) one call-creating request
// may carry; more are refused before sending. It bounds the answer the SDK
// must read to learn every call id (about 100 bytes a callee), so that the
// answer to a request that placed calls is never lost to a size limit.
const MaxCallees = 10_000

func maxCallees(field string, n int) error {
	if n > MaxCallees {
		return invalid(field, strconv.Itoa(n)+" of them", "more than "+strconv.Itoa(MaxCallees)+" in one request: split it")
	}
	return nil
}

// normalizePhones normalises a list. A bad number or a number given twice
// (after normalisation: "+84 98…" and "098…") is not sent but put in
// rejected, so that one typo does not cost every other customer their
// call; only a list with no good number at all is an error.
func normalizePhones(field string, phones []string) (valid []string, rejected []Rejection, err error) {
	if len(phones) == 0 {
		return nil, nil, invalid(field, "", "no phone number")
	}
	if err := maxCallees(field, len(phones)); err != nil {
		return nil, nil, err
	}
	valid = make([]string, 0, len(phones))
	// Numbers as integers, in a set of their own: a Go map of 10,000
	// strings costs more than the rest of the request together. A list of
	// one or two needs no set.
	var seen *phoneSet
	if len(phones) > 2 {
		seen = newPhoneSet(len(phones))
	}
	for i, p := range phones {
		n, reason := normalizePhone(p)
		if reason != "" {
			e := &ValidationError{Field: indexed(field, i), Value: p, Reason: reason, also: ErrInvalidPhone}
			rejected = append(rejected, Rejection{Phone: p, Reason: reason, Err: e})
			continue
		}
		j, dup := -1, false
		if seen != nil {
			j, dup = seen.add(phoneKey(n), i)
		} else if i == 1 && len(valid) == 1 && valid[0] == n {
			j, dup = 0, true
		}
		if dup {
			reason := "same number as " + indexed(field, j)
			rejected = append(rejected, Rejection{Phone: p, Reason: reason, Err: invalid(indexed(field, i), p, reason)})
			continue
		}
		valid = append(valid, n)
	}
	if len(valid) == 0 {
		return nil, rejected, rejected[0].Err
	}
	return valid, rejected, nil
}

// phoneKey is a normalised number as an integer, its length above the
// digits so that no two numbers share a key.
func phoneKey(n string) uint64 {
	var k uint64
	for i := 0; i < len(n); i++ {
		k = k*10 + uint64(n[i]-'0')
	}
	return k | uint64(len(n))<<56
}

// phoneSet is an open-addressing set of phone keys (never 0) with the index
// each was first seen at.
type phoneSet struct {
	keys []uint64
	at   []int32
	mask uint64
}

func newPhoneSet(n int) *phoneSet {
	size := 16
	for size < n+n/2 { // at most two thirds full
		size <<= 1
	}
	return &phoneSet{keys: make([]uint64, size), at: make([]int32, size), mask: uint64(size - 1)}
}

// add inserts k, first seen at i; if k was there, it returns where from.
func (s *phoneSet) add(k uint64, i int) (first int, dup bool) {
	h := (k * 0x9E3779B97F4A7C15) >> 17
	for {
		slot := h & s.mask
		switch s.keys[slot] {
		case 0:
			s.keys[slot], s.at[slot] = k, int32(i)
			return i, false
		case k:
			return int(s.at[slot]), true
		}
		h++
	}
}
