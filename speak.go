package autocall

import (
	"regexp"
	"strconv"
	"strings"
	"time"

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
//   - a negative amount as Money writes it: "âm 500.000" → "âm năm trăm nghìn";
//   - anything else is read as written and returned unchanged, as is a
//     number beyond 999 999 999 999 999 or an impossible date (31/02,
//     29/02 of a year that is not a leap year, 31/04).
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

// Preview returns the text as the engine reads it aloud: Render with each
// value spoken as Speak reads it. TEL4VN's example,
//
//	Template{Content: "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}"}
//
// with "Nguyễn Văn A", "10.410.000" and "30/01/2021", previews as
// "Chào bạn Nguyễn Văn A vui lòng thanh toán khoản nợ mười triệu bốn trăm
// mười nghìn trước ngày ba mươi tháng một năm hai không hai mươi mốt".
func (t Template) Preview(params map[string]string) (string, error) {
	params, err := nfcParams(params)
	if err != nil {
		return "", err
	}
	spoken := make(map[string]string, len(params))
	for k, v := range params {
		spoken[k] = Speak(v)
	}
	if err := t.checkNFC(params); err != nil {
		return "", err
	}
	return t.Render(spoken)
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
