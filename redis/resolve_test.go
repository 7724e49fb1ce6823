package autocallredis

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/batch"
)

// peerAfterGet is a journal on which a peer host acts right after the
// first Get: between batch.Resolve's read and its write.
type peerAfterGet struct {
	*Journal
	peer func()
}

func (p *peerAfterGet) Get(ctx context.Context, key string) (batch.Record, bool, error) {
	rec, ok, err := p.Journal.Get(ctx, key)
	if f := p.peer; f != nil {
		p.peer = nil
		f()
	}
	return rec, ok, err
}

// An operator resolves a quota-refused job unsent while a peer host
// retries quota-refused jobs and places it: Resolve must not overwrite
// Placed, or the next run calls the customer again.
func TestResolveDoesNotOverwriteAPeersOutcome(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	j := NewJournal(rs.client(t), "resolve")
	settle := func(rec batch.Record, retry batch.Resend) {
		t.Helper()
		ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: rec.Key, Kind: "otp", Campaign: "1"}, Resend: retry})
		require.NoError(t, err)
		require.True(t, ok, "%+v", cur)
		require.NoError(t, j.Settle(ctx, rec))
	}
	settle(batch.Record{Key: "k", State: batch.Refused, Cause: batch.CauseQuota}, batch.Resend{})
	pj := &peerAfterGet{Journal: j, peer: func() {
		settle(batch.Record{Key: "k", State: batch.Placed, CallIDs: []string{"1_1_1_1_u_84912000003"}}, batch.Resend{Causes: []string{batch.CauseQuota}})
	}}
	assert.ErrorIs(t, batch.Resolve(ctx, pj, "k", batch.Unsent), batch.ErrChanged)
	rec, _, err := j.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, batch.Placed, rec.State)

	// Nothing in the way: written, with what the claim knew; a time with
	// an offset and nanoseconds compares as Redis stores it.
	loc := time.FixedZone("ICT", 7*3600)
	settle(batch.Record{Key: "u", State: batch.Unknown, Time: time.Date(2026, 12, 1, 18, 0, 0, 120000000, loc)}, batch.Resend{})
	require.NoError(t, batch.Resolve(ctx, j, "u", batch.Placed))
	rec, _, _ = j.Get(ctx, "u")
	assert.Equal(t, batch.Placed, rec.State)
	assert.Equal(t, "1", rec.Campaign)
	ok, err := j.SettleIf(ctx, batch.Record{Key: "none", State: batch.Unsent}, batch.Record{Key: "none", State: batch.Unknown})
	require.NoError(t, err)
	assert.False(t, ok, "no record: nothing to compare with, nothing written")
}
