package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/batch"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// A live peer's claim (a worker sending it now) is not unknown: journal
// resolve refuses it, saying so, and leaves the claim to its run.
func TestResolveALivePeersClaim(t *testing.T) {
	spec := startPostgresJournal(t)
	ctx := context.Background()
	j, err := autocallriver.OpenJournal(ctx, spec)
	require.NoError(t, err)
	defer j.Close()
	require.NoError(t, j.Lease(ctx, "worker-1", time.Minute))
	claimed, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "order-9", Kind: "otp", Campaign: "1",
		Phones: []string{"0912300451"}, Run: "worker-1"}})
	require.NoError(t, err)
	require.True(t, claimed)

	r := run(t, nil, "journal", "show", spec)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "in flight  order-9")
	r = run(t, nil, "journal", "resolve", spec, "order-9", "unsent")
	assert.Equal(t, 2, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "order-9")
	t.Log(r.stderr)
	rec, ok, err := j.Get(ctx, "order-9")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, batch.Claimed, rec.State, "the worker's claim stands")
}
