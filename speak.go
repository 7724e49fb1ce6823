package autocall

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/autocallvn/autocall-go/internal/vnnum"
)

var (
	moneyRE  = regexp.MustCompile(`^[0-9]{1,3}(?:\.[0-9]{3})+$`)
	numberRE = regexp.MustCompile(`^#-?[0-9]+$`)
	digitsRE = regexp.MustCompile(`^[0-9]+$`)
	dateRE   = regexp.MustCompile(`^([0-9]{2})/([0-9]{2})/([0-9]{4})$`)
)

// Speak returns how the TTS engine reads one value (document 003, "Một số
// lưu ý"), in Vietnamese words:
//
//   - money with dot thousands separators is an amount:
//     "10.410.000" → "mười triệu bốn trăm mười nghìn";
//   - "#15" is a number: "mười lăm";
//   - digits alone, with or without a leading zero, are read one by one:
//     "0987654321" → "không chín tám bảy sáu năm bốn ba hai một";
//   - a date dd/mm/yyyy: "30/01/2021" → "ba mươi tháng một năm hai không hai mươi mốt";
//   - anything else is read as written and returned unchanged, as is a
//     number beyond 999 999 999 999 999 or an impossible date.
func Speak(value string) string {
	v := strings.TrimSpace(value)
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
		if day >= 1 && day <= 31 && month >= 1 && month <= 12 {
			d, _ := vnnum.Words(int64(day))
			mo, _ := vnnum.Words(int64(month))
			return d + " tháng " + mo + " năm " + vnnum.Year(year)
		}
	}
	return value
}

// Preview returns the text as the engine reads it aloud: Render with each
// value spoken as Speak reads it. Document 003's example,
//
//	Template{Content: "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}"}
//
// with "Nguyễn Văn A", "10.410.000" and "30/01/2021", previews as
// "Chào bạn Nguyễn Văn A vui lòng thanh toán khoản nợ mười triệu bốn trăm
// mười nghìn trước ngày ba mươi tháng một năm hai không hai mươi mốt".
func (t Template) Preview(params map[string]string) (string, error) {
	return t.fill(params, Speak)
}
