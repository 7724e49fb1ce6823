package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The PostgreSQL journal keeps the command's retention: `journal compact
// postgres://…` forgets a placed row past --retention (keeping its key),
// and the CSV run again refuses it as forgotten instead of phoning the
// customer a second time. A Redis journal compacts itself as it is used.
func TestRetentionWithSharedJournals(t *testing.T) {
	spec := startPostgresJournal(t)
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\nk-1,0912300431,1\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", spec)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Len(t, srv.Calls(), 1)

	time.Sleep(1100 * time.Millisecond)
	r = run(t, nil, "journal", "compact", "--retention", "1s", spec)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "dropped 1 placed records (their keys kept)")

	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--retention", "1s", "--journal", spec)...)
	assert.Contains(t, r.stdout+r.stderr, "forgotten")
	assert.Len(t, srv.Calls(), 1, "the forgotten row is not phoned again")

	r = run(t, nil, "journal", "compact", "redis://127.0.0.1:1/0?journal=x")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "a Redis journal drops")
}
