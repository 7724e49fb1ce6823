// Package vnnum reads numbers aloud in Vietnamese, the way the TTS engine
// of TEL4VN's "Autocall API Reference" reads "10.410.000" and "#15".
//
// The rules, each with an example:
//
//   - Digits: không, một, hai, ba, bốn, năm, sáu, bảy, tám, chín. 0 → "không".
//   - Tens: 10 is "mười", 20–90 are "<digit> mươi": 10 → "mười", 40 → "bốn mươi".
//   - Units after tens: 1 after "mươi" is "mốt" (21 → "hai mươi mốt") but
//     "một" after "mười" or "linh" (11 → "mười một", 101 → "một trăm linh một");
//     5 after any tens is "lăm" (15 → "mười lăm", 25 → "hai mươi lăm") but
//     "năm" alone or after "linh" (105 → "một trăm linh năm");
//     4 after "mươi" stays "bốn" (24 → "hai mươi bốn");
//     0 after tens is silent (30 → "ba mươi").
//   - Empty tens before a unit is "linh": 105 → "một trăm linh năm",
//     1.001 → "một nghìn không trăm linh một".
//   - Groups of three digits take the scales nghìn (10^3), triệu (10^6) and
//     tỷ (10^9); above a tỷ the count of tỷ is itself read with nghìn and
//     triệu: 10^12 → "một nghìn tỷ", 2.500.000.000.000 → "hai nghìn năm trăm tỷ".
//   - A group after the first is read in full, with "không trăm" when its
//     hundreds are empty: 1.005.000 → "một triệu không trăm linh năm nghìn",
//     1.020 → "một nghìn không trăm hai mươi".
//   - An empty group is silent: 1.000.000 → "một triệu", 1.000.005 →
//     "một triệu không trăm linh năm".
//   - The first group has no leading "không trăm" or "linh": 5 → "năm",
//     15 → "mười lăm".
//
// Numbers from 0 to Max are read; negative numbers take "âm".
//
// # Why these words
//
// Vietnamese has regional variants for several of these; the package keeps
// one convention, the one the provider's own example and its Northern
// voices (banmai, leminh) use, so that a preview matches what is heard:
//
//   - "linh", not the Southern "lẻ", for empty tens (105 "một trăm linh
//     năm"): the standard written form and the Northern voices' reading.
//   - "bốn" after "mươi", not "tư" (24 "hai mươi bốn"): both are heard, but
//     "tư" there is colloquial and Southern; "bốn" is never wrong. (April
//     is the exception, "tháng tư", and the caller of this package says so.)
//   - "lăm" for 5 after tens (15 "mười lăm", 25 "hai mươi lăm"): obligatory
//     in every variant; "năm" there would be read as "year".
//   - "mốt" for 1 after "mươi" (21 "hai mươi mốt"): obligatory, and the
//     provider's example ("hai không hai mươi mốt") shows it.
//   - "nghìn", not the Southern "ngàn": the provider's example reads
//     10.410.000 as "… bốn trăm mười nghìn".
//   - "tỷ", the current spelling, not "tỉ": both sound the same; the
//     spelling only shows in a preview.
package vnnum

import (
	"fmt"
	"strings"
)

// Max is the largest number read: 999 999 999 999 999 (just under a
// triệu tỷ).
const Max = 999_999_999_999_999

var digitWords = [10]string{"không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"}

// Words reads n aloud. ok is false when |n| > Max.
func Words(n int64) (words string, ok bool) {
	if n < -Max || n > Max {
		return "", false
	}
	if n == 0 {
		return digitWords[0], true
	}
	var w []string
	if n < 0 {
		w = append(w, "âm")
		n = -n
	}
	w = appendNumber(w, uint64(n), true)
	return strings.Join(w, " "), true
}

// appendNumber reads n (> 0, < 10^15). leading: nothing is read before it.
func appendNumber(w []string, n uint64, leading bool) []string {
	const ty = 1_000_000_000
	if n >= ty {
		w = appendNumber(w, n/ty, leading)
		w = append(w, "tỷ")
		n %= ty
		leading = false
		if n == 0 {
			return w
		}
	}
	scales := [...]struct {
		size uint64
		name string
	}{{1_000_000, "triệu"}, {1_000, "nghìn"}, {1, ""}}
	for _, s := range scales {
		g := n / s.size % 1000
		if g == 0 {
			continue // an empty group is silent
		}
		w = appendGroup(w, int(g), leading)
		if s.name != "" {
			w = append(w, s.name)
		}
		leading = false
	}
	return w
}

// appendGroup reads 1–999. A leading group drops empty hundreds and tens.
func appendGroup(w []string, g int, leading bool) []string {
	h, t, u := g/100, g/10%10, g%10
	full := !leading || h > 0
	if full {
		w = append(w, digitWords[h], "trăm")
	}
	switch {
	case t == 0 && u == 0:
		return w
	case t == 0:
		if full {
			w = append(w, "linh")
		}
		return append(w, digitWords[u])
	case t == 1:
		w = append(w, "mười")
	default:
		w = append(w, digitWords[t], "mươi")
	}
	switch u {
	case 0:
	case 1:
		if t >= 2 {
			w = append(w, "mốt")
		} else {
			w = append(w, "một")
		}
	case 5:
		w = append(w, "lăm")
	default:
		w = append(w, digitWords[u])
	}
	return w
}

// Digits reads each digit of s on its own: "0987" → "không chín tám bảy".
// Characters that are not ASCII digits are skipped.
func Digits(s string) string {
	w := make([]string, 0, len(s))
	for _, r := range s {
		if r >= '0' && r <= '9' {
			w = append(w, digitWords[r-'0'])
		}
	}
	return strings.Join(w, " ")
}

// Year reads a four-digit year the way TEL4VN's example does: the
// first two digits one by one, the last two as a number ("2021" → "hai
// không hai mươi mốt"), or one by one when the tens digit is 0 ("2005" →
// "hai không không năm").
func Year(y int) string {
	s := fmt.Sprintf("%04d", y%10000)
	if s[2] == '0' {
		return Digits(s)
	}
	words, _ := Words(int64(y % 100))
	return Digits(s[:2]) + " " + words
}
