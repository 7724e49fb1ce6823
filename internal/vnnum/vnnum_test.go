package vnnum

import (
	"math"
	"strings"
	"testing"
)

// Each case was checked by hand against standard (Northern) Vietnamese.
var cases = []struct {
	n    int64
	want string
}{
	// single digits
	{0, "không"}, {1, "một"}, {4, "bốn"}, {5, "năm"}, {7, "bảy"}, {9, "chín"},
	// mười: 10–19, một stays một, năm becomes lăm
	{10, "mười"}, {11, "mười một"}, {14, "mười bốn"}, {15, "mười lăm"}, {19, "mười chín"},
	// mươi: 20–99, một becomes mốt, năm becomes lăm, 0 is silent
	{20, "hai mươi"}, {21, "hai mươi mốt"}, {24, "hai mươi bốn"}, {25, "hai mươi lăm"},
	{30, "ba mươi"}, {31, "ba mươi mốt"}, {45, "bốn mươi lăm"}, {50, "năm mươi"}, {55, "năm mươi lăm"},
	{71, "bảy mươi mốt"}, {99, "chín mươi chín"},
	// hundreds, linh for an empty tens place
	{100, "một trăm"}, {101, "một trăm linh một"}, {105, "một trăm linh năm"}, {109, "một trăm linh chín"},
	{110, "một trăm mười"}, {111, "một trăm mười một"}, {115, "một trăm mười lăm"}, {120, "một trăm hai mươi"},
	{121, "một trăm hai mươi mốt"}, {205, "hai trăm linh năm"}, {215, "hai trăm mười lăm"},
	{500, "năm trăm"}, {505, "năm trăm linh năm"}, {555, "năm trăm năm mươi lăm"}, {999, "chín trăm chín mươi chín"},
	// nghìn; không trăm inside a later group
	{1000, "một nghìn"}, {1001, "một nghìn không trăm linh một"}, {1005, "một nghìn không trăm linh năm"},
	{1010, "một nghìn không trăm mười"}, {1015, "một nghìn không trăm mười lăm"}, {1020, "một nghìn không trăm hai mươi"},
	{1021, "một nghìn không trăm hai mươi mốt"}, {1100, "một nghìn một trăm"}, {1234, "một nghìn hai trăm ba mươi bốn"},
	{2021, "hai nghìn không trăm hai mươi mốt"}, {5000, "năm nghìn"}, {10000, "mười nghìn"}, {15000, "mười lăm nghìn"},
	{21000, "hai mươi mốt nghìn"}, {100000, "một trăm nghìn"}, {105000, "một trăm linh năm nghìn"},
	{999999, "chín trăm chín mươi chín nghìn chín trăm chín mươi chín"},
	// triệu; empty groups are silent
	{1000000, "một triệu"}, {1000001, "một triệu không trăm linh một"}, {1000005, "một triệu không trăm linh năm"},
	{1005000, "một triệu không trăm linh năm nghìn"}, {1500000, "một triệu năm trăm nghìn"},
	{2000500, "hai triệu năm trăm"}, {10000000, "mười triệu"}, {10410000, "mười triệu bốn trăm mười nghìn"},
	{15000000, "mười lăm triệu"}, {21000000, "hai mươi mốt triệu"}, {100000000, "một trăm triệu"},
	{101000000, "một trăm linh một triệu"}, {999000000, "chín trăm chín mươi chín triệu"},
	// tỷ
	{1000000000, "một tỷ"}, {1000000001, "một tỷ không trăm linh một"}, {1000001000, "một tỷ không trăm linh một nghìn"},
	{1005000000, "một tỷ không trăm linh năm triệu"}, {1250000000, "một tỷ hai trăm năm mươi triệu"},
	{5000000000, "năm tỷ"}, {15000000000, "mười lăm tỷ"}, {21000000000, "hai mươi mốt tỷ"},
	{100000000000, "một trăm tỷ"}, {105000000000, "một trăm linh năm tỷ"},
	// nghìn tỷ and beyond, up to Max
	{1000000000000, "một nghìn tỷ"}, {1001000000000, "một nghìn không trăm linh một tỷ"},
	{2500000000000, "hai nghìn năm trăm tỷ"}, {1000000000005, "một nghìn tỷ không trăm linh năm"},
	{1000000000000000 - 1, "chín trăm chín mươi chín nghìn chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn chín trăm chín mươi chín"},
	{100000000000000, "một trăm nghìn tỷ"}, {100001000000000, "một trăm nghìn không trăm linh một tỷ"},
	// negative
	{-1, "âm một"}, {-15, "âm mười lăm"}, {-1005, "âm một nghìn không trăm linh năm"},
}

func TestWords(t *testing.T) {
	if len(cases) < 80 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		got, ok := Words(tc.n)
		if !ok || got != tc.want {
			t.Errorf("Words(%d) = %q, %v; want %q", tc.n, got, ok, tc.want)
		}
	}
}

func TestWordsOutOfRange(t *testing.T) {
	for _, n := range []int64{Max + 1, -Max - 1, math.MaxInt64, math.MinInt64} {
		if w, ok := Words(n); ok || w != "" {
			t.Errorf("Words(%d) = %q, %v", n, w, ok)
		}
	}
}

func TestDigitsAndYear(t *testing.T) {
	if got := Digits("0987654321"); got != "không chín tám bảy sáu năm bốn ba hai một" {
		t.Errorf("Digits = %q", got)
	}
	for y, want := range map[int]string{2021: "hai không hai mươi mốt", 2005: "hai không không năm", 1999: "một chín chín mươi chín", 2010: "hai không mười", 2000: "hai không không không"} {
		if got := Year(y); got != want {
			t.Errorf("Year(%d) = %q, want %q", y, got, want)
		}
	}
}

// parse reads Vietnamese number words back into a number; the fuzz test
// checks that Words and parse agree.
func parse(t *testing.T, w string) int64 {
	digits := map[string]int64{"không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "lăm": 5,
		"sáu": 6, "bảy": 7, "tám": 8, "chín": 9}
	var total, section, group, pending int64
	sign := int64(1)
	flush := func() int64 { v := group + pending; group, pending = 0, 0; return v }
	for _, word := range strings.Split(w, " ") {
		if d, ok := digits[word]; ok {
			pending = d
			continue
		}
		switch word {
		case "âm":
			sign = -1
		case "trăm":
			group += pending * 100
			pending = 0
		case "mươi":
			group += pending * 10
			pending = 0
		case "mười":
			group += 10
		case "linh":
		case "nghìn":
			section += flush() * 1_000
		case "triệu":
			section += flush() * 1_000_000
		case "tỷ":
			total += (section + flush()) * 1_000_000_000
			section = 0
		default:
			t.Fatalf("%q: not a number word: %q", w, word)
		}
	}
	return sign * (total + section + flush())
}

// banned are pairs standard Vietnamese never says.
var banned = []string{"mươi năm", "mười năm", "mươi một", "mười mốt", "linh lăm", "linh mốt", "linh không", "không mươi"}

func FuzzWords(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		if _, ok := Words(n); ok != (n >= -Max && n <= Max) {
			t.Fatalf("Words(%d): ok = %v", n, ok)
		}
		n %= Max + 1 // most int64s are out of range: fold them in
		w, _ := Words(n)
		if got := parse(t, w); got != n {
			t.Fatalf("Words(%d) = %q, which reads as %d", n, w, got)
		}
		for _, b := range banned {
			if strings.Contains(w, b) {
				t.Fatalf("Words(%d) = %q says %q", n, w, b)
			}
		}
		if first := strings.Fields(strings.TrimPrefix(w, "âm "))[0]; first == "linh" || (first == "không" && n != 0) {
			t.Fatalf("Words(%d) = %q starts with %q", n, w, first)
		}
	})
}
