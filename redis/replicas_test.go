package autocallredis

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/batch"
)

// startReplica starts a replica of primary and waits until it is in sync.
func startReplica(t *testing.T, primary *redisServer) *redisServer {
	t.Helper()
	rs := startRedisWith(t, t.TempDir(), 0, "--replicaof", "127.0.0.1", strconv.Itoa(primary.port))
	c := rs.client(t)
	require.Eventually(t, func() bool {
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	}, 20*time.Second, 20*time.Millisecond, "the replica never synced")
	return rs
}

// With MinReplicas, a claim returns once the replica has it; with the
// replica gone, the claim fails with ErrNotReplicated and is recorded back
// as unsent (nothing was sent), and a batch run stops before sending.
func TestMinReplicasWaits(t *testing.T) {
	primary := startRedisWith(t, t.TempDir(), 0, "--repl-diskless-sync-delay", "0") // sync at once
	replica := startReplica(t, primary)
	rdb, rrdb := primary.client(t), replica.client(t)

	j := NewJournal(rdb, "replicated", MinReplicas(1, 5*time.Second))
	for i := range 20 {
		key := "k" + strconv.Itoa(i)
		ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: key, Kind: "otp", Phones: []string{"0987654321"}}, Resend: batch.Resend{}})
		require.NoError(t, err)
		require.True(t, ok)
		raw, err := rrdb.HGet(ctx, "autocall:journal:replicated", key).Result()
		require.NoError(t, err, "the replica has the claim when Claim returns")
		assert.Contains(t, raw, `"state":"claimed"`)
	}
	ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k0"}, Resend: batch.Resend{}})
	require.NoError(t, err, "a claim that finds a record writes nothing to wait for")
	assert.False(t, ok)
	assert.Equal(t, batch.Claimed, cur.State, "this handle's own claim, in flight")

	replica.stop()
	j = NewJournal(rdb, "replicated", MinReplicas(1, 200*time.Millisecond))
	ok, _, err = j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "lonely", Kind: "otp", Phones: []string{"0987654321"}}, Resend: batch.Resend{}})
	require.ErrorIs(t, err, ErrNotReplicated)
	assert.False(t, ok)
	assert.Contains(t, err.Error(), "0 of 1 replicas acknowledged the claim of lonely within 200ms")
	rec, found, gerr := j.Get(ctx, "lonely")
	require.NoError(t, gerr)
	require.True(t, found)
	assert.Equal(t, batch.Unsent, rec.State, "nothing was sent: the next run sends it")
	assert.Equal(t, []string{"0987654321"}, rec.Phones)

	_, calls, err := runOn(t, NewJournal(rdb, "replicated-run", MinReplicas(1, 200*time.Millisecond)))
	require.ErrorIs(t, err, ErrNotReplicated)
	assert.Zero(t, calls, "the run stopped before sending")
}

// WAIT needs one connection to the primary: a client that cannot lend one
// is refused at the first claim rather than waiting for nothing.
func TestMinReplicasNeedsAConnection(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": rs.addr()}})
	defer ring.Close()
	_, _, err := NewJournal(ring, "ring", MinReplicas(1, time.Second)).Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k"}, Resend: batch.Resend{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MinReplicas needs a *redis.Client or *redis.ClusterClient, not *redis.Ring")
	n, _ := rs.client(t).HLen(ctx, "autocall:journal:ring").Result()
	assert.Zero(t, n)
}

// An advertising claim the replicas did not acknowledge is recorded back
// as unsent and leaves the per-phone index: nobody was called, so the
// number is free for the next claim, not held for 24 hours.
func TestMinReplicasUnackedAdvertisingFreesTheNumber(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0) // no replica: WAIT gets no acknowledgement
	rdb := rs.client(t)
	ok, _, err := NewJournal(rdb, "ads", MinReplicas(1, 100*time.Millisecond)).Claim(ctx, adClaim("a"))
	require.ErrorIs(t, err, ErrNotReplicated)
	assert.False(t, ok)
	n, err := rdb.HLen(ctx, subKey("autocall:journal:ads", "advertising")).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the unacknowledged claim left the index")

	j := NewJournal(rdb, "ads")
	rec, found, err := j.Get(ctx, "a")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, batch.Unsent, rec.State)
	ok, _, err = j.Claim(ctx, adClaim("b"))
	require.NoError(t, err)
	assert.True(t, ok, "the number is not held by a call that was never made")
}
