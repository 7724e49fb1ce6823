package batch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	autocall "github.com/autocallvn/autocall-go"
)

// DoNotCallList is a Do-Not-Call list in memory, its numbers in national
// form. It is safe for concurrent use.
type DoNotCallList struct {
	mu     sync.RWMutex
	phones map[string]struct{}
}

// NewDoNotCallList returns a list of phones, written in any form
// autocall.NormalizePhone reads. A number it cannot read is an error.
func NewDoNotCallList(phones ...string) (*DoNotCallList, error) {
	l := &DoNotCallList{phones: make(map[string]struct{}, len(phones))}
	for _, p := range phones {
		if err := l.Add(p); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Add puts phone on the list.
func (l *DoNotCallList) Add(phone string) error {
	n, err := autocall.NormalizePhone(phone)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.phones[n] = struct{}{}
	l.mu.Unlock()
	return nil
}

// Listed implements DoNotCall; phone may be written in any form.
func (l *DoNotCallList) Listed(_ context.Context, phone string) (bool, error) {
	n, err := autocall.NormalizePhone(phone)
	if err != nil {
		return false, err
	}
	l.mu.RLock()
	_, ok := l.phones[n]
	l.mu.RUnlock()
	return ok, nil
}

// Len is how many numbers the list holds.
func (l *DoNotCallList) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.phones)
}

// BadLine is a line of a Do-Not-Call file that holds no number.
type BadLine struct {
	Line   int    // from 1
	Text   string // as written, at most 80 bytes
	Reason string
}

// DoNotCallFileError lists the lines of a Do-Not-Call file that could not
// be read as numbers.
type DoNotCallFileError struct {
	Name string
	Bad  []BadLine
}

func (e *DoNotCallFileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "batch: the Do-Not-Call list %s has %d line(s) that are not phone numbers:", e.Name, len(e.Bad))
	for i, l := range e.Bad {
		if i == 5 {
			fmt.Fprintf(&b, " and %d more", len(e.Bad)-i)
			break
		}
		fmt.Fprintf(&b, " line %d %q: %s;", l.Line, l.Text, l.Reason)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// LoadDoNotCall reads a Do-Not-Call file (see ReadDoNotCall).
func LoadDoNotCall(path string) (*DoNotCallList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("batch: opening the Do-Not-Call list: %w", err)
	}
	defer f.Close()
	return ReadDoNotCall(f, path)
}

// ReadDoNotCall reads a Do-Not-Call list, one number a line in any form
// autocall.NormalizePhone reads ("0987654321", "+84 98 765 43 21",
// "098.765.4321"). Blank lines and "#" comments are skipped; on a line of
// a CSV or TSV export the first field is the number; a first line with no
// digit is a header. UTF-8 with or without a byte order mark, LF or CRLF.
//
// A line it cannot read is not skipped silently: the error, a
// *DoNotCallFileError, names every such line. The list of the numbers it
// could read comes with that error, for a caller who chooses to go on;
// leaving a listed number out means calling it.
func ReadDoNotCall(r io.Reader, name string) (*DoNotCallList, error) {
	l := &DoNotCallList{phones: map[string]struct{}{}}
	ferr := &DoNotCallFileError{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if i := strings.IndexAny(line, ",;\t"); i >= 0 {
			line = line[:i]
		}
		line = strings.Trim(strings.TrimSpace(line), `"`)
		if line == "" || (n == 1 && !strings.ContainsAny(line, "0123456789")) {
			continue
		}
		if err := l.Add(line); err != nil {
			reason := err.Error()
			var verr *autocall.ValidationError
			if errors.As(err, &verr) {
				reason = verr.Reason
			}
			ferr.Bad = append(ferr.Bad, BadLine{Line: n, Text: clip(sc.Text(), 80), Reason: reason})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("batch: reading the Do-Not-Call list %s: %w", name, err)
	}
	if len(ferr.Bad) > 0 {
		return l, ferr
	}
	return l, nil
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

var _ DoNotCall = (*DoNotCallList)(nil)
