package batch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A job list run again after the journal forgot its records phones nobody:
// each job is Refused as forgotten, nothing stored; AllowForgotten sends
// them. A re-run within the retention is recognised record by record.
func TestRunAfterRetentionRefusesForgottenJobs(t *testing.T) {
	srv, tel, _ := sandbox(t)
	path := filepath.Join(t.TempDir(), "jobs.journal")
	j, err := OpenFile(path)
	require.NoError(t, err)
	defer func() { j.Close() }()
	jobs := otpJobs(50)
	old := func() time.Time { return time.Now().Add(-40 * 24 * time.Hour) }
	rep, err := (&Runner{TEL4VN: tel, Journal: j, Now: old}).Run(ctx, jobs[:30])
	require.NoError(t, err)
	require.Equal(t, 30, rep.Placed)
	rep, err = (&Runner{TEL4VN: tel, Journal: j}).Run(ctx, jobs[30:])
	require.NoError(t, err)
	require.Equal(t, 20, rep.Placed)

	res, err := j.Compact(ctx)
	require.NoError(t, err)
	assert.Equal(t, Compaction{Kept: 20, Forgotten: 30, Superseded: 50, Tombstones: 30, BytesBefore: res.BytesBefore, BytesAfter: res.BytesAfter}, res)
	assert.Less(t, res.BytesAfter, res.BytesBefore/3)

	var lastErr error
	r := &Runner{TEL4VN: tel, Journal: j, Progress: func(p Progress) {
		if p.LastErr != nil {
			lastErr = p.LastErr
		}
	}}
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 30, rep.Refused)
	assert.Equal(t, 30, rep.Forgotten)
	assert.Equal(t, 20, rep.AlreadyPlaced)
	assertAddsUp(t, rep)
	assert.ErrorIs(t, lastErr, ErrForgotten)
	assert.Len(t, srv.Calls(), 50, "nobody phoned again")
	_, ok, _ := j.Get(ctx, jobs[0].Key)
	assert.False(t, ok, "the refusal of a forgotten key is not stored")

	// Across a restart too.
	require.NoError(t, j.Close())
	j, err = OpenFile(path)
	require.NoError(t, err)
	rep, err = (&Runner{TEL4VN: tel, Journal: j}).Run(ctx, jobs[:30])
	require.NoError(t, err)
	assert.Equal(t, 30, rep.Forgotten)
	assert.Len(t, srv.Calls(), 50)

	rep, err = (&Runner{TEL4VN: tel, Journal: j, AllowForgotten: true}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 30, rep.Placed, "--allow-forgotten sends them")
	assert.Equal(t, 20, rep.AlreadyPlaced)
	assertAddsUp(t, rep)
	assert.Len(t, srv.Calls(), 80)
}

// The file journal compacts itself on Close once stale lines pass the
// share of the file, and on opening.
func TestFileJournalCompactsItself(t *testing.T) {
	defer func(b int64) { compactMinBytes = b }(compactMinBytes)
	compactMinBytes = 0
	path := filepath.Join(t.TempDir(), "jobs.journal")
	now := time.Now()
	j, err := OpenFile(path)
	require.NoError(t, err)
	for i := range 100 {
		rec := Record{Key: string(rune('a'+i%26)) + time.Duration(i).String(), Kind: "otp", Time: now.Add(-time.Hour)}
		ok, _, err := j.Claim(ctx, ClaimRequest{Record: rec})
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, j.Settle(ctx, Record{Key: rec.Key, State: Placed, Time: rec.Time}))
	}
	before := fileSize(t, path)
	require.NoError(t, j.Close())
	after := fileSize(t, path)
	assert.Less(t, after, before*2/3, "half the lines were superseded claims: compacted on Close")

	// Below the share, nothing is rewritten.
	j, err = OpenFile(path)
	require.NoError(t, err)
	require.NoError(t, j.Close())
	assert.Equal(t, after, fileSize(t, path))

	// Opened 40 days on, every record is past the retention: compacted on opening.
	j, err = OpenFile(path, WithClock(func() time.Time { return now.Add(40 * 24 * time.Hour) }))
	require.NoError(t, err)
	h := j.Horizon()
	assert.Equal(t, 0, h.Records)
	assert.Equal(t, 100, h.Keys)
	require.NoError(t, j.Close())
	assert.Less(t, fileSize(t, path), after/10)
	_, err = os.Stat(path + ".compact")
	assert.True(t, errors.Is(err, os.ErrNotExist))
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Size()
}
