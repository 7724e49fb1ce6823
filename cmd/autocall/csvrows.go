package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// csvFile is what a batch CSV holds, row by row.
type csvFile struct {
	path string
	rows []csvRow
	// refused are rows that cannot be read as written (no key, a key used
	// on an earlier line, missing fields, broken quotes). They are not in
	// the journal: each run reports them until the file is fixed, and the
	// run after the fix sends them.
	refused []rowRefusal
	// held is the line number of a last row without its newline: it may be
	// half-written (an application appending while cron runs), so it is
	// left for the next run. 0: none.
	held int
	// extra are the lines with non-empty fields past the header's columns:
	// those fields are ignored.
	extra []int
}

// rowRefusal is a row refused before anything is sent.
type rowRefusal struct {
	line   int
	key    string
	reason string
}

// utf8BOM starts Excel's "CSV UTF-8" files.
var utf8BOM = []byte("\xef\xbb\xbf")

// readCSV reads a CSV with a header row; it needs a key column and the
// columns named. A file that cannot be read at all (no header, a column
// missing) is a usage error and nothing is sent; a row that cannot be read
// is refused alone, and the others go.
func readCSV(path string, need []string) (*csvFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	complete := len(data) > 0 && data[len(data)-1] == '\n'
	r := csv.NewReader(bytes.NewReader(data))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1 // a row's field count is checked here, row by row
	header, err := r.Read()
	if err != nil {
		return nil, usagef("%s: no header row: %v", path, err)
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(header[i]))
	}
	// Unnamed columns at the end (Excel's trailing commas) are no columns.
	for len(header) > 0 && header[len(header)-1] == "" {
		header = header[:len(header)-1]
	}
	for _, col := range append([]string{"key"}, need...) {
		if !contains(header, col) {
			return nil, usagef("%s: no %q column (header: %s)", path, col, strings.Join(header, ","))
		}
	}
	for i, col := range header {
		if col != "" && contains(header[:i], col) {
			return nil, usagef("%s: the header names %q twice", path, col)
		}
	}
	f := &csvFile{path: path}
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		// The last row without its newline may still be being written.
		atEnd := !complete && r.InputOffset() == int64(len(data))
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if atEnd {
				f.held = pe.StartLine
				break
			}
			f.refused = append(f.refused, rowRefusal{line: pe.StartLine, reason: "not readable as CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return nil, usagef("%s: %v", path, err)
		}
		line, _ := r.FieldPos(0)
		if atEnd {
			f.held = line
			break
		}
		row := csvRow{line: line, values: map[string]string{}}
		for i, col := range header {
			if i < len(rec) && col != "" {
				row.values[col] = strings.TrimSpace(rec[i])
			}
		}
		key := row.get("key")
		switch {
		case key == "":
			f.refused = append(f.refused, rowRefusal{line: line, reason: "no key"})
			continue
		case seen[key] != 0:
			f.refused = append(f.refused, rowRefusal{line: line, key: key,
				reason: fmt.Sprintf("key %q is already on line %d (a key is sent once: give this row a key of its own)", key, seen[key])})
			continue
		}
		seen[key] = line
		if len(rec) < len(header) {
			f.refused = append(f.refused, rowRefusal{line: line, key: key,
				reason: fmt.Sprintf("%d fields, the header names %d (missing: %s)", len(rec), len(header), strings.Join(header[len(rec):], ","))})
			continue
		}
		for _, v := range rec[len(header):] {
			if strings.TrimSpace(v) != "" {
				f.extra = append(f.extra, line)
				break
			}
		}
		f.rows = append(f.rows, row)
	}
	return f, nil
}

// fileNotes prints, before the run, what the file holds that is not sent:
// rows refused as written, a last row left for the next run, fields past
// the header's columns.
func (a *app) fileNotes(f *csvFile) {
	for _, r := range f.refused {
		if a.jsonOut {
			a.printJSON(map[string]any{"key": r.key, "line": r.line, "state": "refused", "error": r.reason, "in_journal": false})
		} else if r.key != "" {
			fmt.Fprintf(a.stdout, "%-8s line %d %s: %s\n", "refused", r.line, r.key, r.reason)
		} else {
			fmt.Fprintf(a.stdout, "%-8s line %d: %s\n", "refused", r.line, r.reason)
		}
	}
	if f.held > 0 {
		const why = "no newline at its end yet (it may be half-written): left for the next run"
		if a.jsonOut {
			a.printJSON(map[string]any{"line": f.held, "state": "held", "reason": why})
		} else {
			fmt.Fprintf(a.stdout, "%-8s line %d: %s\n", "held", f.held, why)
		}
	}
	if len(f.extra) > 0 && !a.jsonOut {
		lines := make([]string, len(f.extra))
		for i, l := range f.extra {
			lines[i] = fmt.Sprint(l)
		}
		which := "line " + lines[0] + " has"
		if len(lines) > 1 {
			which = "lines " + strings.Join(lines, ", ") + " have"
		}
		fmt.Fprintf(a.stderr, "note: %s %s fields past the header's columns; they are ignored\n", f.path, which)
	}
}

// nonNilInts makes an absent list [] in JSON, not null.
func nonNilInts(l []int) []int {
	if l == nil {
		return []int{}
	}
	return l
}
