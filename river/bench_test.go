package autocallriver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
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

// slowProxy puts latency in front of the sandbox's creates.
func slowProxy(b *testing.B, srv *autocalltest.Server, latency time.Duration) string {
	u, _ := url.Parse(srv.URL)
	p := httputil.NewSingleHostReverseProxy(u)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/campaigns/") {
			time.Sleep(latency)
		}
		p.ServeHTTP(w, r)
	}))
	b.Cleanup(ts.Close)
	return ts.URL
}

// workJobs inserts n jobs, starts client, and times until River has none left.
func workJobs(b *testing.B, pool *pgxpool.Pool, client *river.Client[pgx.Tx], n int, args func(i int) river.JobArgs) time.Duration {
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: args(i)}
	}
	if _, err := client.InsertMany(ctx, params); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer client.Stop(context.Background())
	for {
		res, err := client.JobList(ctx, river.NewJobListParams().States("available", "running", "retryable").First(1))
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			total := time.Since(start)
			// From the first job's start to the last one's end, by River's
			// rows: the client's start-up left out.
			var first, last time.Time
			if err := pool.QueryRow(ctx, `SELECT min(attempted_at), max(finalized_at) FROM river_job`).Scan(&first, &last); err == nil {
				b.ReportMetric(last.Sub(first).Seconds(), "s-working")
			}
			return total
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func benchWorker(b *testing.B, latency time.Duration) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, _ := newPool(b)
	r := &replica{pool: pool, j: newJournal(b, pool)}
	base := srv.URL
	if latency > 0 {
		base = slowProxy(b, srv, latency)
	}
	r.w = &Worker{Journal: r.j, TEL4VN: fastClient(b, base), Limiter: NewLimiter(pool, "", 0, 1)}
	client, err := NewClient(pool, r.w, 16, &river.Config{FetchCooldown: benchCooldown(), Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	d := workJobs(b, pool, client, b.N, func(i int) river.JobArgs { return otpArgs(i) })
	b.ReportMetric(float64(b.N)/d.Seconds(), "jobs/s")
	if latency > 0 {
		ceiling := 16 / latency.Seconds()
		b.ReportMetric(100*float64(b.N)/d.Seconds()/ceiling, "%ceiling")
	}
	_ = r.w.Close(ctx)
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
	pool, _ := newPool(b)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[nopArgs]) error { return nil }))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers, FetchCooldown: benchCooldown(),
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 16}}, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	d := workJobs(b, pool, client, b.N, func(i int) river.JobArgs { return nopArgs{N: i} })
	b.ReportMetric(float64(b.N)/d.Seconds(), "jobs/s")
}

type sleepArgs struct {
	N int `json:"n"`
}

func (sleepArgs) Kind() string { return "sleep" }

// A bare River worker that only sleeps 50 ms, 16 at once: River's own
// share of BenchmarkWorker16At50ms's gap to the ceiling.
func BenchmarkBareRiver16At50ms(b *testing.B) {
	pool, _ := newPool(b)
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
	d := workJobs(b, pool, client, b.N, func(i int) river.JobArgs { return sleepArgs{N: i} })
	b.ReportMetric(float64(b.N)/d.Seconds(), "jobs/s")
	b.ReportMetric(100*float64(b.N)/d.Seconds()/(16/0.05), "%ceiling")
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
