package autocallriver

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

// quickConfig is River's configuration for a test's worker: fetches and
// polls often, so that a test waits for its jobs, not for River.
func quickConfig() *river.Config {
	return &river.Config{FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond, Logger: testLogger()}
}

// startWorking inserts args, then starts a River client of w (maxWorkers,
// cfg), stopped with w at the test's end.
func startWorking(t *testing.T, pool *pgxpool.Pool, w *Worker, maxWorkers int, cfg *river.Config, args ...river.JobArgs) *river.Client[pgx.Tx] {
	t.Helper()
	client, err := NewClient(pool, w, maxWorkers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range args {
		insertOrder(t, client, pool, a, true)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(ctx); _ = w.Close(ctx) })
	return client
}

// inFlight counts the creates under way at once, from the client's side.
type inFlight struct {
	autocall.Observer
	now, most atomic.Int32
}

func (o *inFlight) StartCall(ctx context.Context, op autocall.Operation) context.Context {
	if op.Name == "OTP.Send" {
		n := o.now.Add(1)
		for m := o.most.Load(); n > m && !o.most.CompareAndSwap(m, n); m = o.most.Load() {
		}
	}
	return ctx
}

func (o *inFlight) EndCall(_ context.Context, op autocall.Operation, _ autocall.CallEnd) {
	if op.Name == "OTP.Send" {
		o.now.Add(-1)
	}
}
func (o *inFlight) Attempt(context.Context, autocall.Operation, autocall.Attempt)   {}
func (o *inFlight) TokenFetch(context.Context, autocall.TokenFetch)                 {}
func (o *inFlight) RateLimited(context.Context, autocall.Operation, autocall.Pause) {}

// placesWorker starts a worker of 3 places and prefetch on a sandbox whose
// creates take delay; it returns the worker's client and the counter.
func placesWorker(t *testing.T, prefetch int, delay time.Duration, jobs int) (*river.Client[pgx.Tx], *Worker, *inFlight, *autocalltest.Server, func() int) {
	t.Helper()
	srv := autocalltest.NewServer()
	t.Cleanup(srv.Close)
	srv.FailNext("/api/v2/campaigns/*", jobs, autocalltest.Fault{Delay: delay, Process: true})
	pool, _ := newPool(t)
	o := &inFlight{}
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey), autocall.WithObserver(o))
	if err != nil {
		t.Fatal(err)
	}
	w := &Worker{Journal: newJournal(t, pool), TEL4VN: c, Prefetch: prefetch}
	client, err := NewClient(pool, w, 3, quickConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < jobs; i++ {
		insertOrder(t, client, pool, otpArgs(i), true)
	}
	running := func() (n int) {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return client, w, o, srv, running
}

// NewClient's places: River holds maxWorkers + Prefetch jobs, and no more
// than maxWorkers creates are under way at once.
func TestPlacesBoundTheCreatesInFlight(t *testing.T) {
	for _, tc := range []struct {
		prefetch, river int
	}{{0, 6}, {2, 5}, {-1, 3}} {
		client, w, o, srv, running := placesWorker(t, tc.prefetch, 150*time.Millisecond, 12)
		if err := client.Start(ctx); err != nil {
			t.Fatal(err)
		}
		most := 0
		deadline := time.Now().Add(30 * time.Second)
		for len(srv.Calls()) < 12 && time.Now().Before(deadline) {
			most = max(most, running())
			time.Sleep(10 * time.Millisecond)
		}
		if err := client.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		_ = w.Close(ctx)
		if n := len(srv.Calls()); n != 12 {
			t.Fatalf("prefetch %d: %d calls, want 12", tc.prefetch, n)
		}
		if m := o.most.Load(); m != 3 {
			t.Errorf("prefetch %d: %d creates at once at most, want 3 (the places, all used)", tc.prefetch, m)
		}
		if most != tc.river {
			t.Errorf("prefetch %d: River ran %d jobs at once at most, want %d", tc.prefetch, most, tc.river)
		}
	}
}

// A job fetched ahead that is still waiting for a place when the worker
// is cancelled sends nothing and claims nothing: River works it later.
func TestWaitingForAPlaceCancelledSendsNothing(t *testing.T) {
	client, w, o, srv, running := placesWorker(t, 0, 2*time.Second, 6)
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for (running() < 6 || o.now.Load() < 3) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if r, n := running(), o.now.Load(); r != 6 || n != 3 {
		t.Fatalf("%d jobs running, %d creates under way: want 6 and 3", r, n)
	}
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = client.StopAndCancel(stop)
	_ = w.Close(ctx)
	var recs int
	if err := w.Journal.pool.QueryRow(ctx, `SELECT count(*) FROM autocall_job`).Scan(&recs); err != nil {
		t.Fatal(err)
	}
	if recs != 3 {
		t.Errorf("%d records in the journal, want 3 (the creates under way): the waiting jobs claimed", recs)
	}
	if n := srv.Count("/api/v2/campaigns/1/otp"); n > 3 {
		t.Errorf("%d creates reached the sandbox, want at most 3", n)
	}
}

// PoolConfig sizes a pool for NewClient, unless the URL sizes it.
func TestPoolConfig(t *testing.T) {
	w := &Worker{}
	cfg, err := PoolConfig("postgres://u@localhost/db", 16, w)
	if err != nil || cfg.MaxConns != 36 {
		t.Fatalf("%v %v, want 36 connections", cfg.MaxConns, err)
	}
	cfg, err = PoolConfig("postgres://u@localhost/db?pool_max_conns=5", 16, w)
	if err != nil || cfg.MaxConns != 5 {
		t.Fatalf("%v %v, want the URL's 5", cfg.MaxConns, err)
	}
}
