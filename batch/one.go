package batch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
	"unicode/utf8"
)

// Outcome is what Runner.RunOne did with one job.
type Outcome struct {
	// State is the job's state as the journal holds it now, as Get reads
	// it; "" when nothing was recorded (ctx ended before the claim, the
	// Do-Not-Call list failed, or the journal failed before the claim).
	State State
	// Record is the job's record as last written or read by RunOne: its
	// Cause, Reason, NotBefore, CallIDs or SessionID.
	Record Record
	// Skipped: the journal held the job settled, or claimed by another
	// run, when RunOne met it: nothing was sent now. InFlight: that other
	// run's lease is live (the journal reads the claim as Claimed).
	Skipped, InFlight bool
	// Deferred: an advertising job the Policy held back (Unsent), with
	// when it may go.
	Deferred *Deferral
	// RetryAfter: an Unsent job the provider asked to slow down for
	// (CauseRate): the pause it asked for, a second when it named none.
	RetryAfter time.Duration
	// Err is the send's error, a *Deferral, a *DoNotCallError, or what
	// the Do-Not-Call list answered.
	Err error
	// Halt is set when every later job would meet the same outcome (a
	// spent quota, a refused credential, no token): Run would stop.
	Halt error
}

// RunOne takes one job from claim to outcome by the rules of Run (the
// outcome table, the Policy, the journal's claim) and returns what it did:
// for a job engine that delivers one job at a time and keeps its own
// queue (package autocallriver's River worker). Unlike Run it takes no
// lease (the caller holds the lease of r.RunID, renewed while it works,
// and tells when through r.LeaseRenewed),
// waits for no limiter (the caller waits, before RunOne, for its rate
// limit and pauses), and sends a rate-limited job once only: it is left
// Unsent with CauseRate and Outcome.RetryAfter, for the caller to send
// again after the pause. A job in flight finishes and is recorded after
// ctx ends; a job not yet claimed is not sent.
//
// The error is for the call itself (bad arguments, the journal failing):
// with a job whose claim holds (its outcome could not be written), State
// is Unknown.
func (r *Runner) RunOne(ctx context.Context, j Job) (Outcome, error) {
	switch {
	case r.Journal == nil:
		return Outcome{}, errors.New("batch: Runner.Journal is nil")
	case j.Key == "":
		return Outcome{}, fmt.Errorf("%w: the job has no key", ErrBadKey)
	case !utf8.ValidString(j.Key):
		return Outcome{}, fmt.Errorf("%w: the job's key %q is not UTF-8", ErrBadKey, j.Key)
	case j.Op == nil:
		return Outcome{}, fmt.Errorf("batch: job %q has no operation", j.Key)
	case r.client(j.Op) == nil:
		return Outcome{}, fmt.Errorf("batch: job %q is a %s job and Runner.%s is nil", j.Key, j.Op.kind(), j.Op.provider())
	case r.RunID == "":
		return Outcome{}, errors.New("batch: RunOne needs Runner.RunID, the run whose lease the caller holds")
	}
	policy, err := r.policy([]Job{j})
	if err != nil {
		return Outcome{}, err
	}
	stopCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	one := &oneJournal{Journal: r.Journal, stop: stop}
	rr := *r
	rr.Journal = one
	if r.Observer != nil {
		rr = *rr.observed()
	}
	st := &runState{r: &rr, start: time.Now(), total: 1, runID: r.RunID, policy: policy,
		maxPause: math.MaxInt64, stopCtx: stopCtx, stop: stop}
	st.clockStart = rr.now()
	st.onLimit = st.rateLimitOption()
	if r.LeaseRenewed != nil {
		st.leaseTTL, st.leaseOf = cmp.Or(r.LeaseTTL, DefaultLeaseTTL), r.LeaseRenewed
	}

	res := st.runJob(stopCtx, context.WithoutCancel(ctx), j)
	st.observeJob(ctx, res)

	out := Outcome{State: res.state, Skipped: res.skipped, InFlight: res.elsewhere, Deferred: res.deferred, Err: res.err}
	one.mu.Lock()
	out.Record = one.last
	one.mu.Unlock()
	if out.State == Unsent && out.Record.Cause == CauseRate {
		st.pauseMu.Lock()
		out.RetryAfter = time.Until(st.pausedUntil)
		st.pauseMu.Unlock()
		out.RetryAfter = max(out.RetryAfter, time.Millisecond)
	}
	if cause := context.Cause(stopCtx); cause != nil && !errors.Is(cause, errRateStop) && ctx.Err() == nil {
		out.Halt = cause
	}
	return out, res.journalErr
}

// errRateStop ends RunOne's one try after a rate-limited send.
var errRateStop = errors.New("batch: rate limited: the caller sends the job again after the pause")

// oneJournal is RunOne's view of the journal: it keeps the record last
// written or read, and ends the try after a rate-limited outcome is
// written (Run would pause and send again; RunOne leaves it to its caller).
type oneJournal struct {
	Journal
	stop context.CancelCauseFunc
	mu   sync.Mutex
	last Record
}

func (o *oneJournal) keep(rec Record) {
	o.mu.Lock()
	o.last = rec
	o.mu.Unlock()
}

func (o *oneJournal) Get(ctx context.Context, key string) (Record, bool, error) {
	rec, ok, err := o.Journal.Get(ctx, key)
	if ok && err == nil {
		o.keep(rec)
	}
	return rec, ok, err
}

func (o *oneJournal) Claim(ctx context.Context, req ClaimRequest) (bool, Record, error) {
	ok, cur, err := o.Journal.Claim(ctx, req)
	switch {
	case err != nil:
	case ok:
		rec := req.Record
		rec.State, rec.ClaimedAt = Claimed, rec.Time
		o.keep(rec)
	default:
		o.keep(cur)
	}
	return ok, cur, err
}

func (o *oneJournal) Settle(ctx context.Context, rec Record) error {
	err := o.Journal.Settle(ctx, rec)
	if err == nil {
		o.keep(rec)
		if rec.State == Unsent && rec.Cause == CauseRate {
			o.stop(errRateStop)
		}
	}
	return err
}
