package batch

import (
	"context"
	"time"
)

// Observer is told of a run's jobs and of its journal's writes, for
// metrics (github.com/autocallvn/autocall-go/otel implements it). It is
// called from the run's goroutines: safe for concurrent use, and quick.
// Like autocall.Observer it is told no key and no phone number.
type Observer interface {
	// Job is called when a job of the run has ended, in the state this run
	// left it, or (Skipped) the state an earlier run or a peer left it.
	Job(ctx context.Context, j JobEnd)
	// JournalOp is called after each Claim, Settle and SettleIf of the
	// run's journal, op being "claim", "settle" or "settle_if".
	JournalOp(ctx context.Context, op string, d time.Duration, err error)
}

// JobEnd is one job's end in a run.
type JobEnd struct {
	State   State // Placed, Refused, Unknown, Unsent
	Skipped bool  // settled before this run met it: nothing was sent
	// JournalFailed: the outcome could not be written (State is then
	// what the journal holds, or Unsent when it was never claimed).
	JournalFailed bool
}

// observed returns a copy of r whose journal tells r.Observer of its
// writes: the run's code reads st.r.Journal, and stays as it is.
func (r *Runner) observed() *Runner {
	cp := *r
	cp.Journal = observedJournal{Journal: r.Journal, o: r.Observer}
	return &cp
}

// observeJob tells the observer of res (a job that ended in this run).
func (st *runState) observeJob(ctx context.Context, res jobResult) {
	if st.r.Observer == nil || res.elsewhere {
		return
	}
	state := readState(res.state)
	if state == "" {
		state = Unsent // as Report.count: never claimed, nothing sent
	}
	st.r.Observer.Job(ctx, JobEnd{State: state, Skipped: res.skipped, JournalFailed: res.journalErr != nil})
}

// observedJournal times a journal's claims and settles.
type observedJournal struct {
	Journal
	o Observer
}

func (j observedJournal) Claim(ctx context.Context, req ClaimRequest) (bool, Record, error) {
	start := time.Now()
	ok, cur, err := j.Journal.Claim(ctx, req)
	j.o.JournalOp(ctx, "claim", time.Since(start), err)
	return ok, cur, err
}

func (j observedJournal) Settle(ctx context.Context, rec Record) error {
	start := time.Now()
	err := j.Journal.Settle(ctx, rec)
	j.o.JournalOp(ctx, "settle", time.Since(start), err)
	return err
}

func (j observedJournal) SettleIf(ctx context.Context, rec, expect Record) (bool, error) {
	start := time.Now()
	ok, err := j.Journal.SettleIf(ctx, rec, expect)
	j.o.JournalOp(ctx, "settle_if", time.Since(start), err)
	return ok, err
}
