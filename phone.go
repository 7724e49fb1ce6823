package autocall

import (
	"fmt"
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
// +84987654321, 84987654321, 0084…, "+84 98 765 43 21", "098.765.4321",
// "(028) 3821 2345". Mobile numbers are 10 digits (03, 05, 07, 08, 09),
// fixed lines 11 digits (02 then the area code). A number with a mobile
// prefix retired in 2018 gets an error naming the prefix that replaced it.
// Errors match ErrInvalidPhone and ErrValidation.
func NormalizePhone(s string) (string, error) { return normalizeField("Phone", s) }

// normalizeField is NormalizePhone with the field to name in the error.
func normalizeField(field, s string) (string, error) {
	n, reason := normalizePhone(s)
	if reason != "" {
		return "", &ValidationError{Field: field, Value: s, Reason: reason, also: ErrInvalidPhone}
	}
	return n, nil
}

// phoneDigits drops the separators people write numbers with, and a
// leading +; any other character is a reason to refuse.
func phoneDigits(s string) (string, string) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", fmt.Sprintf("unexpected character %q", r)
		}
	}
	return b.String(), ""
}

func normalizePhone(s string) (string, string) {
	d, reason := phoneDigits(s)
	switch {
	case reason != "":
		return "", reason
	case d == "":
		return "", "empty"
	case strings.HasPrefix(d, "0084"):
		d = "0" + d[4:]
	case strings.HasPrefix(d, "84") && (len(d) == 11 || len(d) == 12):
		d = "0" + d[2:]
	}
	if len(d) == 11 {
		if repl, ok := oldMobilePrefixes[d[:4]]; ok {
			return "", fmt.Sprintf("prefix %s was replaced by %s in 2018: the number is now %s", d[:4], repl, repl+d[4:])
		}
	}
	switch {
	case len(d) == 10 && d[0] == '0' && strings.ContainsRune("35789", rune(d[1])):
		return d, ""
	case len(d) == 11 && strings.HasPrefix(d, "02"):
		return d, ""
	case d[0] != '0':
		return "", "not a Vietnamese number: expected 0…, 84… or +84…"
	}
	return "", "not a Vietnamese mobile (10 digits, 03/05/07/08/09) or fixed line (11 digits, 02…)"
}

// MaxCallees is the most numbers (or extensions) one call-creating request
// may carry; more are refused before sending. It bounds the answer the SDK
// must read to learn every call id (about 100 bytes a callee), so that the
// answer to a request that placed calls is never lost to a size limit.
const MaxCallees = 10_000

// normalizePhones normalises a list. A bad number or a number given twice
// (after normalisation: "+84 98…" and "098…") is not sent but put in
// rejected, so that one typo does not cost every other customer their
// call; only a list with no good number at all is an error.
func normalizePhones(field string, phones []string) (valid []string, rejected []Rejection, err error) {
	if len(phones) == 0 {
		return nil, nil, invalid(field, "", "no phone number")
	}
	if len(phones) > MaxCallees {
		return nil, nil, invalid(field, fmt.Sprintf("%d numbers", len(phones)), fmt.Sprintf("more than %d in one request: split it", MaxCallees))
	}
	valid = make([]string, 0, len(phones))
	seen := make(map[string]int, len(phones))
	for i, p := range phones {
		n, reason := normalizePhone(p)
		if reason != "" {
			e := &ValidationError{Field: fmt.Sprintf("%s[%d]", field, i), Value: p, Reason: reason, also: ErrInvalidPhone}
			rejected = append(rejected, Rejection{Phone: p, Reason: reason, Err: e})
			continue
		}
		if j, dup := seen[n]; dup {
			reason := fmt.Sprintf("same number as %s[%d]", field, j)
			rejected = append(rejected, Rejection{Phone: p, Reason: reason, Err: invalid(fmt.Sprintf("%s[%d]", field, i), p, reason)})
			continue
		}
		seen[n] = i
		valid = append(valid, n)
	}
	if len(valid) == 0 {
		return nil, rejected, rejected[0].Err
	}
	return valid, rejected, nil
}
