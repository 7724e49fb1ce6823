package csvrows

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// EncodingError is a file that is not UTF-8, refused whole: read as UTF-8,
// Vietnamese names and template values would be sent garbled. Looks names
// what the file looks like; Line is the first line that is not UTF-8.
type EncodingError struct {
	Looks string // "UTF-16 LE", "UTF-16 BE", "Windows-1258"
	Line  int
}

func (e *EncodingError) Error() string {
	what := `Excel's "Unicode Text"`
	from := "UTF-16"
	if e.Looks == "Windows-1258" {
		what = `Excel's "CSV (Comma delimited)" on a Vietnamese Windows, or another legacy code page`
		from = "WINDOWS-1258"
	}
	return "the file is not UTF-8: it looks like " + e.Looks + " (" + what + "), first at line " + strconv.Itoa(e.Line) +
		`; the whole file is refused. Save it as "CSV UTF-8 (Comma delimited) (*.csv)" ` +
		`(Excel: File > Save As > Save as type), or convert it: iconv -f ` + from + " -t UTF-8 file.csv > file-utf8.csv"
}

// checkEncoding refuses data that is not UTF-8: UTF-16 with or without
// its byte order mark (NUL bytes beside ASCII ones, which no UTF-8 CSV
// has), or bytes that are not UTF-8 at all (a Windows code page).
func checkEncoding(data []byte) error {
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		return &EncodingError{Looks: "UTF-16 LE", Line: 1}
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return &EncodingError{Looks: "UTF-16 BE", Line: 1}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		// ASCII text in UTF-16: "k\0e\0y\0" (LE) or "\0k\0e\0y" (BE).
		looks := "UTF-16 LE"
		if i%2 == 0 {
			looks = "UTF-16 BE"
		}
		return &EncodingError{Looks: looks, Line: 1 + bytes.Count(data[:i], []byte{'\n'})}
	}
	if utf8.Valid(data) {
		return nil
	}
	bad := 0
	for bad < len(data) {
		r, n := utf8.DecodeRune(data[bad:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		bad += n
	}
	return &EncodingError{Looks: "Windows-1258", Line: 1 + bytes.Count(data[:bad], []byte{'\n'})}
}

// separator is the header line's separator: the one of ',', ';' and tab
// it holds most of outside quotes; ',' when it holds none.
func separator(data []byte) rune {
	line := data
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	var comma, semi, tab int
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ',':
			comma++
		case c == ';':
			semi++
		case c == '\t':
			tab++
		}
	}
	switch {
	case semi > comma && semi >= tab:
		return ';'
	case tab > comma && tab > semi:
		return '\t'
	}
	return ','
}
