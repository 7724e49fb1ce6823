package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Phones given with --csv would not be called: a usage error, and nothing
// is sent, for every command that takes a CSV.
func TestArgumentsWithCSVAreRefused(t *testing.T) {
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code,extension\nk-1,0912300161,1,101\n")
	for _, tc := range []struct {
		env  map[string]string
		args []string
	}{
		{tel4vnEnv(srv), append(otpCSV(csv), "0912300162")},
		{tel4vnEnv(srv), ttsCSVRun(csv, "--ignore-column", "code", "--ignore-column", "extension", "0912300162")},
		{omicallEnv(srv), []string{"call", "phone", "--step", "text:Xin chào", "--csv", csv, "0912300162"}},
		{omicallEnv(srv), []string{"call", "extension", "--cid", "02873001234", "--step", "text:Xin chào", "--csv", csv, "102"}},
	} {
		r := run(t, tc.env, tc.args...)
		assert.Equal(t, 2, r.code, "%v: %s%s", tc.args, r.stdout, r.stderr)
		assert.Contains(t, r.stderr, "given with --csv", tc.args)
	}
	assert.Empty(t, srv.Requests(), "nothing sent")
	_, err := os.Stat(csv + ".journal")
	assert.True(t, os.IsNotExist(err), "no journal")
}
