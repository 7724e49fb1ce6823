// Package csvrows reads the CSV files a batch is run from, the way the
// autocall command reads them, for a program of your own (a cron job, as
// examples/otp-cron is): a file that is not UTF-8 is
// refused whole (EncodingError), a UTF-8 BOM is stripped, the separator
// (',', ';' or tab) is read from the header line, a last
// line without its newline is held (it may be half-written), and a row that
// cannot be read is refused alone while the others go.
package csvrows

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Options says which columns a file has.
type Options struct {
	// Fixed are the columns the caller reads by name (key, phone, code…):
	// the header names them in any case and they are reported in the case
	// given here. Every other column keeps its header as written (NFC), so
	// a template's {{customerName}} is filled by a customerName column.
	Fixed []string
	// Required are the columns the header must name, besides "key".
	Required []string
	// Default is the header assumed when the first line names no key
	// column (a file without a header row). Nil: a header row is required.
	Default []string
}

// File is what a CSV holds.
type File struct {
	Header []string
	Rows   []Row
	// Refused are rows that cannot be read as written (no key, a key used
	// on an earlier line, missing fields, broken quotes).
	Refused []Refusal
	// Held is the line number of a last row without its newline: it may be
	// half-written (an application appending while cron runs), so it is
	// never returned as a row. 0: none.
	Held int
	// Extra are the lines with non-empty fields past the header's columns:
	// those fields are ignored.
	Extra []int
}

// Row is one row, by column name.
type Row struct {
	Line   int
	Values map[string]string
}

// Get is the value of a column, "" if the row has none.
func (r Row) Get(col string) string { return r.Values[col] }

// Refusal is a row refused before anything is sent.
type Refusal struct {
	Line   int
	Key    string
	Reason string
}

// utf8BOM starts Excel's "CSV UTF-8" files.
var utf8BOM = []byte("\xef\xbb\xbf")

// Read reads data. A file that cannot be read at all (not UTF-8, no
// header, a required column missing, a column named twice) is an error and
// no row is returned. The separator is the header line's: ',', or ';' (Excel
// under Vietnamese and other regional settings that write decimals with a
// comma), or a tab.
func Read(data []byte, opt Options) (*File, error) {
	if err := checkEncoding(data); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	complete := len(data) > 0 && data[len(data)-1] == '\n'
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = separator(data)
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1 // a row's field count is checked here, row by row
	first, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("no header row: %w", err)
	}
	fixed := append([]string{"key"}, opt.Fixed...)
	header := make([]string, len(first))
	for i, col := range first {
		header[i] = columnName(col, fixed)
	}
	headless := opt.Default != nil && !slices.Contains(header, "key")
	if headless {
		header = append([]string(nil), opt.Default...)
	}
	// Unnamed columns at the end (Excel's trailing commas) are no columns.
	for len(header) > 0 && header[len(header)-1] == "" {
		header = header[:len(header)-1]
	}
	for _, col := range append([]string{"key"}, opt.Required...) {
		if !slices.Contains(header, col) {
			return nil, fmt.Errorf("no %q column (header: %s)", col, strings.Join(header, ","))
		}
	}
	for i, col := range header {
		if col != "" && slices.Contains(header[:i], col) {
			return nil, fmt.Errorf("the header names %q twice", col)
		}
	}
	f := &File{Header: header}
	seen := map[string]int{}
	for rec, pending := first, headless; ; pending = false {
		if !pending {
			rec, err = r.Read()
		}
		if err == io.EOF {
			break
		}
		// The last row without its newline may still be being written.
		atEnd := !complete && r.InputOffset() == int64(len(data))
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if atEnd {
				f.Held = pe.StartLine
				break
			}
			f.Refused = append(f.Refused, Refusal{Line: pe.StartLine, Reason: "not readable as CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		if atEnd {
			f.Held = line
			break
		}
		row := Row{Line: line, Values: map[string]string{}}
		for i, col := range header {
			if i < len(rec) && col != "" {
				row.Values[col] = strings.TrimSpace(rec[i])
			}
		}
		key := row.Get("key")
		switch {
		case key == "":
			f.Refused = append(f.Refused, Refusal{Line: line, Reason: "no key"})
			continue
		case seen[key] != 0:
			f.Refused = append(f.Refused, Refusal{Line: line, Key: key,
				Reason: fmt.Sprintf("key %q is already on line %d (a key is sent once: give this row a key of its own)", key, seen[key])})
			continue
		}
		seen[key] = line
		if len(rec) < len(header) {
			f.Refused = append(f.Refused, Refusal{Line: line, Key: key,
				Reason: fmt.Sprintf("%d fields, the header names %d (missing: %s)", len(rec), len(header), strings.Join(header[len(rec):], ","))})
			continue
		}
		for _, v := range rec[len(header):] {
			if strings.TrimSpace(v) != "" {
				f.Extra = append(f.Extra, line)
				break
			}
		}
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

// columnName is a header's column: a fixed column in its given case, any
// other as written, in NFC (a placeholder typed in NFD is the same key).
func columnName(col string, fixed []string) string {
	col = norm.NFC.String(strings.TrimSpace(col))
	for _, f := range fixed {
		if strings.EqualFold(col, f) {
			return f
		}
	}
	return col
}
