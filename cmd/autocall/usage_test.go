package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every way of naming a command wrongly exits 2, says what was meant, and
// sends nothing.
func TestMistypedCommandsExit2(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	cases := []struct {
		args []string
		says string
	}{
		{[]string{}, "needs a command"},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"tokn"}, "did you mean token"},
		{[]string{"otp"}, "needs a command: send"},
		{[]string{"otp", "snd", "--campaign", "1", "--caller", "02873001234", "--code", "1", "0987654321"}, "did you mean send"},
		{[]string{"journal", "shw", "x.journal"}, "did you mean show"},
		{[]string{"cdr", "get"}, "accepts 1 arg"},
		{[]string{"cdr", "wait"}, "accepts 1 arg"},
		{[]string{"journal", "resolve", "x.journal", "k"}, "accepts 3 arg"},
		{[]string{"token", "extra"}, "unknown command"},
		{[]string{"version", "extra"}, "unknown command"},
		{[]string{"help", "nope"}, `no help topic "nope"`},
		{[]string{"help", "otp", "snd"}, `no help topic "otp snd"`},
		{[]string{"completion", "nope"}, `unknown command "nope"`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"--bogus", "otp", "send", "0912300222"}, "unknown flag: --bogus"},
		{[]string{"otp", "--bogus", "send", "--campaign", "1", "--caller", "02873001234", "--code", "1", "0912300222"}, "unknown flag: --bogus"},
		{[]string{"otp", "send", "--bogus", "--campaign", "1", "0912300222"}, "unknown flag: --bogus"},
		{[]string{"tts", "rn", "--campaign", "1"}, "did you mean run"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := run(t, env, tc.args...)
			assert.Equal(t, 2, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, tc.says)
		})
	}
	assert.Empty(t, srv.Requests(), "nothing was sent")
	for _, ok := range [][]string{{"help"}, {"help", "otp", "send"}, {"otp", "send", "--help"}, {"completion", "bash"}} {
		assert.Equal(t, 0, run(t, env, ok...).code, "%v", ok)
	}
}
