package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// orders is how many committed orders the scale test inserts: 1,500 by
// default so that the module's suite stays within minutes under -race on
// a small machine; AUTOCALL_SCALE_ORDERS=10000 runs the figure.
func orders() int {
	if n, err := strconv.Atoi(os.Getenv("AUTOCALL_SCALE_ORDERS")); err == nil && n > 0 {
		return n
	}
	return 1500
}

func phoneOf(i int) string { return fmt.Sprintf("09%08d", i*10+3) }

// Orders committed by 8 concurrent inserters (a tenth more rolled back)
// with 3 worker processes, 2 SIGKILLed mid-run, and Postgres crashed and
// restarted once (pg_ctl restart -m immediate); Postgres is also down
// when the workers start. Nobody is phoned twice, no rolled-back order is
// phoned, every committed order ends placed, refused (with a cause),
// unknown (at most the jobs in flight at the kills) or deferred, and the
// counts add up.
func TestScaleKillsAndRestart(t *testing.T) {
	n := orders()
	rollbacks := n / 10
	srv := autocalltest.NewServer()
	defer srv.Close()
	dbURL, pool := migratedDB(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE orders (id int PRIMARY KEY, phone text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	insertOnly, err := river.NewClient(riverpgxv5New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}

	// The workers start while the database is down, and wait for it.
	if err := pg.StopFast(); err != nil {
		t.Fatal(err)
	}
	const perWorker = 16
	flags := []string{"--workers", strconv.Itoa(perWorker), "--lease-ttl", "3s", "--job-timeout", "10s", "--rescue-after", "11s"}
	var ws []*worker
	for i := 0; i < 3; i++ {
		ws = append(ws, startWorker(t, dbURL, srv, flags...))
	}
	time.Sleep(2 * time.Second)
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}

	// 8 inserters: each order and its call job in one transaction; every
	// 11th transaction is rolled back. A commit whose answer is lost (the
	// crash) is judged by the orders table afterwards.
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var restarted atomic.Bool
	total := n + rollbacks
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				rollback := i%11 == 10
				for try := 0; ; try++ {
					err := insert(pool, insertOnly, i, rollback)
					if err == nil {
						break
					}
					if try > 200 {
						t.Errorf("order %d: %v", i, err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	// Mid-run: Postgres crashes and restarts; then two workers are killed.
	for next.Load() < int64(total/3) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := pg.RestartImmediate(); err != nil {
		t.Fatal(err)
	}
	restarted.Store(true)
	for next.Load() < int64(2*total/3) {
		time.Sleep(10 * time.Millisecond)
	}
	ws[0].kill()
	time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
	ws[1].kill()
	wg.Wait()
	t.Logf("%d transactions in %s", total, time.Since(start).Round(time.Millisecond))

	// Wait for the survivor (and River's rescuer, for the killed workers'
	// jobs) to finish every job.
	deadline := time.Now().Add(150 * time.Second)
	for {
		var left int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'pending')`).Scan(&left)
		if err == nil && left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d River jobs left after %s", left, time.Since(start))
		}
		time.Sleep(250 * time.Millisecond)
	}
	ws[2].term(t)
	t.Logf("all jobs worked in %s", time.Since(start).Round(time.Millisecond))

	committed := map[string]bool{}
	rows, err := pool.Query(ctx, `SELECT phone FROM orders`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		_ = rows.Scan(&p)
		committed[p] = true
	}
	rows.Close()
	if len(committed) < n-50 {
		t.Fatalf("%d orders committed of %d", len(committed), n)
	}
	calls := map[string]int{}
	for _, c := range srv.Calls() {
		calls[c.Phone]++
	}
	for p, c := range calls {
		if c > 1 {
			t.Errorf("%s phoned %d times", p, c)
		}
		if !committed[p] {
			t.Errorf("%s phoned, and its order was rolled back", p)
		}
	}
	j, err := autocallriver.NewJournal(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := j.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[batch.State]int{}
	for _, rec := range recs {
		states[rec.State]++
		switch rec.State {
		case batch.Placed:
			if calls[rec.Phones[0]] != 1 {
				t.Errorf("%s placed, with %d calls", rec.Key, calls[rec.Phones[0]])
			}
		case batch.Refused:
			if rec.Cause == "" {
				t.Errorf("%s refused without a cause", rec.Key)
			}
		case batch.Unsent:
			if rec.NotBefore.IsZero() {
				t.Errorf("%s left unsent, not deferred: %+v", rec.Key, rec)
			}
		case batch.Unknown:
		default:
			t.Errorf("%s ends %s", rec.Key, rec.State)
		}
	}
	t.Logf("orders committed %d (rolled back %d); journal %v; calls %d", len(committed), total-len(committed), states, len(srv.Calls()))
	if len(recs) != len(committed) {
		t.Errorf("%d journal records for %d committed orders", len(recs), len(committed))
	}
	if states[batch.Placed]+states[batch.Refused]+states[batch.Unknown]+states[batch.Unsent] != len(committed) {
		t.Errorf("the counts do not add up")
	}
	// Each kill leaves at most the jobs River held there unsettled: the
	// workers' and those fetched ahead (--prefetch, as many by default),
	// whose outcome may still be unwritten after their call was answered.
	if inFlight := 2 * (perWorker + perWorker); states[batch.Unknown] > inFlight {
		t.Errorf("%d unknown: more than the jobs in flight at the kills (%d)", states[batch.Unknown], inFlight)
	}
	if len(srv.Calls()) < states[batch.Placed] || len(srv.Calls()) > states[batch.Placed]+states[batch.Unknown] {
		t.Errorf("%d calls for %d placed and %d unknown", len(srv.Calls()), states[batch.Placed], states[batch.Unknown])
	}
	if !restarted.Load() {
		t.Error("Postgres was not restarted")
	}
}

func insert(pool *pgxpool.Pool, client *river.Client[pgx.Tx], i int, rollback bool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO orders (id, phone) VALUES ($1, $2) ON CONFLICT DO NOTHING`, i, phoneOf(i)); err != nil {
		return err
	}
	_, err = autocallriver.InsertTx(ctx, client, tx, autocallriver.OTPArgs{
		Common: autocallriver.Common{Key: fmt.Sprintf("order-%d", i)}, CampaignID: "1", Caller: "02873001234",
		Callees: []string{phoneOf(i)}, TemplateName: "otp", Code: fmt.Sprintf("%04d", i%10000)})
	if err != nil {
		return err
	}
	if rollback {
		return tx.Rollback(ctx)
	}
	if err := tx.Commit(ctx); err != nil {
		// Lost in the crash, or not committed: the orders table says which.
		var ok bool
		for try := 0; try < 100; try++ {
			if err2 := pool.QueryRow(ctx, `SELECT true FROM orders WHERE id = $1`, i).Scan(&ok); err2 == nil || err2 == pgx.ErrNoRows {
				if ok {
					return nil
				}
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
		return err
	}
	return nil
}
