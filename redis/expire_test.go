package autocallredis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// Expire gives a finished journal a lifetime; a run under its name takes
// it off again, so that the journal cannot vanish under the run, even when
// the same Journal runs again.
func TestJournalExpire(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	rdb := rs.client(t)
	const hash = "autocall:journal:expiring"
	j := NewJournal(rdb, "expiring")
	ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "a"}, Resend: batch.Resend{}})
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, j.Settle(ctx, batch.Record{Key: "a", State: batch.Placed, CallIDs: []string{"c1"}}))

	require.NoError(t, j.Expire(ctx, time.Hour))
	ttl, err := rdb.PTTL(ctx, hash).Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 60)

	for _, run := range []*Journal{j, NewJournal(rdb, "expiring")} {
		require.NoError(t, run.Expire(ctx, time.Hour))
		ok, cur, err := run.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "a"}, Resend: batch.Resend{}})
		require.NoError(t, err)
		assert.False(t, ok)
		assert.Equal(t, batch.Placed, cur.State)
		ttl, err = rdb.PTTL(ctx, hash).Result()
		require.NoError(t, err)
		assert.Equal(t, time.Duration(-1), ttl, "no expiry while the journal is run")
	}

	require.NoError(t, j.Expire(ctx, 50*time.Millisecond))
	require.Eventually(t, func() bool { n, _ := rdb.Exists(ctx, hash).Result(); return n == 0 }, 10*time.Second, 20*time.Millisecond)

	err = j.Expire(ctx, 0)
	var ve *autocall.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "d", ve.Field)
	assert.ErrorIs(t, err, autocall.ErrValidation)
}

// The advertising index expires with the journal, and a run takes its
// expiry off with the journal's: an index gone under a run would let a
// number be called twice within the interval.
func TestJournalExpireAdvertisingIndex(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	rdb := rs.client(t)
	ads := subKey("autocall:journal:ads-expiring", "advertising")
	j := NewJournal(rdb, "ads-expiring")
	ok, _, err := j.Claim(ctx, adClaim("a"))
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, j.Expire(ctx, time.Hour))
	ttl, err := rdb.PTTL(ctx, ads).Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 60)

	ok, _, err = j.Claim(ctx, adClaim("b"))
	require.NoError(t, err)
	assert.False(t, ok, "the number was called by a")
	ttl, err = rdb.PTTL(ctx, ads).Result()
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), ttl, "no expiry on the index while the journal is run")
}

// The tombstones expire with the journal (no claim is left to sweep them),
// and a run takes their expiry off with the journal's: tombstones gone
// under a run would let a forgotten job be sent again.
func TestJournalExpireTombstones(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	rdb := rs.client(t)
	tombs := subKey("autocall:journal:tombs-expiring", "forgotten")
	j := NewJournal(rdb, "tombs-expiring")
	old := time.Now().Add(-40 * 24 * time.Hour)
	ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "a", Kind: "otp", Time: old}})
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, j.Settle(ctx, batch.Record{Key: "a", State: batch.Placed, Time: old}))
	res, err := j.Compact(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Forgotten)

	require.NoError(t, j.Expire(ctx, time.Hour))
	ttl, err := rdb.PTTL(ctx, tombs).Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 60)

	ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "a", Kind: "otp"}})
	require.NoError(t, err)
	assert.False(t, ok)
	assert.True(t, batch.IsForgotten(cur), "%+v", cur)
	ttl, err = rdb.PTTL(ctx, tombs).Result()
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), ttl, "no expiry on the tombstones while the journal is run")
}
