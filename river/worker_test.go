package autocallriver

import (
	"cmp"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// replica is one worker process's share, in this process: a pool, a
// journal, a worker and a River client of its own.
type replica struct {
	pool   *pgxpool.Pool
	j      *Journal
	w      *Worker
	client *river.Client[pgx.Tx]
}

type replicaOpts struct {
	rate    float64
	workers int
	now     func() time.Time
	baseURL string // default: the sandbox's
	// settleFor is Worker.SettleFor (default: the Worker's).
	settleFor time.Duration
	observer  batch.Observer
}

func fastClient(t testing.TB, url string) *autocall.Client {
	t.Helper()
	c, err := autocall.NewClient(url, autocall.WithSecretKey(autocalltest.SecretKey),
		autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func startReplica(t testing.TB, url string, srv *autocalltest.Server, o replicaOpts) *replica {
	t.Helper()
	pool := poolOn(t, url)
	r := &replica{pool: pool, j: newJournal(t, pool)}
	r.w = &Worker{Journal: r.j, TEL4VN: fastClient(t, cmp.Or(o.baseURL, srv.URL)), Limiter: NewLimiter(pool, "", o.rate, 1), LeaseTTL: 3 * time.Second, Now: o.now, SettleFor: o.settleFor, Observer: o.observer}
	var err error
	r.client, err = NewClient(pool, r.w, max(o.workers, 4), &river.Config{
		FetchCooldown: 20 * time.Millisecond, FetchPollInterval: 200 * time.Millisecond,
		Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.client.Stop(ctx)
		_ = r.w.Close(ctx)
	})
	return r
}

// threeReplicas starts three workers alike on the database at url.
func threeReplicas(t *testing.T, url string, srv *autocalltest.Server, o replicaOpts) []*replica {
	t.Helper()
	rs := make([]*replica, 3)
	for i := range rs {
		rs[i] = startReplica(t, url, srv, o)
	}
	return rs
}

// otpArgs is order i's OTP call.
func otpArgs(i int) OTPArgs {
	return OTPArgs{Common: Common{Key: fmt.Sprintf("order-%d", i)}, CampaignID: "1", Caller: "02873001234",
		Callees: []string{phone(i)}, TemplateName: "otp", Code: fmt.Sprintf("%04d", i%10000)}
}

// phone is customer i's number: 0912 and six digits, none of the sandbox's
// special endings.
func phone(i int) string { return fmt.Sprintf("0912%06d", i*10+3) }

// insertOrder commits (or rolls back) an order's call job in one transaction.
func insertOrder(t testing.TB, client *river.Client[pgx.Tx], pool *pgxpool.Pool, args river.JobArgs, commit bool) *rivertype.JobInsertResult {
	t.Helper()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	res, err := InsertTx(ctx, client, tx, args)
	if err != nil {
		t.Fatal(err)
	}
	if commit {
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// waitSettled waits until the journal holds n records none of which is
// claimed, and River has no call job left to work.
func waitSettled(t testing.TB, pool *pgxpool.Pool, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var recs, open, jobs int
		err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM autocall_job),
			(SELECT count(*) FROM autocall_job j JOIN autocall_lease l ON l.run = j.run WHERE j.state = 'claimed' AND l.expires > clock_timestamp()),
			(SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending'))`).Scan(&recs, &open, &jobs)
		if err == nil && recs >= n && open == 0 && jobs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled after %s: %d records (want %d), %d claimed, %d River jobs left (err %v)", within, recs, n, open, jobs, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func callsPerPhone(srv *autocalltest.Server) map[string]int {
	m := map[string]int{}
	for _, c := range srv.Calls() {
		m[c.Phone]++
	}
	return m
}

// Committed orders are called once each; rolled back ones never.
func TestCommittedCalledOnceRolledBackNever(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	for i := 0; i < 20; i++ {
		insertOrder(t, r.client, pool, otpArgs(i), i%4 != 0)
	}
	waitSettled(t, pool, 15, 30*time.Second)
	calls := callsPerPhone(srv)
	for i := 0; i < 20; i++ {
		want := 1
		if i%4 == 0 {
			want = 0
		}
		if calls[phone(i)] != want {
			t.Errorf("order %d: %d calls, want %d", i, calls[phone(i)], want)
		}
		rec, ok, _ := r.j.Get(ctx, fmt.Sprintf("order-%d", i))
		if want == 1 && (!ok || rec.State != batch.Placed) {
			t.Errorf("order %d: %+v", i, rec)
		}
	}
	var completed int
	pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&completed)
	if completed != 15 {
		t.Errorf("%d River jobs completed, want 15", completed)
	}
}

// One key inserted by two racing transactions: one job, one call.
func TestRacingInsertsOneJobOneCall(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	for round := 0; round < 10; round++ {
		args := otpArgs(round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var inserted int
		start := make(chan struct{})
		for k := 0; k < 2; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tx, err := pool.Begin(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				defer tx.Rollback(ctx)
				<-start
				res, err := InsertTx(ctx, r.client, tx, args)
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(20 * time.Millisecond) // both transactions open at once
				if err := tx.Commit(ctx); err != nil {
					t.Error(err)
					return
				}
				if !res.UniqueSkippedAsDuplicate {
					mu.Lock()
					inserted++
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if inserted != 1 {
			t.Fatalf("round %d: %d jobs inserted for one key", round, inserted)
		}
	}
	waitSettled(t, pool, 10, 30*time.Second)
	var jobs int
	pool.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&jobs)
	if jobs != 10 {
		t.Errorf("%d River jobs for 10 keys", jobs)
	}
	for p, n := range callsPerPhone(srv) {
		if n != 1 {
			t.Errorf("%s called %d times", p, n)
		}
	}
	if len(srv.Calls()) != 10 {
		t.Errorf("%d calls for 10 keys", len(srv.Calls()))
	}
}

// A refused job is cancelled with its cause and not retried by River.
func TestRefusedIsCancelledWithCause(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	bad := otpArgs(1)
	bad.Callees = []string{"12345"} // not a phone: refused before sending
	res := insertOrder(t, r.client, pool, bad, true)
	waitSettled(t, pool, 1, 20*time.Second)
	job, err := r.client.JobGet(ctx, res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != rivertype.JobStateCancelled || len(job.Errors) != 1 {
		t.Fatalf("River job: %s, %d errors", job.State, len(job.Errors))
	}
	rec, _, _ := r.j.Get(ctx, bad.Key)
	if rec.State != batch.Refused || rec.Cause != batch.CausePhone {
		t.Fatalf("journal: %+v", rec)
	}
	if len(srv.Calls()) != 0 {
		t.Fatal("a refused job called")
	}
	if !errors.Is(&JobError{State: batch.Refused}, ErrRefused) {
		t.Fatal("JobError does not match ErrRefused")
	}
}
