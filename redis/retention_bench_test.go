package autocallredis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

// BenchmarkRetentionSteadyMemory: Redis's used_memory for a journal at the
// steady state of a daily 10,000-row cron kept 30 days (BENCHMARKS.md):
// 300,000 records (claim then placed: one phone, one call id) and a
// year's tombstones, 3,350,000 keys, written directly in the layout the
// sweep leaves; then one full Compact pass over it.
//
//	go test -run '^$' -bench RetentionSteadyMemory -benchtime 1x ./redis
func BenchmarkRetentionSteadyMemory(b *testing.B) {
	rs := startRedis(b, b.TempDir(), 0)
	rdb := rs.client(b)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	j := NewJournal(rdb, "steady", AcceptDoubleCallsOnCrash(), WithClock(func() time.Time { return now }))
	used := func() float64 {
		info, err := rdb.Info(ctx, "memory").Result()
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
				n, _ := strconv.ParseFloat(v, 64)
				return n / (1 << 20)
			}
		}
		b.Fatal("no used_memory")
		return 0
	}
	empty := used()
	pipe := rdb.Pipeline()
	for d := 0; d < 30; d++ {
		at := now.Add(-time.Duration(d) * 24 * time.Hour)
		for i := range 10000 {
			key := fmt.Sprintf("d%03d-row-%05d", d, i)
			phone := fmt.Sprintf("09%08d", d*10000+i)
			rec := batch.Record{Key: key, State: batch.Placed, Time: at, Kind: "otp", Campaign: "1", Phones: []string{phone},
				CallIDs: []string{"1_2_3_4_u_84" + phone[1:]}, ClaimedAt: at, Run: "20260101T090000Z-0123456789abcdef"}
			line, _ := json.Marshal(rec)
			pipe.HSet(ctx, j.hash, key, line)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	records := used() - empty
	buckets := map[string][]byte{}
	for d := 30; d < 365; d++ {
		day := dayOf(now.Add(-time.Duration(d) * 24 * time.Hour))
		for i := range 10000 {
			bucket, e := tombstone(fmt.Sprintf("d%03d-row-%05d", d, i), day)
			buckets[bucket] = append(buckets[bucket], e...)
		}
	}
	for k, v := range buckets {
		pipe.HSet(ctx, j.tombs, k, v)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	tombs := used() - empty - records
	var took time.Duration
	for b.Loop() {
		start := time.Now()
		c, err := j.Compact(ctx)
		if err != nil {
			b.Fatal(err)
		}
		took = time.Since(start)
		if c.Kept != 300000 || c.Tombstones != 3350000 {
			b.Fatalf("Compact = %+v", c)
		}
	}
	ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "d200-row-00042", Kind: "otp", Time: now}})
	if err != nil || ok || !batch.IsForgotten(cur) {
		b.Fatalf("a key of day 200 = %v, %+v, %v; want forgotten", ok, cur, err)
	}
	b.ReportMetric(records, "records-MiB")
	b.ReportMetric(tombs, "tombstones-MiB")
	b.ReportMetric(took.Seconds(), "compact-s")
}
