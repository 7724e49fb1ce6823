package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocallredis "github.com/autocallvn/autocall-go/redis"
)

// redisState is every key of the Redis db with its value and whether it
// expires: what a read-only command must leave as it found it.
func redisState(t *testing.T, rdb *goredis.Client) string {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v, err := rdb.Dump(ctx, k).Result()
		require.NoError(t, err)
		ttl, err := rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		fmt.Fprintf(&b, "%s expires=%v %q\n", k, ttl > 0, v)
	}
	return b.String()
}

// pgState is every row of the journal's tables.
func pgState(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var b strings.Builder
	for _, table := range []string{"autocall_job", "autocall_adcall", "autocall_lease"} {
		rows, err := conn.Query(ctx, "SELECT t::text FROM "+table+" t ORDER BY 1")
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			fmt.Fprintf(&b, "%s %s\n", table, s)
		}
		require.NoError(t, rows.Err())
	}
	return b.String()
}

// --dry-run and journal show only read a shared journal: a Redis journal
// an operator set to expire (Expire, once the batch is over) keeps its
// expiry, and nothing of either journal changes.
func TestDryRunAndShowLeaveASharedJournalAlone(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		spec := startRedisJournal(t)
		srv := sandbox(t)
		csv := writeFile(t, "pending.csv", "key,phone,code\nd-1,0912300421,1\n")
		r := run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", spec)...)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)

		opt, err := goredis.ParseURL(strings.Split(spec, "?")[0])
		require.NoError(t, err)
		rdb := goredis.NewClient(opt)
		defer rdb.Close()
		name := spec[strings.Index(spec, "journal=")+len("journal="):]
		require.NoError(t, autocallredis.NewJournal(rdb, name).Expire(context.Background(), time.Hour))
		before := redisState(t, rdb)
		require.Contains(t, before, "expires=true")

		csv2 := writeFile(t, "more.csv", "key,phone,code\nd-1,0912300421,1\nd-2,0912300422,2\n")
		r = run(t, tel4vnEnv(srv), otpCSV(csv2, "--dry-run", "--journal", spec)...)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.Contains(t, r.stdout, "1 rows would be sent")
		r = run(t, nil, "journal", "show", spec)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.Equal(t, before, redisState(t, rdb), "a dry run and journal show wrote to the journal")
		assert.Len(t, srv.Calls(), 1)
	})
	t.Run("postgres", func(t *testing.T) {
		spec := startPostgresJournal(t)
		srv := sandbox(t)
		csv := writeFile(t, "pending.csv", "key,phone,code\nd-1,0912300421,1\n")
		r := run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", spec)...)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		before := pgState(t, spec)
		csv2 := writeFile(t, "more.csv", "key,phone,code\nd-1,0912300421,1\nd-2,0912300422,2\n")
		r = run(t, tel4vnEnv(srv), otpCSV(csv2, "--dry-run", "--journal", spec)...)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.Contains(t, r.stdout, "1 rows would be sent")
		r = run(t, nil, "journal", "show", spec)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		assert.Equal(t, before, pgState(t, spec))
		assert.Len(t, srv.Calls(), 1)
	})
}
