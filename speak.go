package autocall

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/autocallvn/autocall-go/internal/vnnum"
)

var (
	moneyRE  = regexp.MustCompile(`^[0-9]{1,3}(?:\.[0-9]{3})+$`)
	numberRE = regexp.MustCompile(`^#-?[0-9]+$`)
	digitsRE = regexp.MustCompile(`^[0-9]+$`)
	dateRE   = regexp.MustCompile(`^([0-9]{2})/([0-9]{2})/([0-9]{4})$`)
)

// Speak returns how the TTS engine reads one value (TEL4VN's Autocall API Reference, "Một số
// lưu ý"), in Vietnamese words:
//
//   - money with dot thousands separators is an amount:
//     "10.410.000" → "mười triệu bốn trăm mười nghìn";
//   - "#15" is a number: "mười lăm";
//   - digits alone, with or without a leading zero, are read one by one:
//     "0987654321" → "không chín tám bảy sáu năm bốn ba hai một";
//   - a date dd/mm/yyyy: "30/01/2021" → "ba mươi tháng một năm hai không hai mươi mốt";
//   - a negative amount or number as Money and Number write it:
//     "âm 500.000" → "âm năm trăm nghìn", "âm #5" → "âm năm";
//   - anything else is read as written and returned unchanged, as is a
//     number beyond 999 999 999 999 999 or an impossible date (31/02,
//     29/02 of a year that is not a leap year, 31/04).
//
// The words follow one convention ("linh", "nghìn", "tỷ", years read as
// the provider's example reads 2021, "tháng tư"): the package doc's "What
// the customer hears" lists it.
func Speak(value string) string {
	v := strings.TrimSpace(value)
	if rest, ok := strings.CutPrefix(v, "âm "); ok { // Money's negative form
		if r := Speak(rest); r != rest && (moneyRE.MatchString(rest) || numberRE.MatchString(rest)) && !strings.HasPrefix(r, "âm") {
			return "âm " + r
		}
		return value
	}
	switch {
	case moneyRE.MatchString(v):
		if n, err := strconv.ParseInt(strings.ReplaceAll(v, ".", ""), 10, 64); err == nil {
			if w, ok := vnnum.Words(n); ok {
				return w
			}
		}
	case numberRE.MatchString(v):
		if n, err := strconv.ParseInt(v[1:], 10, 64); err == nil {
			if w, ok := vnnum.Words(n); ok {
				return w
			}
		}
	case digitsRE.MatchString(v):
		return vnnum.Digits(v)
	case dateRE.MatchString(v):
		m := dateRE.FindStringSubmatch(v)
		day, _ := strconv.Atoi(m[1])
		month, _ := strconv.Atoi(m[2])
		year, _ := strconv.Atoi(m[3])
		if validDate(year, month, day) {
			d, _ := vnnum.Words(int64(day))
			return d + " tháng " + monthWords[month] + " năm " + vnnum.Year(year)
		}
	}
	return value
}

// Preview returns the text as the engine reads it aloud, in Vietnamese
// words: Render, then every number in the rendered text read as Speak
// reads it. The engine receives the rendered text, not each value alone,
// so a value is read together with the content around it: "#{{n}}" with n
// "15" is "mười lăm", "{{a}}.000 đồng" with a "500" is "năm trăm nghìn
// đồng", "{{d}}/{{m}}/{{y}}" with "30", "01", "2021" is a date, and digits
// written in the content itself ("hotline 19001234") are read too. Words
// read from a number are set apart from letters or another number written
// against them, so two adjacent values never run into one word. A number
// in none of the documented forms ("10,410,000", "30/1/2021") is left as
// written, as Speak leaves it. TEL4VN's example,
//
//	Template{Content: "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}"}
//
// with "Nguyễn Văn A", "10.410.000" and "30/01/2021", previews as
// "Chào bạn Nguyễn Văn A vui lòng thanh toán khoản nợ mười triệu bốn trăm
// mười nghìn trước ngày ba mươi tháng một năm hai không hai mươi mốt".
func (t Template) Preview(params map[string]string) (string, error) {
	text, err := t.Render(params)
	if err != nil {
		return "", err
	}
	return speakText(text), nil
}

// numberRunRE finds what the engine may take for one number in running
// text: digits, a "#" (and a minus) before them, joined by the dots of an
// amount, the slashes of a date, or the commas and colons of forms the
// page does not document ("1,5", "8:30"), which are then left as written.
// A trailing "." ends a sentence, not an amount.
var numberRunRE = regexp.MustCompile(`(?:#-?)?[0-9]+(?:[.,/:][0-9]+)*`)

// speakText reads every number in text the way Speak reads a value.
func speakText(text string) string {
	runs := numberRunRE.FindAllStringIndex(text, -1)
	if runs == nil {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) * 3)
	last := 0
	for _, r := range runs {
		run := text[r[0]:r[1]]
		words := Speak(run)
		if words == run {
			continue // not a documented form: read as written
		}
		b.WriteString(text[last:r[0]])
		if before, _ := utf8.DecodeLastRuneInString(b.String()); joins(before) {
			b.WriteByte(' ')
		}
		b.WriteString(words)
		if after, _ := utf8.DecodeRuneInString(text[r[1]:]); joins(after) {
			b.WriteByte(' ')
		}
		last = r[1]
	}
	b.WriteString(text[last:])
	return b.String()
}

// joins: a character written against a number that would run into its
// words ("Nguyễn#15", "#1#5", "CKHD00203").
func joins(r rune) bool {
	return r == '#' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

// monthWords: April is "tháng tư", never "tháng bốn" (Sino-Vietnamese 四, as
// in "thứ tư"); the other months are their numbers.
var monthWords = [13]string{1: "một", 2: "hai", 3: "ba", 4: "tư", 5: "năm", 6: "sáu", 7: "bảy",
	8: "tám", 9: "chín", 10: "mười", 11: "mười một", 12: "mười hai"}

// validDate: the day exists in that month of that year.
func validDate(year, month, day int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	return t.Day() == day && int(t.Month()) == month
}
