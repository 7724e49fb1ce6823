package autocallredis

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/batch"
)

// Claims sweep the journal in the background, a bounded HSCAN page at a
// time (never HGETALL): expired records go, their keys kept as tombstones
// that refuse them.
func TestClaimsSweepExpiredRecords(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	rdb := rs.client(t)
	ctx := context.Background()
	j := NewJournal(rdb, "sweep")
	old := time.Now().Add(-40 * 24 * time.Hour)
	const seeded = 500
	for i := range seeded {
		rec := batch.Record{Key: fmt.Sprintf("old-%d", i), Kind: "otp", Time: old}
		ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: rec})
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, j.Settle(ctx, batch.Record{Key: rec.Key, State: batch.Placed, Time: old}))
	}
	require.NoError(t, rdb.ConfigResetStat(ctx).Err())
	for i := range sweepEvery * 8 {
		ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: fmt.Sprintf("new-%d", i), Kind: "otp"}})
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.NoError(t, j.Close())
	left := 0
	for i := range seeded {
		if _, ok, _ := j.Get(ctx, fmt.Sprintf("old-%d", i)); ok {
			left++
		}
	}
	assert.Less(t, left, seeded/2, "the background sweep dropped expired records")
	stats, err := rdb.Info(ctx, "commandstats").Result()
	require.NoError(t, err)
	assert.NotContains(t, stats, "cmdstat_hgetall", "the sweep never reads the whole hash")
	assert.Contains(t, stats, "cmdstat_hscan")

	res, err := j.Compact(ctx)
	require.NoError(t, err)
	assert.Equal(t, seeded, res.Tombstones)
	ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "old-7", Kind: "otp"}})
	require.NoError(t, err)
	assert.False(t, ok)
	assert.True(t, batch.IsForgotten(cur), "%+v", cur)
	keys, err := rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		assert.True(t, strings.HasPrefix(k, "autocall:"), k)
	}
}
