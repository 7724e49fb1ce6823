package autocall

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

func TestSpeak(t *testing.T) {
	for in, want := range map[string]string{
		"10.410.000":          "mười triệu bốn trăm mười nghìn",
		"1.005.000":           "một triệu không trăm linh năm nghìn",
		"1.000.000":           "một triệu",
		"999.999.999.999.999": "chín trăm chín mươi chín nghìn chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn chín trăm chín mươi chín",
		"#15":                 "mười lăm",
		"#105":                "một trăm linh năm",
		"#-3":                 "âm ba",
		"0987654321":          "không chín tám bảy sáu năm bốn ba hai một",
		"123456789":           "một hai ba bốn năm sáu bảy tám chín",
		"30/01/2021":          "ba mươi tháng một năm hai không hai mươi mốt",
		"01/12/2005":          "một tháng mười hai năm hai không không năm",
		"Nguyễn Văn A":        "Nguyễn Văn A",
		"15/04/2021":          "mười lăm tháng tư năm hai không hai mươi mốt",
		"29/02/2024":          "hai mươi chín tháng hai năm hai không hai mươi bốn",
		"âm 500.000":          "âm năm trăm nghìn",
		"âm #500":             "âm năm trăm",
		// Impossible dates are not dates.
		"31/02/2021": "31/02/2021",
		"29/02/2021": "29/02/2021",
		"31/04/2021": "31/04/2021",
		"00/01/2021": "00/01/2021",
		"âm":         "âm",
		"âm abc":     "âm abc",
		"âm #-5":     "âm #-5",
		"":           "",
		// Not the documented formats: read as written, so shown unchanged.
		"30/1/2021":             "30/1/2021",
		"32/01/2021":            "32/01/2021",
		"10,410,000":            "10,410,000",
		"10.41.000":             "10.41.000",
		"#":                     "#",
		"#1.000":                "#1.000",
		"1.000.000.000.000.000": "1.000.000.000.000.000",
		"#99999999999999999999": "#99999999999999999999",
	} {
		assert.Equal(t, want, Speak(in), in)
	}
	assert.Equal(t, Speak(Money(10410000)), "mười triệu bốn trăm mười nghìn")
	// An amount is always read as an amount, never digit by digit.
	for n, want := range map[int64]string{0: "không", 1: "một", 500: "năm trăm", 999: "chín trăm chín mươi chín",
		1000: "một nghìn", -500: "âm năm trăm", -10410000: "âm mười triệu bốn trăm mười nghìn"} {
		assert.Equal(t, want, Speak(Money(n)), "Money(%d) = %q", n, Money(n))
	}
	assert.Equal(t, "#500", Money(500))
	assert.Equal(t, "âm 9.223.372.036.854.775.808", Money(-9223372036854775808))
	assert.Equal(t, Speak(Number(21)), "hai mươi mốt")
	// A negative number in the form Money writes, read the same way.
	assert.Equal(t, "âm năm", Speak(Number(-5)))
	assert.Equal(t, Speak(Money(-5)), Speak(Number(-5)))
	assert.Equal(t, Speak(Digits("098 765 4321")), "không chín tám bảy sáu năm bốn ba hai một")
}

func TestPreviewDocumentExample(t *testing.T) {
	params := map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_date": "30/01/2021"}
	got, err := docTemplate.Preview(params)
	require.NoError(t, err)
	const want = "Chào bạn Nguyễn Văn A vui lòng thanh toán khoản nợ mười triệu bốn trăm mười nghìn trước ngày ba mươi tháng một năm hai không hai mươi mốt"
	assert.Equal(t, want, got)

	// Typed in NFD, the same sentence comes out, in NFC.
	nfdTmpl := Template{Name: docTemplate.Name, Content: norm.NFD.String(docTemplate.Content)}
	params["customer_name"] = norm.NFD.String("Nguyễn Văn A")
	got, err = nfdTmpl.Preview(params)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	_, err = docTemplate.Preview(map[string]string{"customer_name": "A", "due_amount": "1", "due_days": "#15"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Params.due_days", ve.Field)
}

// The engine reads the rendered text, not each value alone: a value and
// the content around it are read together.
func TestPreviewReadsTheRenderedText(t *testing.T) {
	for _, tc := range []struct {
		content string
		params  map[string]string
		want    string
	}{
		{"Mã số #{{n}}", map[string]string{"n": "15"}, "Mã số mười lăm"},
		{"{{a}}.000 đồng", map[string]string{"a": "500"}, "năm trăm nghìn đồng"},
		{"hạn {{d}}/{{m}}/{{y}}.", map[string]string{"d": "30", "m": "01", "y": "2021"}, "hạn ba mươi tháng một năm hai không hai mươi mốt."},
		{"ngày {{d}}/{{m}}/{{y}}", map[string]string{"d": "15", "m": "04", "y": "2026"}, "ngày mười lăm tháng tư năm hai không hai mươi sáu"},
		// Adjacent values are separate words, never one.
		{"{{a}}{{b}}", map[string]string{"a": "#1", "b": "#5"}, "một năm"},
		{"{{ten}}{{so}}", map[string]string{"ten": "Nguyễn", "so": "#15"}, "Nguyễn mười lăm"},
		{"{{so}}{{ten}}", map[string]string{"ten": "đồng", "so": "10.000"}, "mười nghìn đồng"},
		// Digits written in the content itself are read too.
		{"Gọi 19001234 để biết thêm, {{x}}", map[string]string{"x": "Nguyễn Văn A"}, "Gọi một chín không không một hai ba bốn để biết thêm, Nguyễn Văn A"},
		{"Khoản nợ 10.410.000 đồng trước 30/01/2021 ({{x}})", map[string]string{"x": "A"},
			"Khoản nợ mười triệu bốn trăm mười nghìn đồng trước ba mươi tháng một năm hai không hai mươi mốt (A)"},
		{"Mã đơn CKHD{{m}}", map[string]string{"m": "00203"}, "Mã đơn CKHD không không hai không ba"},
		// A sentence's full stop is not part of an amount.
		{"Số tiền {{a}}.", map[string]string{"a": Money(10410000)}, "Số tiền mười triệu bốn trăm mười nghìn."},
		{"Số dư {{a}}", map[string]string{"a": Money(-500000)}, "Số dư âm năm trăm nghìn"},
		{"Số dư {{a}}", map[string]string{"a": Number(-5)}, "Số dư âm năm"},
		// Not a documented form: read as written, shown unchanged.
		{"{{d}}/{{m}}/{{y}}", map[string]string{"d": "30", "m": "1", "y": "2021"}, "30/1/2021"},
		{"{{a}} đồng", map[string]string{"a": "10,410,000"}, "10,410,000 đồng"},
		{"lúc {{t}}, ngày {{d}}", map[string]string{"t": "8:30", "d": "#2"}, "lúc 8:30, ngày hai"},
		{"{{d}}/{{m}}/{{y}}", map[string]string{"d": "31", "m": "02", "y": "2021"}, "31/02/2021"},
		// Typed in NFD, read the same, in NFC.
		{norm.NFD.String("Số tiền {{a}}.000 đồng"), map[string]string{"a": "500"}, "Số tiền năm trăm nghìn đồng"},
	} {
		got, err := Template{Name: "t", Content: tc.content}.Preview(tc.params)
		require.NoError(t, err, tc.content)
		assert.Equal(t, tc.want, got, "%s %v", tc.content, tc.params)
		assert.True(t, norm.NFC.IsNormalString(got))
	}
}

// The reading table of the package doc says what Speak says.
func TestDocReadingTableIsTrue(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	row := regexp.MustCompile(`(?m)^//\t[^:\n]+:\s+(\S+(?: #\S+)?)\s{2,}(\S.*)$`)
	_, section, ok := strings.Cut(string(src), "# What the customer hears")
	require.True(t, ok)
	rows := row.FindAllStringSubmatch(section, -1)
	require.GreaterOrEqual(t, len(rows), 5)
	for _, r := range rows {
		assert.Equal(t, r[2], Speak(r[1]), "doc.go reads %q", r[1])
	}
}
