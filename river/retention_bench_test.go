package autocallriver

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autocallvn/autocall-go/batch"
)

// benchRecords is how many records the compaction benchmarks seed
// (AUTOCALL_BENCH_RECORDS, default 1,000,000).
func benchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("AUTOCALL_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// seedDays fills the journal with n placed records as a run writes them
// (one phone, one call id), spread evenly over 100 days to now: with the
// default 30-day retention, 70 % are past it.
func seedDays(b *testing.B, pool *pgxpool.Pool, n int, now time.Time) {
	b.Helper()
	step := int64(100*day) / int64(n)
	_, err := pool.Exec(ctx, `INSERT INTO autocall_job (key, state, time_ns, claimed_ns, kind, campaign, phones, call_ids, run)
		SELECT 'order-' || i, 'placed', $1::bigint + i * $2::bigint, $1::bigint + i * $2::bigint, 'otp', 'campaign', ARRAY['09' || lpad(i::text, 8, '0')],
			ARRAY['call-' || i], 'run-' || (i / 10000)
		FROM generate_series(0, $3::int - 1) AS i`, now.Add(-100*day).UnixNano(), step, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE autocall_job`); err != nil {
		b.Fatal(err)
	}
}

func tableMiB(b *testing.B, pool *pgxpool.Pool, table string) float64 {
	var n int64
	if err := pool.QueryRow(ctx, `SELECT pg_total_relation_size($1)`, table).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return float64(n) / (1 << 20)
}

// Compact on a journal of benchRecords records (100 days of a daily cron,
// 30-day retention): 70 % forgotten. Claims go on during it, one at a
// time from another pool; their slowest and 99th percentile are reported
// (no statement locks the table for long). Then a second Compact, with
// nothing to drop: the hourly cost of the worker's --compact-every.
//
//	go test -run XXX -bench Compact -benchtime 1x -count 1 .
func BenchmarkCompact(b *testing.B) {
	n := benchRecords()
	for range b.N {
		b.StopTimer()
		pool, url := newPool(b)
		now := time.Now()
		seedDays(b, pool, n, now)
		before := tableMiB(b, pool, "autocall_job")
		j := newJournal(b, pool, WithClock(func() time.Time { return now }))
		claimer := newJournal(b, poolOn(b, url))
		stop := make(chan struct{})
		var lat []time.Duration
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				ok, _, err := claimer.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: fmt.Sprintf("new-%d", i), Kind: "otp", Phones: []string{"0987654321"}}})
				if err != nil || !ok {
					b.Error(ok, err)
					return
				}
				lat = append(lat, time.Since(t0))
			}
		}()
		b.StartTimer()
		t0 := time.Now()
		res, err := j.Compact(ctx)
		first := time.Since(t0)
		b.StopTimer()
		close(stop)
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		again, err := j.Compact(ctx)
		second := time.Since(t1)
		if err != nil || again.Forgotten != 0 {
			b.Fatal(again, err)
		}
		if _, err := pool.Exec(ctx, `VACUUM FULL autocall_job`); err != nil {
			b.Fatal(err)
		}
		slices.Sort(lat)
		b.ReportMetric(first.Seconds(), "s/compact")
		b.ReportMetric(second.Seconds(), "s/compact-again")
		b.ReportMetric(float64(res.Forgotten), "forgotten")
		b.ReportMetric(float64(res.Kept), "kept")
		b.ReportMetric(before, "MiB-before")
		b.ReportMetric(tableMiB(b, pool, "autocall_job"), "MiB-after-vacuum-full")
		b.ReportMetric(tableMiB(b, pool, "autocall_forgotten"), "MiB-tombstones")
		if len(lat) > 0 {
			b.ReportMetric(float64(len(lat)), "claims-during")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-claim-p99")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms-claim-max")
		}
		b.StartTimer()
	}
}

// The upgrade to migration 2 on a database of benchRecords records made
// at version 1: the index it builds on autocall_job.
func BenchmarkMigrateRetention(b *testing.B) {
	n := benchRecords()
	for range b.N {
		b.StopTimer()
		pool := poolOn(b, pg.DB(b))
		for _, q := range []string{`CREATE TABLE autocall_schema (version int NOT NULL)`, migrations[1], `INSERT INTO autocall_schema VALUES (1)`} {
			if _, err := pool.Exec(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		seedDays(b, pool, n, time.Now())
		b.StartTimer()
		if err := Migrate(ctx, pool); err != nil {
			b.Fatal(err)
		}
	}
}
