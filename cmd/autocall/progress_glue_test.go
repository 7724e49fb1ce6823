package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/autocallvn/autocall-go/batch"
)

// On a terminal, stdout and stderr are one screen: a refused row's line is
// printed on a line of its own, the bar erased first and drawn again after.
func TestRefusedLineNotGluedToTheBar(t *testing.T) {
	var screen bytes.Buffer // both streams, in the order a terminal shows them
	a := &app{stdout: &screen, stderr: &screen}
	p := a.newProgress(3, map[string]int{"a": 2, "b": 3, "c": 4})
	p.terminal = true
	p.update(batch.Progress{Total: 3, Done: 1, Placed: 1, LastKey: "a", LastState: batch.Placed})
	p.update(batch.Progress{Total: 3, Done: 2, Placed: 1, Refused: 1, LastKey: "b", LastState: batch.Refused,
		LastErr: errors.New("Callees[0]: not a phone number")})
	p.update(batch.Progress{Total: 3, Done: 3, Placed: 2, Refused: 1, LastKey: "c", LastState: batch.Placed})
	p.finish()
	out := screen.String()
	assert.Contains(t, out, "\r\033[Krefused  line 3 b: Callees[0]: not a phone number\n", "the bar erased, then the row on its own line")
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, "refused  line"); i > 0 {
			assert.True(t, strings.HasSuffix(line[:i], "\033[K"), "glued to the bar: %q", line)
		}
	}
	assert.True(t, strings.HasSuffix(out, "\n"))
}

// A row has a reason in words, never "<nil>": a row an earlier run refused
// gives the journal's reason; one the run stopped before says so.
func TestRowReasonsAreNeverNil(t *testing.T) {
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: &bytes.Buffer{}}
	p := a.newProgress(2, map[string]int{"a": 2, "b": 3})
	p.reason = func(key string) string { return map[string]string{"a": "Callees[0]: not a phone number"}[key] }
	p.update(batch.Progress{Total: 2, Done: 1, Skipped: 1, LastKey: "a", LastState: batch.Refused})
	p.update(batch.Progress{Total: 2, Done: 2, Skipped: 1, Unsent: 1, LastKey: "b", LastState: batch.Unsent})
	assert.NotContains(t, out.String(), "<nil>")
	assert.Contains(t, out.String(), "refused  line 2 a: as an earlier run left it: Callees[0]: not a phone number\n")
	assert.Contains(t, out.String(), "unsent   line 3 b: not sent: the run stopped first\n")
}
