package autocallriver

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// Worker works the call jobs (OTPArgs, TTSArgs, PhoneArgs, ExtensionArgs)
// through the Postgres journal, by package batch's rules (Runner.RunOne),
// and tells River what became of each (see the package doc's table).
type Worker struct {
	// Journal is required: every job is claimed in it before its request
	// leaves, and its outcome written there.
	Journal *Journal
	// OMICall and TEL4VN are the providers' clients (either may be nil if
	// no job of its kinds is inserted).
	OMICall, TEL4VN *autocall.Client
	// Limiter is the account's rate limit and pause, shared by every
	// replica (nil: a pause only, no rate bound).
	Limiter *Limiter
	// Policy holds advertising jobs to Decree 91 (nil: the decree's rules).
	Policy *batch.Policy
	// Now is the Policy's clock and the journal records' (default: the
	// database's clock, read at start and at each lease renewal, so that
	// every replica holds advertising jobs to Decree 91's hours by one
	// clock whatever its own reads).
	Now func() time.Time
	// CallbackAPIKey is sent with each job's callback_url (the key the
	// webhook checks); it is kept here, not in the jobs' rows.
	CallbackAPIKey string
	// LeaseTTL is how long this worker's claims stay live without a
	// renewal (default batch.DefaultLeaseTTL): once the process dies, its
	// claims read Unknown after it, and a job River rescues finds that.
	LeaseTTL time.Duration
	// SettleFor is how long a job keeps trying to write an outcome it
	// holds while the database is unreachable (default 2 minutes); then
	// the worker writes it in the background once the database is back
	// (until Close: then the claim reads Unknown), and River is told what
	// it says.
	SettleFor time.Duration
	// Logger, when set, gets a warning for each job refused or left
	// unknown by this worker (its key, state and cause: no secret, no
	// reason text), and for what keeps the worker from its work (the
	// lease, the database's clock, outages, the account's pause). Placed
	// and unsent jobs are not logged: the journal, River's job errors and
	// the Observer's metrics have them.
	Logger *slog.Logger
	// Observer, when set, is told of each job's end (by its state) and
	// of the journal's claims and settles (github.com/autocallvn/
	// autocall-go/otel implements it; give the clients
	// autocall.WithObserver for the calls themselves). Like the journal,
	// it counts a job at each River attempt that ends it in a state.
	Observer batch.Observer
	// Prefetch is how many jobs NewClient lets River hold beyond its
	// maxWorkers, each waiting for one of the maxWorkers places (0: as many
	// as maxWorkers; negative: none; see NewClient). A Worker registered on
	// a client of your own (Register), and never given to NewClient, has no
	// places: River's MaxWorkers alone bounds it, each job until its
	// outcome is written.
	Prefetch int

	// places, when not nil, holds a token per job being worked (NewClient).
	places chan struct{}
	// scrubStmt blanks an OTP code in NewClient's Config.Schema's
	// river_job, built once (set once, like places).
	scrubStmt string
	once      sync.Once
	run       string
	stopped   chan struct{}
	wg        sync.WaitGroup
	// closing: Close has begun; no background writer starts after it
	// (a job still running past River's Stop may give up its settle).
	closeMu sync.Mutex
	closing bool
	// dbOffset is the database's clock minus this host's, in ns.
	dbOffset atomic.Int64
	// renewed is when the lease's last renewal that succeeded was sent
	// (batch.Runner.LeaseRenewed): no create leaves once it is too old.
	renewed atomic.Pointer[time.Time]
	leaseMu sync.Mutex // one renewal at a time in leaseFor
}

// now is the Worker's clock: Now, or this host's corrected to the
// database's.
func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return hostNow().Add(time.Duration(w.dbOffset.Load()))
}

// syncClock reads the database's clock and keeps its offset from this
// host's (half the round trip taken as the way there).
func (w *Worker) syncClock(ctx context.Context) error {
	t0 := hostNow()
	var db time.Time
	if err := w.Journal.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&db); err != nil {
		return err
	}
	t1 := hostNow()
	w.dbOffset.Store(int64(db.Sub(t0.Add(t1.Sub(t0) / 2))))
	return nil
}

// Register adds the worker for each call kind to workers.
func (w *Worker) Register(workers *river.Workers) error {
	if w.Journal == nil {
		return errors.New("autocallriver: Worker.Journal is nil")
	}
	for _, err := range []error{
		river.AddWorkerSafely(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[OTPArgs]) error { return work(ctx, w, j) })),
		river.AddWorkerSafely(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[TTSArgs]) error { return work(ctx, w, j) })),
		river.AddWorkerSafely(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[PhoneArgs]) error { return work(ctx, w, j) })),
		river.AddWorkerSafely(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[ExtensionArgs]) error { return work(ctx, w, j) })),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// RunID is the run this worker's claims are recorded under (Record.Run),
// and the name of its lease.
func (w *Worker) RunID() string {
	w.start()
	return w.run
}

// Ahead is how many jobs NewClient(…, w, maxWorkers, …) lets River hold
// beyond maxWorkers, fetched ahead: Prefetch's rule.
func (w *Worker) Ahead(maxWorkers int) int {
	switch {
	case w.Prefetch == 0:
		return maxWorkers
	case w.Prefetch < 0:
		return 0
	}
	return w.Prefetch
}

func (w *Worker) leaseTTL() time.Duration {
	if w.LeaseTTL > 0 {
		return w.LeaseTTL
	}
	return batch.DefaultLeaseTTL
}

// start takes the worker's lease, at its first job, and renews it every
// LeaseTTL/3 until Close.
func (w *Worker) start() {
	w.once.Do(func() {
		var b [8]byte
		_, _ = crand.Read(b[:])
		w.run = "river-" + time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
		w.stopped = make(chan struct{})
		if w.Now == nil {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := w.syncClock(c); err != nil {
				w.log("reading the database's clock: this host's is used until the next lease renewal", "err", err)
			}
			cancel()
		}
		ttl := w.leaseTTL()
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := w.lease(c, ttl); err != nil {
			w.log("taking the lease: no job is claimed until it is had", "err", err)
		}
		cancel()
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			t := time.NewTicker(ttl / 3)
			defer t.Stop()
			for {
				select {
				case <-w.stopped:
					return
				case <-t.C:
					// A renewal that fails is tried again at the next tick; the
					// claims of this worker may read Unknown to others meanwhile,
					// which only keeps them from being sent twice.
					if err := w.lease(context.Background(), ttl); err != nil {
						w.log("renewing the lease", "err", err)
					}
					if w.Now == nil {
						_ = w.syncClock(context.Background())
					}
				}
			}
		}()
	})
}

// lease takes or renews the worker's lease, and keeps when.
func (w *Worker) lease(ctx context.Context, ttl time.Duration) error {
	at := time.Now() // before the call: the lease runs from no earlier
	if err := w.Journal.Lease(ctx, w.run, ttl); err != nil {
		return err
	}
	w.renewed.Store(&at)
	return nil
}

// leaseFor makes sure, before a job is claimed, that the worker's lease
// was renewed less than half its ttl ago, renewing it now if not (the
// database was unreachable at a tick): a claim made under a lease about
// to lapse would only be written back Unsent before its send.
func (w *Worker) leaseFor(ctx context.Context) error {
	ttl := w.leaseTTL()
	if time.Since(w.leaseRenewed()) < ttl/2 {
		return nil
	}
	w.leaseMu.Lock()
	defer w.leaseMu.Unlock()
	if time.Since(w.leaseRenewed()) < ttl/2 {
		return nil // renewed by another job meanwhile
	}
	c, cancel := context.WithTimeout(ctx, ttl/4)
	defer cancel()
	if err := w.lease(c, ttl); err != nil {
		return fmt.Errorf("autocallriver: renewing the worker's lease: %w", err)
	}
	return nil
}

// leaseRenewed is batch.Runner.LeaseRenewed: zero until a lease is had.
func (w *Worker) leaseRenewed() time.Time {
	if at := w.renewed.Load(); at != nil {
		return *at
	}
	return time.Time{}
}

// Close ends the worker's lease (after River's client stopped: every job
// it worked is settled).
func (w *Worker) Close(ctx context.Context) error {
	if w.stopped == nil {
		return nil
	}
	w.closeMu.Lock()
	w.closing = true
	w.closeMu.Unlock()
	close(w.stopped)
	w.wg.Wait()
	return w.Journal.Lease(ctx, w.run, 0)
}

func (w *Worker) log(msg string, args ...any) {
	if w.Logger != nil {
		w.Logger.Warn(msg, args...)
	}
}

func (w *Worker) callbackKey(url string) string {
	if url == "" {
		return ""
	}
	return w.CallbackAPIKey
}

func (w *Worker) settleFor() time.Duration {
	if w.SettleFor > 0 {
		return w.SettleFor
	}
	return 2 * time.Minute
}

// callArgs is what every call job's args are.
type callArgs interface {
	river.JobArgs
	batchJob(w *Worker) (batch.Job, error)
	common() Common
}

func (c Common) common() Common { return c }

// maxInlineWait: a token of the account's bucket due within this is
// reserved and slept for in the worker; a longer wait (a pause, or more
// workers on all replicas than the rate serves in this time) snoozes the
// job and frees the worker. Each worker holds at most one reservation,
// so the wait is at most the workers of every replica over the rate: 5 s
// keeps 100 workers at 20/s in turn without one snooze (a snoozed job's
// slot takes another job, which asks the row again).
const maxInlineWait = 5 * time.Second

// Errors a job ends with in River (the job's errors list).
var (
	// ErrRefused: the job was refused (by the provider, the SDK for a bad
	// row, or the Policy for a Do-Not-Call number): cancelled, never
	// retried by River. Insert it again (same key, with retry_refused or
	// retry_causes) once the cause is fixed.
	ErrRefused = errors.New("autocallriver: the call was refused")
	// ErrUnknown: the request may have reached the provider and no answer
	// came, or the job's claim was left by a worker that died: cancelled,
	// never retried. Find out, then batch.Resolve it.
	ErrUnknown = errors.New("autocallriver: the call's outcome is unknown")
)

// JobError is the error a job is cancelled with: its key, state, cause
// and reason. It matches ErrRefused or ErrUnknown.
type JobError struct {
	Key    string
	State  batch.State
	Cause  string
	Reason string
}

func (e *JobError) Error() string {
	s := fmt.Sprintf("autocallriver: job %q is %s", e.Key, e.State)
	if e.Cause != "" {
		s += " (" + e.Cause + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is matches ErrRefused or ErrUnknown by the state.
func (e *JobError) Is(target error) bool {
	return (target == ErrRefused && e.State == batch.Refused) || (target == ErrUnknown && e.State == batch.Unknown)
}

func work[T callArgs](ctx context.Context, w *Worker, job *river.Job[T]) error {
	var blanked bool
	err := attempt(ctx, w, job, &blanked)
	if !blanked && holdsSecret(job.JobRow) && (err == nil || errors.As(err, new(*rivertype.JobCancelError))) {
		// River is told the job is over (completed or cancelled: never
		// tried again): its OTP code leaves the args now, whatever ended
		// it (refused, unknown, a key settled already, args refused).
		w.scrub(ctx, job.JobRow)
	}
	if err != nil && !errors.As(err, new(*rivertype.JobCancelError)) && !errors.As(err, new(*rivertype.JobSnoozeError)) {
		// Every other error River retries ends an attempt that sent
		// nothing and refused nothing (see river): say so in the job's
		// errors list, where the next attempt reads it.
		err = &nothingSentError{err}
	}
	return err
}

// attempt is one attempt at job: the package doc's table.
func attempt[T callArgs](ctx context.Context, w *Worker, job *river.Job[T], blanked *bool) error {
	w.start()
	free := func() {}
	if w.places != nil {
		// A job fetched ahead waits here, unclaimed, for a place; it gives
		// the place back once the provider has answered (its outcome's
		// write and River's completion overlap the next job's call).
		select {
		case w.places <- struct{}{}:
			free = sync.OnceFunc(func() { <-w.places })
			defer free()
		case <-ctx.Done():
			return river.JobSnooze(0) // shutting down: nothing sent
		}
	}
	c := job.Args.common()
	bj, err := job.Args.batchJob(w)
	if err == nil {
		err = strictArgs[T](job.EncodedArgs)
	}
	if err != nil {
		// Args no program could send: nothing was sent, nor will be.
		return w.refuseArgs(ctx, job.JobRow, c, err)
	}
	if err := w.leaseFor(ctx); err != nil {
		return err // nothing claimed: River retries
	}
	// The account's bucket, before each create: a short wait for a token
	// is slept, a pause (a 429 anywhere) snoozes the job. With no rate the
	// pause alone is read, in the claim's transaction (jobJournal.Claim).
	if w.Limiter != nil && w.Limiter.Rate > 0 {
		rest, err := w.Limiter.Wait(ctx, maxInlineWait)
		switch {
		case ctx.Err() != nil:
			return river.JobSnooze(0) // shutting down: nothing sent
		case err != nil:
			return err // the database: River retries
		case rest > 0:
			return river.JobSnooze(rest)
		}
	}
	jj := &jobJournal{Journal: w.Journal, w: w, answered: free, job: job.JobRow, blanked: blanked, complete: func(ctx context.Context, tx pgx.Tx) error {
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	}}
	// Straight to the claim: a job's key is new to the journal but for a
	// delivery River repeats, and the claim reads the record anyway.
	r := &batch.Runner{OMICall: w.OMICall, TEL4VN: w.TEL4VN, Journal: jj, RunID: w.run, Policy: w.Policy, Now: w.now, ClaimDirectly: true,
		LeaseTTL: w.leaseTTL(), LeaseRenewed: w.leaseRenewed}
	var jo *jobObserver
	if w.Observer != nil {
		jo = &jobObserver{Observer: w.Observer}
		r.Observer = jo
	}
	// A refused job goes again when the args ask, unless an earlier
	// attempt of this job may have written that refusal itself: a delivery
	// River repeats after its worker died does not send it again.
	if mayRetryRefused(job.JobRow) {
		r.RetryRefused, r.RetryCauses = c.RetryRefused, c.RetryCauses
	}
	if w.Limiter != nil {
		// A 429 pauses every replica at once, before this job is settled.
		r.OnRateLimit = func(d time.Duration) {
			if err := w.Limiter.Pause(context.WithoutCancel(ctx), d); err != nil {
				w.log("pausing the account", "err", err)
			}
		}
	}
	out, err := r.RunOne(ctx, bj)
	if jj.held != nil && err != nil {
		// The outcome is known and will be written (writeLater): River is
		// told what it says, as if it were written now.
		out.State, out.Record, err = jj.held.State, *jj.held, nil
		if jo != nil && jo.end != nil {
			jo.end.State, jo.end.JournalFailed = jj.held.State, false
		}
	}
	jo.report(ctx)
	if !out.Skipped && (out.State == batch.Refused || out.State == batch.Unknown) {
		w.log("job "+string(out.State), "key", bj.Key, "cause", out.Record.Cause)
	}
	return w.river(ctx, bj.Key, out, err)
}

// nothingSentError is an attempt's error that River retries: the attempt
// neither placed nor refused anything (a journal or network failure, an
// unsent outcome). Its text starts with nothingSentPrefix.
type nothingSentError struct{ err error }

const nothingSentPrefix = "autocallriver: nothing sent, River tries again: "

func (e *nothingSentError) Error() string { return nothingSentPrefix + e.err.Error() }
func (e *nothingSentError) Unwrap() error { return e.err }

// mayRetryRefused: the job's retry_refused / retry_causes may take its key
// back from Refused at this attempt: no earlier attempt of this job can
// have written that refusal, because each ended with a nothingSentError
// (snoozes are not attempts). An attempt River rescued after its worker
// died, or one that panicked, may have; then the refusal stands.
func mayRetryRefused(job *rivertype.JobRow) bool {
	if job.Attempt <= 1 {
		return true
	}
	if len(job.Errors) < job.Attempt-1 {
		return false
	}
	for _, e := range job.Errors {
		if !strings.HasPrefix(e.Error, nothingSentPrefix) {
			return false
		}
	}
	return true
}

// river is the package doc's table: a job's outcome as River's.
func (w *Worker) river(ctx context.Context, key string, out batch.Outcome, err error) error {
	rec := out.Record
	now := w.now
	switch {
	case err != nil && out.State == batch.Unknown:
		// The outcome could not be written: the claim holds, Unknown.
		return river.JobCancel(&JobError{Key: key, State: batch.Unknown, Reason: err.Error()})
	case err != nil:
		return err // nothing claimed (the journal failed): River retries
	case out.Deferred != nil:
		return river.JobSnooze(max(out.Deferred.NotBefore.Sub(now()), time.Second))
	case out.InFlight:
		// Claimed by a live worker elsewhere (River rescued a job still
		// running there): look again once its lease could have lapsed.
		return river.JobSnooze(w.leaseTTL())
	}
	switch out.State {
	case batch.Placed:
		return nil // completed (in the outcome's transaction when sent now)
	case batch.Refused:
		return river.JobCancel(&JobError{Key: key, State: batch.Refused, Cause: rec.Cause, Reason: rec.Reason})
	case batch.Unknown, batch.Claimed:
		return river.JobCancel(&JobError{Key: key, State: batch.Unknown, Reason: rec.Reason})
	case batch.Unsent:
		if rec.Cause == batch.CauseRate {
			if out.Skipped {
				// Held back by the account's pause at the claim (a 429
				// elsewhere): snoozed until it ends.
				return river.JobSnooze(max(rec.NotBefore.Sub(now()), time.Millisecond))
			}
			if w.Limiter != nil {
				_ = w.Limiter.Pause(context.WithoutCancel(ctx), out.RetryAfter)
			}
			return river.JobSnooze(out.RetryAfter)
		}
		if !rec.NotBefore.IsZero() && rec.NotBefore.After(now()) {
			return river.JobSnooze(rec.NotBefore.Sub(now()))
		}
		if out.Err == nil {
			out.Err = fmt.Errorf("autocallriver: job %q left unsent (%s)", key, rec.Cause)
		}
		return out.Err // network, token, auth: River retries with backoff
	case "":
		// Nothing recorded: ctx ended before the claim, or the
		// Do-Not-Call list failed.
		if ctx.Err() != nil {
			return river.JobSnooze(0)
		}
		if out.Err != nil {
			return out.Err
		}
		return fmt.Errorf("autocallriver: job %q: nothing was recorded", key)
	}
	// A state this table does not know may have called: never retried.
	return river.JobCancel(&JobError{Key: key, State: batch.Unknown, Reason: "unexpected state " + string(out.State)})
}

// hostNow is this host's clock (a variable for the tests: a host whose
// clock is off).
var hostNow = time.Now
