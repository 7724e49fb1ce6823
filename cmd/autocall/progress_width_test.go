package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/autocallvn/autocall-go/batch"
)

// The bar fits the terminal at every width, the largest counts included,
// and says the most it can.
func TestBarFitsTheTerminal(t *testing.T) {
	pr := batch.Progress{Total: 100000, Done: 99999, Left: 1, Placed: 99990, Refused: 7, Unknown: 2, Skipped: 12345,
		Rate: 1234.5, ETA: 75 * time.Minute}
	for _, cols := range []int{200, 132, 100, 80, 60, 40, 20, 1} {
		b := bar(pr, cols)
		assert.LessOrEqual(t, len(b), max(cols-1, 0), "cols %d: %q", cols, b)
	}
	assert.Contains(t, bar(pr, 200), "12345 skipped, 1234.5/s, about 1h15m0s left")
	assert.True(t, strings.HasPrefix(bar(pr, 80), "["), "a bar on 80 columns: %q", bar(pr, 80))
	assert.Contains(t, bar(pr, 80), "99999/100000 done")

	assert.Equal(t, 80, terminalColumns(func(string) string { return "" }))
	assert.Equal(t, 80, terminalColumns(func(string) string { return "wide" }))
	assert.Equal(t, 132, terminalColumns(func(string) string { return "132" }))
}
