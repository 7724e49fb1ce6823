package autocallriver

import (
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// A 429 seen elsewhere while a job is between the account's pause check
// and its claim (here: its claim waits on the key's lock, as on a slow
// database) sends nothing during the pause: the pause is checked in the
// claim's own transaction, not only before it. The job goes once the
// pause ends.
func TestPauseDuringASlowClaimHoldsTheCreate(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	// The key's lock, held elsewhere: the worker's claim waits for it.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('autocall:job:' || $1, 0))`, "order-1"); err != nil {
		t.Fatal(err)
	}
	insertOrder(t, r.client, pool, otpArgs(1), true)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker's claim never waited on the key's lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Another replica meets a 429: the account pauses for 2 s.
	paused := time.Now()
	if err := NewLimiter(pool, "", 0, 1).Pause(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n := len(srv.Calls()); n != 0 {
		t.Fatalf("%d creates %s after a pause of 2 s began", n, time.Since(paused).Round(time.Millisecond))
	}
	waitSettled(t, pool, 1, 20*time.Second)
	rec, _, _ := r.j.Get(ctx, "order-1")
	if rec.State != batch.Placed || len(srv.Calls()) != 1 {
		t.Fatalf("after the pause: %+v, %d calls", rec, len(srv.Calls()))
	}
}
