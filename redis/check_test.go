package autocallredis

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// The first case: a cache's eviction policy evicted the journal
// and a re-run phoned everyone again. Now the run refuses to start, naming
// the setting, the fix and the opt-out.
func TestCheckRefusesAllkeysLRU(t *testing.T) {
	rs := startRedisWith(t, t.TempDir(), 0, "--maxmemory-policy", "allkeys-lru")
	rdb := rs.client(t)
	_, calls, err := runOn(t, NewJournal(rdb, "lru"))
	require.Error(t, err)
	assert.Zero(t, calls, "nothing sent")
	assert.ErrorIs(t, err, ErrEvictable)
	assert.NotErrorIs(t, err, ErrNotDurable)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "maxmemory-policy", ce.Setting)
	assert.Equal(t, "allkeys-lru", ce.Value)
	assert.Equal(t, rs.addr(), ce.Addr)
	for _, want := range []string{"maxmemory-policy allkeys-lru", "noeviction", "AcceptDoubleCallsOnEviction()"} {
		assert.Contains(t, err.Error(), want)
	}
	n, err := rdb.HLen(ctx, "autocall:journal:lru").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "nothing claimed")
}

// The second case: a Redis without AOF lost claims in a restart.
func TestCheckRefusesNoAOF(t *testing.T) {
	rs := startRedisWith(t, t.TempDir(), 0, "--appendonly", "no")
	_, calls, err := runOn(t, NewJournal(rs.client(t), "noaof"))
	require.Error(t, err)
	assert.Zero(t, calls)
	assert.ErrorIs(t, err, ErrNotDurable)
	assert.NotErrorIs(t, err, ErrEvictable)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "appendonly", ce.Setting)
	for _, want := range []string{"appendonly no", "appendfsync always", "AcceptDoubleCallsOnCrash()"} {
		assert.Contains(t, err.Error(), want)
	}
}

// AOF on, but an fsync a second: a crash of the host loses the last second.
func TestCheckRefusesEverysec(t *testing.T) {
	rs := startRedisWith(t, t.TempDir(), 0, "--appendfsync", "everysec")
	err := NewJournal(rs.client(t), "everysec").Check(ctx)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, ErrNotDurable)
	assert.Equal(t, "appendfsync", ce.Setting)
	assert.Equal(t, "everysec", ce.Value)
	assert.Contains(t, err.Error(), "set appendfsync always")
}

// Both risks at once are both reported; each opt-out lifts only its own.
func TestCheckOptOutRuns(t *testing.T) {
	rs := startRedisWith(t, t.TempDir(), 0, "--maxmemory-policy", "allkeys-lru", "--appendonly", "no")
	rdb := rs.client(t)
	err := NewJournal(rdb, "both").Check(ctx)
	assert.ErrorIs(t, err, ErrEvictable)
	assert.ErrorIs(t, err, ErrNotDurable)
	err = NewJournal(rdb, "both", AcceptDoubleCallsOnEviction()).Check(ctx)
	assert.NotErrorIs(t, err, ErrEvictable)
	assert.ErrorIs(t, err, ErrNotDurable)

	rep, calls, err := runOn(t, NewJournal(rdb, "both", AcceptDoubleCallsOnEviction(), AcceptDoubleCallsOnCrash()))
	require.NoError(t, err)
	assert.Equal(t, 20, rep.Placed)
	assert.Equal(t, 20, calls)
}

// CONFIG renamed away, as managed services do: the error says so and asks
// for the opt-out; what INFO tells is still checked.
func TestCheckConfigForbidden(t *testing.T) {
	rs := startRedisWith(t, t.TempDir(), 0, "--rename-command", "CONFIG", "")
	rdb := rs.client(t)
	_, calls, err := runOn(t, NewJournal(rdb, "managed"))
	require.Error(t, err)
	assert.Zero(t, calls)
	assert.ErrorIs(t, err, ErrNotDurable, "appendfsync cannot be read")
	assert.NotErrorIs(t, err, ErrEvictable, "INFO says noeviction")
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "appendfsync", ce.Setting)
	assert.Empty(t, ce.Value)
	assert.Contains(t, err.Error(), "does not let CONFIG GET read appendfsync (renamed or forbidden")
	assert.Contains(t, err.Error(), "AcceptDoubleCallsOnCrash()")

	rep, _, err := runOn(t, NewJournal(rdb, "managed", AcceptDoubleCallsOnCrash()))
	require.NoError(t, err)
	assert.Equal(t, 20, rep.Placed)

	// INFO still tells the eviction policy and that AOF is off.
	rs2 := startRedisWith(t, t.TempDir(), 0, "--rename-command", "CONFIG", "", "--maxmemory-policy", "allkeys-random", "--appendonly", "no")
	err = NewJournal(rs2.client(t), "managed").Check(ctx)
	var evict, crash *ConfigError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		require.ErrorAs(t, e, &ce)
		if errors.Is(e, ErrEvictable) {
			evict = ce
		} else {
			crash = ce
		}
	}
	require.NotNil(t, evict)
	require.NotNil(t, crash)
	assert.Equal(t, "allkeys-random", evict.Value)
	assert.Equal(t, "appendonly", crash.Setting)
	assert.Equal(t, "no", crash.Value)
}

// A check that failed for want of Redis is tried again by the next claim.
func TestCheckRetriedAfterOutage(t *testing.T) {
	dir := t.TempDir()
	rs := startRedis(t, dir, 0)
	rdb := rs.client(t)
	j := NewJournal(rdb, "outage")
	rs.stop()
	_, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k"}, Resend: batch.Resend{}})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrEvictable)
	startRedis(t, dir, rs.port)
	ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k"}, Resend: batch.Resend{}})
	require.NoError(t, err)
	assert.True(t, ok)
}

// The token source only warns, through its logger, and never with the
// credential.
func TestTokenSourceWarnsOfEviction(t *testing.T) {
	rs := startRedisWith(t, t.TempDir(), 0, "--maxmemory-policy", "allkeys-lru", "--appendonly", "no")
	p := newTokenProvider(t, 0, false)
	fetch, err := autocall.NewTokenFetcher(p.URL, autocall.WithSecretKey(testSecret))
	require.NoError(t, err)
	var logs bytes.Buffer
	ts := NewTokenSource(rs.client(t), fetch, testSecret)
	ts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok.Value)
	_, err = ts.Token(ctx)
	require.NoError(t, err)
	out := logs.String()
	assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("level=WARN")), out)
	assert.Contains(t, out, "maxmemory-policy=allkeys-lru")
	assert.NotContains(t, out, "appendonly", "a token needs no persistence")
	assert.NotContains(t, out, testSecret)
	assert.NotContains(t, out, "tok-1")

	safe := startRedis(t, t.TempDir(), 0)
	logs.Reset()
	ts = NewTokenSource(safe.client(t), fetch, testSecret)
	ts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	_, err = ts.Token(ctx)
	require.NoError(t, err)
	assert.Empty(t, logs.String())
}

// CONFIG and INFO both renamed away: nothing can be read, so both risks
// are named, each asking for its opt-out, and the opt-outs together run.
func TestCheckNothingReadable(t *testing.T) {
	rs := startRedisWith(t, t.TempDir(), 0, "--rename-command", "CONFIG", "", "--rename-command", "INFO", "")
	rdb := rs.client(t)
	err := NewJournal(rdb, "blind").Check(ctx)
	require.ErrorIs(t, err, ErrEvictable, "the eviction policy cannot be read")
	require.ErrorIs(t, err, ErrNotDurable, "the persistence cannot be read")
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "maxmemory-policy", ce.Setting)
	assert.Empty(t, ce.Value)
	assert.Error(t, ce.Cause, "why it could not be read")
	assert.Contains(t, err.Error(), "does not let CONFIG GET read maxmemory-policy")
	assert.Contains(t, err.Error(), "AcceptDoubleCallsOnEviction()")
	assert.Contains(t, err.Error(), "AcceptDoubleCallsOnCrash()")

	require.ErrorIs(t, NewJournal(rdb, "blind", AcceptDoubleCallsOnCrash()).Check(ctx), ErrEvictable)
	assert.NoError(t, NewJournal(rdb, "blind", AcceptDoubleCallsOnCrash(), AcceptDoubleCallsOnEviction()).Check(ctx))
}
