package autocall

import (
	"strconv"
	"strings"
	"time"
)

// Value formats the TTS engine reads specially (TEL4VN's Autocall API Reference). Use them
// for TTSRequest.Params so a value is read as meant.

// Money formats an amount so that the engine reads it as an amount: with
// dot thousands separators from 1.000 up, Money(10410000) is "10.410.000",
// read "mười triệu bốn trăm mười nghìn"; below 1.000 in the page's "#n"
// number form, Money(500) is "#500", read "năm trăm" (plain "500" would be
// read one digit at a time, "năm không không"). A negative amount is
// written "âm " before the amount, Money(-500000) is "âm 500.000", read
// "âm năm trăm nghìn": the engine has no documented form for a minus sign,
// and "âm" is the word a Vietnamese reader says for it.
func Money(vnd int64) string {
	if vnd < 0 {
		u := uint64(-vnd) // exact for math.MinInt64 too
		return "âm " + money(u)
	}
	return money(uint64(vnd))
}

func money(u uint64) string {
	s := strconv.FormatUint(u, 10)
	if u < 1000 {
		return "#" + s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Number formats n to be read as a number: Number(15) is "#15", read
// "mười lăm". A negative number is written as Money writes one, "âm "
// before it: Number(-5) is "âm #5", read "âm năm" (the engine documents
// no minus sign).
func Number(n int64) string {
	if n < 0 {
		return "âm #" + strconv.FormatUint(uint64(-n), 10) // exact for math.MinInt64 too
	}
	return "#" + strconv.FormatInt(n, 10)
}

// Digits keeps only the digits of s, which the engine reads one by one:
// Digits("098 765 4321") is "0987654321", read "không chín tám bảy sáu năm
// bốn ba hai một".
func Digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Date formats t as dd/mm/yyyy in t's own location, which the engine reads
// as a date: 30 January 2021 is "30/01/2021", read "ba mươi tháng một năm
// hai không hai mươi mốt" (a year's first two digits one by one, the last
// two as a number, or all four one by one when its tens digit is 0, as
// 2005); April is "tháng tư".
func Date(t time.Time) string { return t.Format("02/01/2006") }
