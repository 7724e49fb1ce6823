//go:build linux

package batch

import (
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A claim whose line is written only in part (the disk full, the file
// size limit reached) fails, and nothing is sent for it: the part written
// is taken back, so that reopened the journal does not read it as a claim
// cut by a crash (Unknown, "in flight"), and the records around it read
// back at their places.
func TestFileJournalAppendWrittenInPart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "part.journal")
	j, err := OpenFile(path)
	require.NoError(t, err)
	require.NoError(t, j.Settle(ctx, Record{Key: "before", State: Placed, CallIDs: []string{"c1"}}))
	_, err = j.Compact(ctx) // synced: the limit is on the bytes written so far
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)

	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	lim := old
	lim.Cur = uint64(st.Size()) + 40 // past the claim's key
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))
	ok, _, cerr := j.Claim(ctx, ClaimRequest{Record: Record{Key: "never-sent", Reason: strings.Repeat("x", 200)}})
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old))
	require.Error(t, cerr)
	assert.False(t, ok)

	require.NoError(t, j.Settle(ctx, Record{Key: "after", State: Placed, CallIDs: []string{"c2"}}))
	rec, _, err := j.Get(ctx, "after")
	require.NoError(t, err)
	assert.Equal(t, []string{"c2"}, rec.CallIDs)
	require.NoError(t, j.Close())

	// Closed right after the failed write: what it wrote is not left at
	// the end.
	j, err = OpenFile(path)
	require.NoError(t, err)
	st, err = os.Stat(path)
	require.NoError(t, err)
	lim.Cur = uint64(st.Size()) + 40
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))
	_, _, cerr = j.Claim(ctx, ClaimRequest{Record: Record{Key: "never-sent", Reason: strings.Repeat("x", 200)}})
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old))
	require.Error(t, cerr)
	require.NoError(t, j.Close())
	j, err = OpenFile(path)
	require.NoError(t, err)
	defer j.Close()
	_, had, err := j.Get(ctx, "never-sent")
	require.NoError(t, err)
	assert.False(t, had, "never claimed: no request left for it")
	for _, k := range []string{"before", "after"} {
		rec, _, err := j.Get(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, Placed, rec.State, k)
	}
}
