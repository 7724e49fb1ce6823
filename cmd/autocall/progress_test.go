package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/autocallvn/autocall-go/batch"
)

// Not on a terminal (cron mail), a plain line at most every plainEvery; on
// a terminal, a bar redrawn in place.
func TestProgressOutput(t *testing.T) {
	var out, errOut bytes.Buffer
	a := &app{stdout: &out, stderr: &errOut}
	p := a.newProgress(10, map[string]int{"k": 2})
	assert.False(t, p.terminal, "a buffer is no terminal")
	step := batch.Progress{Total: 10, Done: 1, Left: 9, Placed: 1, LastKey: "k", LastState: batch.Placed, Rate: 2, ETA: 4500 * time.Millisecond}
	p.update(step)
	assert.Empty(t, errOut.String(), "no line before plainEvery has passed")
	p.lastLine = time.Now().Add(-plainEvery)
	p.update(step)
	assert.Equal(t, "progress: 1/10 done, 1 placed, 0 refused, 0 unknown, 0 skipped, 2.0/s, about 5s left\n", errOut.String())
	assert.Empty(t, out.String(), "placed rows are not listed one by one")

	errOut.Reset()
	p.terminal = true
	step.LastState, step.LastErr = batch.Refused, errString("bad phone")
	p.update(step)
	assert.Contains(t, out.String(), "refused  line 2 k: bad phone")
	assert.True(t, strings.HasPrefix(errOut.String(), "\r[#"), errOut.String())
	p.finish()
	assert.True(t, strings.HasSuffix(errOut.String(), "\n"), "the bar's line is ended")
}

type errString string

func (e errString) Error() string { return string(e) }
