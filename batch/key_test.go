package batch

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A key that is not UTF-8 (a hash's bytes, say) would be written as
// another key (JSON has U+FFFD for each bad byte): read back, its record
// names another key, and once the journal is reopened a run of the same
// key would find nothing and phone again. Runs refuse it before anything
// is sent; the file journal refuses to write it.
func TestKeyNotUTF8(t *testing.T) {
	srv, tel, _ := sandbox(t)
	path := filepath.Join(t.TempDir(), "jobs.journal")
	jobs := otpJobs(2)
	jobs[1].Key = "order-\xea"
	for range 2 {
		j, err := OpenFile(path)
		require.NoError(t, err)
		_, err = (&Runner{TEL4VN: tel, Journal: j}).Run(ctx, jobs)
		require.ErrorIs(t, err, ErrBadKey)
		_, err = (&Runner{TEL4VN: tel, Journal: j, RunID: "r"}).RunOne(ctx, jobs[1])
		require.ErrorIs(t, err, ErrBadKey)
		require.NoError(t, j.Close())
	}
	assert.Empty(t, srv.Calls(), "nothing sent")

	j, _ := openTemp(t)
	_, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "a\xea"}})
	require.ErrorIs(t, err, ErrBadKey)
	require.ErrorIs(t, j.Settle(ctx, Record{Key: "a\xea", State: Placed}), ErrBadKey)
	_, ok, err := j.Get(ctx, "a\xea")
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = j.Records(ctx)
	require.NoError(t, err)
}
