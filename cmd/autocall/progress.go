package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

// progress shows a batch as it goes: a bar on a terminal, a plain line
// every few seconds otherwise (cron mail stays readable), JSON lines with
// --json.
type progress struct {
	a        *app
	total    int
	lines    map[string]int
	terminal bool
	cols     int // the terminal's width: the bar must not wrap
	// reason says why an earlier run settled key as it did (the journal's
	// record): a row skipped this time has no error of its own.
	reason func(key string) string

	mu       sync.Mutex
	last     batch.Progress
	lastLine time.Time
	barShown bool // a bar is on the terminal's last line, without a newline
}

// plainEvery is how often a batch not on a terminal prints a line.
const plainEvery = 5 * time.Second

func (a *app) newProgress(total int, lines map[string]int) *progress {
	p := &progress{a: a, total: total, lines: lines, lastLine: time.Now(), cols: terminalColumns(a.env)}
	if f, ok := a.stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(pr batch.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prevSkipped := p.last.Skipped
	p.last = pr
	a := p.a
	if a.dryRun && pr.LastState != batch.Refused && pr.Skipped == prevSkipped {
		return // a dry run places nothing: it shows the rows it would refuse or skip
	}
	if a.jsonOut {
		row := map[string]any{"key": pr.LastKey, "line": p.lines[pr.LastKey], "state": pr.LastState}
		if pr.LastErr != nil {
			row["error"] = pr.LastErr.Error()
		}
		b, _ := json.Marshal(row)
		fmt.Fprintf(a.stdout, "%s\n", b)
		return
	}
	skipped := pr.Skipped > prevSkipped
	if pr.LastState != batch.Placed && pr.LastState != "" {
		if p.barShown {
			// Erase the bar: stdout and stderr share the terminal, and the
			// row's line must not be glued to it.
			fmt.Fprint(a.stderr, "\r\033[K")
			p.barShown = false
		}
		fmt.Fprintf(a.stdout, "%-8s line %d %s: %s\n", pr.LastState, p.lines[pr.LastKey], pr.LastKey, p.why(pr, skipped))
	}
	switch {
	case a.dryRun:
	case p.terminal:
		// Clear to the end of the line: a shorter bar leaves no stale tail.
		fmt.Fprintf(a.stderr, "\r%s\033[K", bar(pr, p.cols))
		p.barShown = true
	case time.Since(p.lastLine) >= plainEvery:
		p.lastLine = time.Now()
		fmt.Fprintf(a.stderr, "progress: %s\n", summary(pr))
	}
}

// why is a row's reason in words, never "<nil>": this run's error, or what
// the journal says of an earlier run.
func (p *progress) why(pr batch.Progress, skipped bool) string {
	switch {
	case pr.LastErr != nil:
		return pr.LastErr.Error()
	case skipped:
		why := "as an earlier run left it"
		if p.reason != nil {
			if r := p.reason(pr.LastKey); r != "" {
				why += ": " + r
			}
		}
		return why
	case pr.LastState == batch.Unsent:
		return "not sent: the run stopped first"
	}
	return "no reason given"
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.barShown {
		fmt.Fprintln(p.a.stderr)
		p.barShown = false
	}
}

func summary(pr batch.Progress) string {
	s := fmt.Sprintf("%d/%d done, %d placed, %d refused, %d unknown, %d skipped, %.1f/s",
		pr.Done, pr.Total, pr.Placed, pr.Refused, pr.Unknown, pr.Skipped, pr.Rate)
	if pr.Left > 0 {
		s += fmt.Sprintf(", about %s left", pr.ETA.Round(time.Second))
	}
	return s
}

// bar is the progress line, fitted to cols: a line as wide as the terminal
// wraps, and \r then redraws only its last part.
func bar(pr batch.Progress, cols int) string {
	const width, least = 30, 10
	room := cols - 1
	// The longest summary that leaves room for a bar.
	short := fmt.Sprintf("%d/%d done, %d placed, %d refused, %d unknown", pr.Done, pr.Total, pr.Placed, pr.Refused, pr.Unknown)
	withETA := short
	if pr.Left > 0 {
		withETA += fmt.Sprintf(", about %s left", pr.ETA.Round(time.Second))
	}
	s := short
	for _, c := range []string{summary(pr), withETA} {
		if len(c)+3+least <= room {
			s = c
			break
		}
	}
	w := min(width, room-len(s)-3)
	if w < least {
		return truncate(s, room)
	}
	n := 0
	if pr.Total > 0 {
		n = pr.Done * w / pr.Total
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(" ", w-n) + "] " + s
}

func truncate(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) > n {
		return s[:n] // ASCII: summary writes only numbers and English
	}
	return s
}

// terminalColumns is the terminal's width from COLUMNS (shells set it; a
// new dependency for an ioctl is not worth it), else the classic 80.
func terminalColumns(env func(string) string) int {
	if env != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(env("COLUMNS"))); err == nil && n > 0 {
			return n
		}
	}
	return 80
}
