package autocallriver

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// refusedEarlier writes key as a job an earlier run had refused for a
// spent quota.
func refusedEarlier(t *testing.T, j *Journal, key string) {
	t.Helper()
	if ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: key, Kind: "otp", Run: "earlier"}}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := j.Settle(ctx, batch.Record{Key: key, State: batch.Refused, Cause: batch.CauseQuota, Reason: "quota spent"}); err != nil {
		t.Fatal(err)
	}
}

func waitJobErrors(t *testing.T, r *replica, id int64, n int) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		job, err := r.client.JobGet(ctx, id)
		if err == nil && len(job.Errors) >= n {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: no %d errors after 20 s (%v)", id, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A job inserted to send a refused key again (retry_causes) whose first
// attempt fails before anything is claimed (the journal's table cannot be
// read) still sends it at the next attempt: a failed attempt that sent and
// refused nothing does not use up the resend the args asked for.
func TestRetryRefusedSurvivesAFailedFirstAttempt(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	refusedEarlier(t, newJournal(t, pool), "order-1")
	if _, err := pool.Exec(ctx, `ALTER TABLE autocall_job RENAME TO autocall_job_away`); err != nil {
		t.Fatal(err)
	}
	r := startReplica(t, url, srv, replicaOpts{})
	args := otpArgs(1)
	args.RetryCauses = []string{batch.CauseQuota}
	res := insertOrder(t, r.client, pool, args, true)
	waitJobErrors(t, r, res.Job.ID, 1) // the first attempt failed: nothing claimed
	if _, err := pool.Exec(ctx, `ALTER TABLE autocall_job_away RENAME TO autocall_job`); err != nil {
		t.Fatal(err)
	}
	waitSettled(t, pool, 1, 30*time.Second)
	job, _ := r.client.JobGet(ctx, res.Job.ID)
	rec, _, _ := r.j.Get(ctx, "order-1")
	if job.State != rivertype.JobStateCompleted || rec.State != batch.Placed || len(srv.Calls()) != 1 {
		t.Fatalf("River job %s (errors %+v), journal %+v, %d calls", job.State, job.Errors, rec, len(srv.Calls()))
	}
}

// The other side of the rule: a job River delivers again after a rescue
// (its worker died after writing a refusal, before River heard of it) does
// not send the refused key again, retry_causes or not: the refusal may be
// its own.
func TestRetryRefusedNotAfterARescue(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	args := otpArgs(1)
	args.RetryCauses = []string{batch.CauseQuota}
	res := insertOrder(t, inserter, pool, args, true)
	// Its first attempt claimed, was refused (quota) and wrote so; then its
	// process died, and River's rescuer made the job available again.
	refusedEarlier(t, newJournal(t, pool), "order-1")
	if _, err := pool.Exec(ctx, `UPDATE river_job SET attempt = 1, attempted_at = now(),
		errors = ARRAY[jsonb_build_object('at', now(), 'attempt', 1, 'error', 'Stuck job rescued by JobRescuer', 'trace', '')]
		WHERE id = $1`, res.Job.ID); err != nil {
		t.Fatal(err)
	}
	r := startReplica(t, url, srv, replicaOpts{})
	waitSettled(t, pool, 1, 20*time.Second)
	job, _ := r.client.JobGet(ctx, res.Job.ID)
	if job.State != rivertype.JobStateCancelled || len(srv.Calls()) != 0 {
		t.Fatalf("River job %s (errors %+v), %d calls", job.State, job.Errors, len(srv.Calls()))
	}
	if last := job.Errors[len(job.Errors)-1].Error; !strings.Contains(last, "refused") {
		t.Fatalf("errors: %+v", job.Errors)
	}
}
