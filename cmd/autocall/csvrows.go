package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/autocallvn/autocall-go/batch/csvrows"
)

// csvFile is what a batch CSV holds, row by row. Its Refused rows are not
// in the journal: each run reports them until the file is fixed, and the
// run after the fix sends them.
type csvFile struct {
	path string
	*csvrows.File
}

// readCSV reads a CSV with a header row; it needs a key column and the
// columns named, which it matches in any case (a placeholder's column keeps
// its case). A file that cannot be read at all (no header, a column
// missing) is a usage error and nothing is sent; a row that cannot be read
// is refused alone, and the others go.
//
// A last row without its newline is held for the next run while the file
// may still be being written; once the file is older than grace, nobody is
// completing it, and it is refused so that a person looks (still unsent).
func readCSV(path string, need []string, grace time.Duration) (*csvFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	read, err := csvrows.Read(data, csvrows.Options{Fixed: fixedColumns, Required: need})
	if err != nil {
		return nil, usagef("%s: %v", path, err)
	}
	f := &csvFile{path: path, File: read}
	if f.Held > 0 && grace > 0 {
		if st, err := os.Stat(path); err == nil && time.Since(st.ModTime()) > grace {
			f.Refused = append(f.Refused, csvrows.Refusal{Line: f.Held,
				Reason: "no newline at the end of the file: end the line if the row is complete"})
			f.Held = 0
		}
	}
	return f, nil
}

// fixedColumns are the columns the commands read by name; every other
// column is a template's placeholder, named as the header writes it.
var fixedColumns = []string{"key", "phone", "code", "extension"}

// fileNotes prints, before the run, what the file holds that is not sent:
// rows refused as written, a last row left for the next run, fields past
// the header's columns.
func (a *app) fileNotes(f *csvFile) {
	for _, r := range f.Refused {
		if a.jsonOut {
			a.printJSON(map[string]any{"key": r.Key, "line": r.Line, "state": "refused", "error": r.Reason, "in_journal": false})
		} else if r.Key != "" {
			fmt.Fprintf(a.stdout, "%-8s line %d %s: %s\n", "refused", r.Line, r.Key, r.Reason)
		} else {
			fmt.Fprintf(a.stdout, "%-8s line %d: %s\n", "refused", r.Line, r.Reason)
		}
	}
	if f.Held > 0 {
		const why = "no newline at its end yet (it may be half-written): left for the next run"
		if a.jsonOut {
			a.printJSON(map[string]any{"line": f.Held, "state": "held", "reason": why})
		} else {
			fmt.Fprintf(a.stdout, "%-8s line %d: %s\n", "held", f.Held, why)
		}
	}
	if len(f.Extra) > 0 && !a.jsonOut {
		lines := make([]string, len(f.Extra))
		for i, l := range f.Extra {
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

// nonNilStrings makes an absent list [] in JSON, not null.
func nonNilStrings(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
