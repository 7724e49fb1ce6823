package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The PostgreSQL journal has no retention: a --retention given with it is
// refused rather than silently kept for ever, and journal compact says
// what each shared journal does instead of naming a sweep nobody runs.
func TestRetentionWithSharedJournals(t *testing.T) {
	spec := startPostgresJournal(t)
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\nk-1,0912300431,1\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--retention", "7d", "--journal", spec)...)
	assert.Equal(t, 2, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "keeps every record")
	assert.Empty(t, srv.Calls())

	r = run(t, nil, "journal", "compact", spec)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "the PostgreSQL journal keeps every record")
	assert.NotContains(t, r.stderr, "autocall-worker")

	r = run(t, nil, "journal", "compact", "redis://127.0.0.1:1/0?journal=x")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "a Redis journal drops")
	assert.NotContains(t, r.stderr, "PostgreSQL")

	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", spec)...)
	assert.Equal(t, 0, r.code, "without the flags it runs: %s", r.stdout+r.stderr)
}
