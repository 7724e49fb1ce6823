package batch

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Lines longer than the reader's buffer (1 MiB) and than a place holds
// (2 MiB) read back whole, among short ones, after a compaction and a
// reopen, and in a dry run's copy.
func TestFileJournalLongLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.journal")
	j, err := OpenFile(path)
	require.NoError(t, err)
	want := map[string]string{}
	for i, n := range []int{10, 1<<20 + 7, 10, 2<<20 + 3, 3 << 20, 10, 2<<20 - 200} {
		key := fmt.Sprintf("k%d-Nguyễn", i)
		reason := strings.Repeat("ệ", n/3) + key
		want[key] = reason
		_, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: key}})
		require.NoError(t, err)
		require.NoError(t, j.Settle(ctx, Record{Key: key, State: Refused, Reason: reason}))
	}
	check := func(recs []Record) {
		t.Helper()
		require.Len(t, recs, len(want))
		for i, r := range recs {
			assert.Equal(t, fmt.Sprintf("k%d-Nguyễn", i), r.Key, "in the order the keys came")
			assert.Equal(t, Refused, r.State)
			assert.True(t, want[r.Key] == r.Reason, r.Key)
		}
	}
	recs, err := j.Records(ctx)
	require.NoError(t, err)
	check(recs)
	_, err = j.Compact(ctx)
	require.NoError(t, err)
	recs, err = j.Records(ctx)
	require.NoError(t, err)
	check(recs)
	require.NoError(t, j.Close())
	for range 2 {
		j, err = OpenFile(path)
		require.NoError(t, err)
		recs, err = j.Records(ctx)
		require.NoError(t, err)
		check(recs)
		ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "k3-Nguyễn"}, Resend: Resend{Refused: true}})
		require.NoError(t, err)
		require.True(t, ok, "refused: taken again")
		require.NoError(t, j.Settle(ctx, Record{Key: "k3-Nguyễn", State: Refused, Reason: want["k3-Nguyễn"]}))
		require.NoError(t, j.Close())
	}
	m, _, err := MemJournalFromFile(path)
	require.NoError(t, err)
	recs, err = m.Records(ctx)
	require.NoError(t, err)
	require.Len(t, recs, len(want))
}
