package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// PostgreSQL unreachable when the worker starts, for 5 s: the worker
// waits, and once the database is back every job is sent once; none is
// recorded refused (or unknown) for the outage.
func TestDatabaseDownAtStart(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	dbURL, pool := migratedDB(t)
	insertOnly, err := river.NewClient(riverpgxv5New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := 0; i < n; i++ {
		args := autocallriver.OTPArgs{Common: autocallriver.Common{Key: fmt.Sprintf("down-%d", i)},
			CampaignID: "1", Caller: "02873001234", Callees: []string{fmt.Sprintf("0912%06d", i*10+3)}, TemplateName: "otp", Code: "1234"}
		if _, err := insertOnly.Insert(ctx, args, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := pg.StopFast(); err != nil {
		t.Fatal(err)
	}
	down := true
	t.Cleanup(func() {
		if down {
			_ = pg.Resume()
		}
	})
	w := startWorker(t, dbURL, srv)
	// Placed below only if this worker waited: it is the only one.
	time.Sleep(5 * time.Second)
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	down = false

	j, err := autocallriver.NewJournal(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		recs, err := j.Records(ctx)
		states := map[batch.State]int{}
		for _, r := range recs {
			states[r.State]++
		}
		if err == nil && states[batch.Placed] == n {
			break
		}
		if err == nil && (states[batch.Refused] > 0 || states[batch.Unknown] > 0) {
			t.Fatalf("an outage at start recorded as an outcome: %v", states)
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all placed after the database came back: %v (%v)\n%s", states, err, tail(w.out.String(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c := len(srv.Calls()); c != n {
		t.Errorf("%d calls for %d jobs", c, n)
	}
	w.term(t)
}
