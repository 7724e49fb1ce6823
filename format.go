package autocall

import (
	"strconv"
	"strings"
	"time"
)

// Value formats the TTS engine reads specially (document 003). Use them
// for TTSRequest.Params so a value is read as meant.

// Money formats an amount with dot thousands separators, which the engine
// reads as an amount: Money(10410000) is "10.410.000", read "mười triệu
// bốn trăm mười nghìn".
func Money(vnd int64) string {
	neg := vnd < 0
	u := uint64(vnd)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Number formats n to be read as a number: Number(15) is "#15", read
// "mười lăm".
func Number(n int64) string { return "#" + strconv.FormatInt(n, 10) }

// Digits keeps only the digits of s, which the engine reads one by one:
// Digits("098 765 4321") is "0987654321".
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
// as a date: 30 January 2021 is "30/01/2021".
func Date(t time.Time) string { return t.Format("02/01/2006") }
