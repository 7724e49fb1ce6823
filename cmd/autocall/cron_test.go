package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func appendTo(t *testing.T, path, text string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(text)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// A row refused once makes only that run exit 6: the next minute's run
// names it, counts it and exits 0, so cron's mail comes once, not every
// minute for ever; a row appended later goes at once.
func TestRowRefusedByAnEarlierRunDoesNotChangeTheExitCode(t *testing.T) {
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\nr-1,0912300181,1\nr-2,12345,2\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 6, r.code, r.stdout+r.stderr)

	r = run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "refused  line 3 r-2: as an earlier run left it: ")
	assert.Contains(t, r.stdout, "from earlier runs 1 placed, 1 refused")

	appendTo(t, csv, "r-3,0912300183,3\n")
	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--json")...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `"already_refused":1`)
	assert.Equal(t, map[string][]string{"0912300181": {"1"}, "0912300183": {"3"}}, codesSent(t, srv))

	appendTo(t, csv, "r-4,0912300184,\n")
	r = run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 6, r.code, "this run refused a row: %s", r.stdout)
}

// A last line nobody ever ends is held while the file may still be being
// written, then refused (exit 6) once the file is older than --held-grace,
// and never sent.
func TestLineNeverEndedIsRefusedAfterTheGrace(t *testing.T) {
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\ng-1,0912300191,1\ng-2,0912300192,47")
	r := run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "held     line 3")

	old := time.Now().Add(-3 * time.Minute)
	require.NoError(t, os.Chtimes(csv, old, old))
	r = run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 6, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "refused  line 3: no newline at the end of the file: end the line if the row is complete")
	assert.NotContains(t, r.stdout, "held ")

	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--held-grace", "1h")...)
	assert.Equal(t, 0, r.code, "within a longer grace it is held: %s", r.stdout)
	assert.Contains(t, r.stdout, "held     line 3")
	assert.Equal(t, map[string][]string{"0912300191": {"1"}}, codesSent(t, srv), "the unended line is never sent")
}

// A batch's JSON report lists no unknown keys as [], never null: a script
// iterating over it must not have to special-case null.
func TestReportJSONListsAreNeverNull(t *testing.T) {
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\nj-1,0912300201,1\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--json")...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `"unknown_keys":[]`)
	assert.NotContains(t, r.stdout, "null")

	r = run(t, nil, "--json", "journal", "show", csv+".journal")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `"unknown":[]`)
	assert.NotContains(t, r.stdout, "null")
}
