package autocallredis

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/batch/journaltest"
)

// Issue #25.2: every key of a journal is under "autocall:", so a user whose
// keys are limited to those runs it (every command allowed, INFO and CONFIG
// GET for the configuration check and CLUSTER SLOTS for a cluster client
// among them: the limit tested is the keys').
const aclUser, aclPass = "journal", "s3cret-for-tests"

func limitUser(t *testing.T, c *redis.Client) {
	t.Helper()
	require.NoError(t, c.Do(ctx, "ACL", "SETUSER", aclUser, "reset", "on", ">"+aclPass,
		"~autocall:*", "resetchannels", "+@all").Err())
}

// A limited user runs advertising jobs (claim, index, lease, settle,
// resolve, expiry) on a single server; a key outside the namespace is
// refused to it, so the test proves the limit holds.
func TestLimitedACLUserSingleServer(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	limitUser(t, rs.client(t))
	rdb := redis.NewClient(&redis.Options{Addr: rs.addr(), Username: aclUser, Password: aclPass})
	t.Cleanup(func() { rdb.Close() })
	require.ErrorContains(t, rdb.Set(ctx, "elsewhere", "1", 0).Err(), "NOPERM")
	limitedRun(t, rdb)
}

// limitedRun runs advertising jobs through a journal on rdb twice, and
// resolves and expires it.
func limitedRun(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	vn := time.FixedZone("ICT", 7*3600)
	sb := autocalltest.NewServer(autocalltest.WithStartTime(time.Date(2026, 12, 1, 10, 0, 0, 0, vn)))
	t.Cleanup(sb.Close)
	c, err := autocall.NewClient(sb.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	j := NewJournal(rdb, "limited")
	r := &batch.Runner{TEL4VN: c, Journal: j, Now: sb.Now}
	rep, err := r.Run(ctx, adJobs("a", 4, 2))
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Placed, "one call per number")
	assert.Len(t, rep.Deferred, 2)
	ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "u", Kind: "otp"}})
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, j.Settle(ctx, batch.Record{Key: "u", State: batch.Unknown}))
	require.NoError(t, batch.Resolve(ctx, j, "u", batch.Unsent))
	require.NoError(t, j.Expire(ctx, time.Hour))
	rep, err = r.Run(ctx, adJobs("a", 4, 2))
	require.NoError(t, err, "the run after Expire takes the expiry off, within the namespace")
	assert.Equal(t, 2, rep.AlreadyPlaced)
}

// The same on a cluster of three primaries: every key of a journal in one
// slot, the lease keys the scripts read included; and the conformance
// suite through the limited user.
func TestLimitedACLUserCluster(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-cli is not installed: .ci/run installs redis-server, which brings it")
		}
		t.Skip("redis-cli is not installed")
	}
	var addrs []string
	for i := 0; i < 3; i++ {
		dir := t.TempDir()
		rs := startRedisWith(t, dir, 0, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"))
		limitUser(t, rs.client(t))
		addrs = append(addrs, rs.addr())
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	// Each node learns by gossip that every slot is served, at its own
	// time, and answers CLUSTERDOWN until then: wait for all three, not
	// only the first (a key in another node's slot failed now and then).
	for _, addr := range addrs {
		admin := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { admin.Close() })
		require.Eventually(t, func() bool {
			info, err := admin.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		}, 20*time.Second, 50*time.Millisecond, "node %s", addr)
	}

	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Username: aclUser, Password: aclPass})
	t.Cleanup(func() { rdb.Close() })
	require.Eventually(t, func() bool { return rdb.Set(ctx, "autocall:probe", "1", time.Second).Err() == nil },
		20*time.Second, 50*time.Millisecond, "the cluster serves every slot")
	limitedRun(t, rdb)

	var n atomic.Int64
	again := func(t *testing.T, j batch.Journal) batch.Journal {
		return NewJournal(rdb, strings.TrimPrefix(j.(*Journal).hash, "autocall:journal:"))
	}
	journaltest.Run(t, func(*testing.T) batch.Journal { return NewJournal(rdb, fmt.Sprintf("cluster-%d", n.Add(1))) },
		journaltest.Reopen(again), journaltest.Peer(again), journaltest.Retention(
			func(t *testing.T, r batch.Retention, now func() time.Time) (batch.Journal, func(batch.Journal) batch.Journal) {
				name := fmt.Sprintf("cluster-retention-%d", n.Add(1))
				opts := []JournalOption{WithRetention(r), WithClock(now)}
				return NewJournal(rdb, name, opts...), func(batch.Journal) batch.Journal { return NewJournal(rdb, name, opts...) }
			}))
}

// An index an older version kept outside the namespace is merged into the
// new key by the first claim, and still holds its numbers.
func TestOldAdvertisingIndexMoved(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	rdb := rs.client(t)
	old := "{autocall:journal:moved}:advertising"
	at := time.Now().Add(-time.Hour).UnixMilli()
	require.NoError(t, rdb.HSet(ctx, old, "0987654321", fmt.Sprintf(`{"before":%d}`, at)).Err())
	j := NewJournal(rdb, "moved")
	ok, cur, err := j.Claim(ctx, adClaim("a"))
	require.NoError(t, err)
	assert.False(t, ok, "the old index's call holds the number")
	assert.Equal(t, batch.CauseFrequency, cur.Cause)
	assert.Zero(t, rdb.Exists(ctx, old).Val(), "the old key is gone")
	raw, err := rdb.HGet(ctx, "autocall:{autocall:journal:moved}:advertising", "0987654321").Result()
	require.NoError(t, err)
	assert.Contains(t, raw, fmt.Sprintf(`"before":%d`, at))
}

// An older version left a job unknown, with its call in the old index.
// Resolved unsent (it placed nothing) before this version's first claim,
// the number is free: the old index's entry is moved before the
// resolution drops it, not merged back afterwards by the first claim.
func TestOldAdvertisingIndexMovedBeforeResolve(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	rdb := rs.client(t)
	at := time.Now().Add(-time.Hour)
	rec := fmt.Sprintf(`{"key":"old","state":"unknown","time":%q,"kind":"otp","phones":["0987654321"],"purpose":"advertising"}`,
		at.Format(time.RFC3339Nano))
	require.NoError(t, rdb.HSet(ctx, "autocall:journal:upgraded", "old", rec).Err())
	require.NoError(t, rdb.HSet(ctx, "{autocall:journal:upgraded}:advertising", "0987654321", fmt.Sprintf(`{"old":%d}`, at.UnixMilli())).Err())

	// `autocall journal resolve` on a fresh handle: no claim yet.
	require.NoError(t, batch.Resolve(ctx, NewJournal(rdb, "upgraded"), "old", batch.Unsent))
	ok, cur, err := NewJournal(rdb, "upgraded").Claim(ctx, adClaim("new"))
	require.NoError(t, err)
	assert.True(t, ok, "resolved unsent, the old job still holds the number: %+v", cur)
}
