package autocallriver

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch/journaltest"
)

// The journal's claim and settle of one job (two transactions).
func BenchmarkJournalClaimSettle(b *testing.B) {
	pool, _ := newPool(b)
	journaltest.BenchClaimSettle(b, newJournal(b, pool))
}

// benchPool is the pool a worker of 16 places and as many fetched ahead
// wants (PoolConns: 36 connections; pgxpool's default, 4 on this 2-core
// machine, made every claim wait for a connection).
func benchPool(b *testing.B) *pgxpool.Pool {
	_, url := newPool(b)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return poolOn(b, url+sep+"pool_max_conns="+strconv.Itoa(int(PoolConns(16, &Worker{Prefetch: benchPrefetch()}))))
}

// slowSandbox is the sandbox answering each create after latency (the
// provider's time, in the sandbox itself: no extra hop).
func slowSandbox(b *testing.B, latency time.Duration) *autocalltest.Server {
	srv := autocalltest.NewServer()
	b.Cleanup(srv.Close)
	if latency > 0 {
		srv.FailNext("/api/v2/campaigns/*", b.N+1000, autocalltest.Fault{Delay: latency, Process: true})
	}
	return srv
}

// workJobs inserts n jobs, starts client, and times until River has none left.
func workJobs(b *testing.B, pool *pgxpool.Pool, client *river.Client[pgx.Tx], n int, args func(i int) river.JobArgs) (rate, steady float64) {
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: args(i)}
	}
	if _, err := client.InsertMany(ctx, params); err != nil {
		b.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer client.Stop(context.Background())
	// Polled every 20 ms with one cheap query: the poll is the
	// benchmark's, not the worker's, and must not load the database.
	for {
		var left bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM river_job
			WHERE state IN ('available', 'running', 'retryable', 'scheduled'))`).Scan(&left); err != nil {
			b.Fatal(err)
		}
		if !left {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The rate is River's rows': from the first job's start to the last
	// one's end, the client's start-up and this poll left out.
	var first, last, t10, t90 time.Time
	if err := pool.QueryRow(ctx, `SELECT min(attempted_at), max(finalized_at),
		percentile_disc(0.1) WITHIN GROUP (ORDER BY finalized_at),
		percentile_disc(0.9) WITHIN GROUP (ORDER BY finalized_at) FROM river_job`).Scan(&first, &last, &t10, &t90); err != nil {
		b.Fatal(err)
	}
	// A job River tried again (an error, a snooze) stretches the run by
	// its backoff: say how many, and the errors, so a slow run is explained.
	var retried int
	var errs []string
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE attempt > 1),
		coalesce(array_agg(DISTINCT e->>'error') FILTER (WHERE e IS NOT NULL), '{}')
		FROM river_job LEFT JOIN LATERAL unnest(errors) e ON true`).Scan(&retried, &errs); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(retried), "retried")
	for _, e := range errs {
		b.Logf("a job's error: %s", e)
	}
	// The steady rate, a long-running worker's: the middle 80 % of the
	// jobs by their end, the ramp and the last few left out.
	return float64(n) / last.Sub(first).Seconds(), 0.8 * float64(n) / t90.Sub(t10).Seconds()
}

func benchWorker(b *testing.B, latency time.Duration) {
	srv := slowSandbox(b, latency)
	pool := benchPool(b)
	r := &replica{pool: pool, j: newJournal(b, pool)}
	r.w = &Worker{Journal: r.j, TEL4VN: fastClient(b, srv.URL), Limiter: NewLimiter(pool, "", 0, 1), Prefetch: benchPrefetch()}
	client, err := NewClient(pool, r.w, 16, &river.Config{FetchCooldown: benchCooldown(), Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	rate, steady := workJobs(b, pool, client, b.N, func(i int) river.JobArgs { return otpArgs(i) })
	reportRate(b, rate, steady, latency)
	_ = r.w.Close(ctx)
}

// reportRate reports the jobs a second and, with a latency, the share of
// the ceiling of 16 workers (16/latency a second).
func reportRate(b *testing.B, rate, steady float64, latency time.Duration) {
	b.ReportMetric(rate, "jobs/s")
	if latency > 0 {
		ceiling := 16 / latency.Seconds()
		b.ReportMetric(100*rate/ceiling, "%ceiling")
		b.ReportMetric(100*steady/ceiling, "%steady")
	}
}

// 16 workers, 50 ms provider latency: the ceiling is 16/0.05 = 320 jobs/s.
func BenchmarkWorker16At50ms(b *testing.B) { benchWorker(b, 50*time.Millisecond) }

// Per-job cost with an instant provider (the sandbox in process).
func BenchmarkWorkerAt0ms(b *testing.B) { benchWorker(b, 0) }

type nopArgs struct {
	N int `json:"n"`
}

func (nopArgs) Kind() string { return "nop" }

// A bare River worker that does nothing, beside BenchmarkWorkerAt0ms.
func BenchmarkBareRiverNop(b *testing.B) {
	pool := benchPool(b)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[nopArgs]) error { return nil }))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers, FetchCooldown: benchCooldown(),
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 16}}, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	rate, steady := workJobs(b, pool, client, b.N, func(i int) river.JobArgs { return nopArgs{N: i} })
	reportRate(b, rate, steady, 0)
}

type sleepArgs struct {
	N int `json:"n"`
}

func (sleepArgs) Kind() string { return "sleep" }

// A bare River worker that only sleeps 50 ms, 16 at once: River's own
// share of BenchmarkWorker16At50ms's gap to the ceiling.
func BenchmarkBareRiver16At50ms(b *testing.B) {
	pool := benchPool(b)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[sleepArgs]) error {
		time.Sleep(50 * time.Millisecond)
		return nil
	}))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers, FetchCooldown: benchCooldown(),
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 16}}, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	rate, steady := workJobs(b, pool, client, b.N, func(i int) river.JobArgs { return sleepArgs{N: i} })
	reportRate(b, rate, steady, 50*time.Millisecond)
}

// benchCooldown is River's FetchCooldown in the benchmarks: 10 ms, or
// BENCH_COOLDOWN (River fetches at most once per cooldown, so 16 workers
// take at most 16 jobs per cooldown plus a fetch).
func benchCooldown() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("BENCH_COOLDOWN")); err == nil {
		return d
	}
	return 10 * time.Millisecond
}

// benchPrefetch is Worker.Prefetch in the benchmarks: 0 (as many as the
// workers), or BENCH_PREFETCH (-1: none, River's 16 slots alone).
func benchPrefetch() int {
	n, _ := strconv.Atoi(os.Getenv("BENCH_PREFETCH"))
	return n
}
