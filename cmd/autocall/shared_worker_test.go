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

// A number the order service's worker called at 09:00 is not called by a
// cron CSV sharing its PostgreSQL journal until 09:00 the next day (Decree
// 91's one call a day): the CSV's row is deferred, in a dry run too.
func TestAdvertisingCSVSharesThePostgresIndexWithTheWorker(t *testing.T) {
	spec := startPostgresJournal(t)
	ctx := context.Background()
	j, err := autocallriver.OpenJournal(ctx, spec)
	require.NoError(t, err)
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	rec := batch.Record{Key: "order-1", Kind: "otp", Campaign: "1", Phones: []string{"0912300441"}, Run: "worker-1",
		Purpose: batch.Advertising, Time: at}
	claimed, _, err := j.Claim(ctx, batch.ClaimRequest{Record: rec, Interval: 24 * time.Hour})
	require.NoError(t, err)
	require.True(t, claimed)
	rec.State, rec.CallIDs, rec.Time = batch.Placed, []string{"call-w1"}, at.Add(time.Second)
	require.NoError(t, j.Settle(ctx, rec))
	require.NoError(t, j.Close())

	srv := sandbox(t)
	env := tel4vnEnv(srv)
	env["AUTOCALL_NOW"] = "2026-12-02T10:00:00+07:00"
	csv := writeFile(t, "ads.csv", "key,phone\nad-1,+84 91 230 0441\nad-2,0912300442\n")
	args := []string{"otp", "send", "--campaign", "1", "--caller", "02873001234", "--code", "KM50", "--purpose", "advertising",
		"--rate", "0", "--csv", csv, "--journal", spec}
	r := run(t, env, append([]string{"--dry-run"}, args...)...)
	assert.Equal(t, 8, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "1 rows would be sent, 0 refused, 1 deferred by the advertising rules")

	r = run(t, env, args...)
	assert.Equal(t, 8, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "Run the same command again after 2026-12-03 09:00")
	require.Len(t, srv.Calls(), 1, "only the number the worker did not call")
	assert.Equal(t, "0912300442", srv.Calls()[0].Phone)
}

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
