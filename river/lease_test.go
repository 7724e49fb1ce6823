package autocallriver

import (
	"context"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// staleAfterClaim makes the worker's lease read as last renewed long ago
// once the first job is claimed: renewals that failed for most of its
// ttl, between the claim and the send.
type staleAfterClaim struct {
	w    *Worker
	done bool
}

func (s *staleAfterClaim) Job(context.Context, batch.JobEnd) {}
func (s *staleAfterClaim) JournalOp(_ context.Context, op string, _ time.Duration, err error) {
	if op == "claim" && err == nil && !s.done {
		s.done = true
		old := time.Now().Add(-time.Hour)
		s.w.renewed.Store(&old)
	}
}

// A job claimed under a lease that may have lapsed is not sent: its claim
// is written back Unsent and River tries it again, under a renewed lease,
// and the customer is called once.
func TestLapsedLeaseSendsNothingThenRetries(t *testing.T) {
	srv := autocalltest.NewServer()
	t.Cleanup(srv.Close)
	pool, _ := newPool(t)
	w := &Worker{Journal: newJournal(t, pool), TEL4VN: fastClient(t, srv.URL), LeaseTTL: time.Minute}
	obs := &staleAfterClaim{w: w}
	w.Observer = obs
	startWorking(t, pool, w, 1, quickConfig(), otpArgs(0))

	// The first attempt ends retryable, nothing sent.
	deadline := time.Now().Add(20 * time.Second)
	var state string
	var errs int
	for time.Now().Before(deadline) {
		if err := pool.QueryRow(ctx, `SELECT state, coalesce(array_length(errors, 1), 0) FROM river_job`).Scan(&state, &errs); err != nil {
			t.Fatal(err)
		}
		if errs > 0 || state == "completed" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if errs == 0 {
		t.Fatalf("the first attempt did not end in an error (River job %s)", state)
	}
	if n := len(srv.Calls()); n != 0 && state != "completed" {
		t.Fatalf("%d calls under a lapsed lease", n)
	}
	waitSettled(t, pool, 1, 30*time.Second)
	if n := len(srv.Calls()); n != 1 {
		t.Fatalf("%d calls, want 1 (after River's retry)", n)
	}
	rec, _, err := w.Journal.Get(ctx, "order-0")
	if err != nil || rec.State != batch.Placed {
		t.Fatalf("record %+v (%v), want placed", rec, err)
	}
}
