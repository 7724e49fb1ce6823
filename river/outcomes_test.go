package autocallriver

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// An answer lost after the call was placed: Unknown, cancelled, never
// retried; SettleFromEvents then settles it from the call's event.
func TestUnknownIsCancelledThenSettledFromEvents(t *testing.T) {
	srv := autocalltest.NewServer(autocalltest.WithRealTime())
	defer srv.Close()
	var mu sync.Mutex
	var events []*autocall.CallEvent
	hook := httptest.NewServer(autocall.WebhookHandler("hook-key", func(_ context.Context, ev *autocall.CallEvent) error {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		return nil
	}))
	defer hook.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{now: srv.Now})
	r.w.CallbackAPIKey = "hook-key"
	srv.FailNext("/api/v2/campaigns/1/otp", 2, autocalltest.Fault{Process: true, Reset: true})
	args := otpArgs(1)
	args.CallbackURL = hook.URL
	res := insertOrder(t, r.client, pool, args, true)
	args2 := otpArgs(2)
	args2.CallbackURL = hook.URL
	insertOrder(t, r.client, pool, args2, true)
	waitSettled(t, pool, 2, 20*time.Second)
	job, err := r.client.JobGet(ctx, res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != rivertype.JobStateCancelled {
		t.Fatalf("River job: %s", job.State)
	}
	rec, _, _ := r.j.Get(ctx, "order-1")
	if rec.State != batch.Unknown {
		t.Fatalf("journal: %+v", rec)
	}
	if len(srv.Calls()) != 2 {
		t.Fatalf("%d calls", len(srv.Calls()))
	}
	open, err := r.j.Open(ctx)
	if err != nil || len(open) != 2 || open[0].Key == open[1].Key {
		t.Fatalf("listed for Resolve: %+v %v", open, err)
	}
	// The call's event (as the webhook would hand it over) settles it.
	srv.Advance(time.Minute)
	srv.WaitForCallbacks()
	mu.Lock()
	defer mu.Unlock()
	var first []*autocall.CallEvent
	for _, ev := range events {
		if ev.Phone == phone(1) || ev.CallID.Phone() == phone(1) {
			first = append(first, ev)
		}
	}
	settled, err := r.j.SettleFromEvents(ctx, first)
	if err != nil || len(settled) != 1 || settled[0] != "order-1" {
		t.Fatalf("settled %v, %v", settled, err)
	}
	// batch.SettleFromEvents over the whole journal settles the other.
	settled, err = batch.SettleFromEvents(ctx, r.j, events)
	if err != nil || len(settled) != 1 || settled[0] != "order-2" {
		t.Fatalf("settled %v, %v", settled, err)
	}
	rec, _, _ = r.j.Get(ctx, "order-1")
	if rec.State != batch.Placed || len(rec.CallIDs) != 1 {
		t.Fatalf("after the events: %+v", rec)
	}
}

// A job River delivers again after its worker died finds that worker's
// claim, whose lease lapsed: Unknown, cancelled, never resent.
func TestDeadWorkersClaimIsUnknownNeverResent(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	dead := newJournal(t, poolOn(t, url))
	if err := dead.Lease(ctx, "river-dead", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := dead.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "order-1", Kind: "otp", Run: "river-dead"}}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	time.Sleep(300 * time.Millisecond) // the dead worker's lease lapses
	r := startReplica(t, url, srv, replicaOpts{})
	res := insertOrder(t, r.client, pool, otpArgs(1), true)
	waitSettled(t, pool, 1, 20*time.Second)
	job, _ := r.client.JobGet(ctx, res.Job.ID)
	if job.State != rivertype.JobStateCancelled || len(srv.Calls()) != 0 {
		t.Fatalf("River job %s, %d calls", job.State, len(srv.Calls()))
	}
	if len(job.Errors) == 0 || !strings.Contains(job.Errors[len(job.Errors)-1].Error, "unknown") {
		t.Fatalf("errors: %+v", job.Errors)
	}
	if !errors.Is(&JobError{State: batch.Unknown}, ErrUnknown) {
		t.Fatal("JobError does not match ErrUnknown")
	}
}

// Postgres unreachable for 5 s mid-run: nothing refused, nobody twice,
// everyone called once it is back.
func TestDatabaseOutageMidRun(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	rs := threeReplicas(t, url, srv, replicaOpts{rate: 15, workers: 4})
	const n = 90
	for i := 0; i < n; i++ {
		insertOrder(t, rs[i%3].client, pool, otpArgs(i), true)
	}
	time.Sleep(time.Second)
	if err := pg.StopFast(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	waitSettled(t, pool, n, 90*time.Second)
	recs, err := rs[0].j.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[batch.State]int{}
	for _, rec := range recs {
		states[rec.State]++
	}
	if states[batch.Placed] != n {
		t.Fatalf("states after the outage: %v", states)
	}
	for p, c := range callsPerPhone(srv) {
		if c != 1 {
			t.Fatalf("%s called %d times", p, c)
		}
	}
	if len(srv.Calls()) != n {
		t.Fatalf("%d calls for %d orders", len(srv.Calls()), n)
	}
}
