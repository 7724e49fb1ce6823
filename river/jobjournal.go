package autocallriver

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/autocallvn/autocall-go/batch"
)

// jobJournal is the journal as one River job's worker sees it: a placed
// outcome is written in the transaction that completes the River job
// (JobCompleteTx), so the job is completed exactly when its outcome is
// recorded; and an outcome the worker holds is written again and again
// while the database is unreachable, for up to Worker.SettleFor, rather
// than left to read Unknown.
type jobJournal struct {
	*Journal
	w *Worker
	// job is the River job worked: an OTP job's code leaves its args once
	// the job has ended for good (scrub).
	job *rivertype.JobRow
	// blanked is set when the code left in the placed outcome's
	// transaction (finish): work need not blank it again.
	blanked  *bool
	complete func(ctx context.Context, tx pgx.Tx) error
	// answered is called when the job's outcome is known, before it is
	// written: it frees the worker's place (NewClient) for the next job.
	answered func()
	// held is the outcome Settle gave up writing after Worker.SettleFor:
	// the worker writes it later (writeLater), and tells River what it
	// says.
	held *batch.Record
}

func (jj *jobJournal) Settle(ctx context.Context, rec batch.Record) error {
	jj.answered()
	ctx = context.WithoutCancel(ctx) // an outcome held is written, shutdown or not
	deadline := time.Now().Add(jj.w.settleFor())
	wait := 50 * time.Millisecond
	completed := false
	for {
		var err error
		if rec.State == batch.Placed && !completed {
			if err = jj.isClosed(); err == nil {
				_, err = jj.settle(ctx, rec, nil, jj.finish)
			}
			if err == nil {
				jj.Settled(rec.Key)
				*jj.blanked = holdsSecret(jj.job) // in that transaction (finish)
				return nil
			}
			if !isConnErr(err) {
				// River would not complete the job in this transaction (it
				// is no longer running here): the outcome is written alone,
				// and the job completes when the worker returns.
				completed = true
				continue
			}
		} else {
			err = jj.Journal.Settle(ctx, rec)
			if err == nil {
				return nil
			}
		}
		if time.Now().Add(wait).After(deadline) {
			jj.held = &rec
			jj.w.writeLater(rec, jj.job)
			return err
		}
		jj.w.log("writing an outcome: the database is unreachable, trying again", "key", rec.Key, "err", err)
		time.Sleep(wait)
		wait = min(wait*2, 2*time.Second)
	}
}

// finish is the end of a placed job's outcome transaction p: River's
// completion (complete), and an OTP job's code blanked with them, so that
// the code leaves the job's args exactly when the job completes.
func (jj *jobJournal) finish(ctx context.Context, p *pipe) error {
	if err := jj.complete(ctx, p.tx()); err != nil {
		return err
	}
	if holdsSecret(jj.job) {
		p.b.Queue(jj.w.blankSQL(), jj.job.ID)
	}
	return nil
}

// scrubSQL blanks an OTP job's code in River's row ("code": ""), which
// River keeps after the job's end (CompletedJobRetentionPeriod, 24 hours
// by default; cancelled jobs as long). "" rather than no field: the args
// keep their schema, and a job worked again (an operator's JobRetry, a
// rescue) is refused by batch's check before anything is sent, as an
// empty code always was; its key is settled, so that refusal claims and
// writes nothing (TestScrubbedJobWorkedAgainSendsNothing). River's table
// is in schema (NewClient's Config.Schema), or where the search path finds it (a
// Worker registered on a client of your own).
func scrubSQL(schema string) string {
	table := "river_job"
	if schema != "" {
		table = pgx.Identifier{schema, "river_job"}.Sanitize()
	}
	return `UPDATE ` + table + ` SET args = jsonb_set(args, '{code}', '""')
	WHERE id = $1 AND kind = 'autocall_otp' AND args->>'code' <> ''`
}

// blankSQL is the Worker's scrubSQL: NewClient's schema's, or the search
// path's for a Worker registered on a client of its own.
func (w *Worker) blankSQL() string {
	if w.scrubStmt != "" {
		return w.scrubStmt
	}
	return scrubSQL("")
}

// holdsSecret: job's args carry a secret, an OTP's code (TTS and OMICall
// args hold template values and numbers, personal but no secret).
func holdsSecret(job *rivertype.JobRow) bool { return job != nil && job.Kind == KindOTP }

// ended: a job whose key the journal holds in state ends for good (River
// completes or cancels it, never retries it): Unsent alone is tried again.
func ended(state batch.State) bool {
	return state == batch.Placed || state == batch.Refused || state == batch.Unknown
}

// scrub blanks an OTP job's code once the job has ended for good (River
// cancels or completes it next), best effort: a failure is logged, and
// the code stays for River's retention.
func (w *Worker) scrub(ctx context.Context, job *rivertype.JobRow) {
	if !holdsSecret(job) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := w.Journal.pool.Exec(ctx, w.blankSQL(), job.ID); err != nil {
		// The error is the database's (a statement or connection error),
		// which never quotes the args.
		w.log("blanking an ended OTP job's code in River's args", "job", job.ID, "err", err)
	}
}

// writeLater writes an outcome the worker holds once the database is
// back, until the worker is closed: left as it was, the job's claim would
// read Claimed (in flight) under this worker's live lease for as long as
// the worker ran, out of reach of Resolve and SettleFromEvents. If the
// worker stops first, its lease ends and the claim reads Unknown. River
// has been told the outcome meanwhile: an OTP job that ended has its code
// blanked after the write (job).
func (w *Worker) writeLater(rec batch.Record, job *rivertype.JobRow) {
	w.closeMu.Lock()
	defer w.closeMu.Unlock()
	if w.closing {
		return // the worker is stopping: its lease ends, the claim reads Unknown
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for wait := time.Second; ; wait = min(wait*2, 15*time.Second) {
			err := w.Journal.Settle(context.Background(), rec)
			if err == nil || !isConnErr(err) {
				if err == nil {
					w.log("an outcome held while the database was unreachable is written", "key", rec.Key, "state", rec.State)
				} else {
					w.log("an outcome held while the database was unreachable could not be written; the job reads Unknown once this worker stops", "key", rec.Key, "err", err)
				}
				// work's blanking met the outage: the database is back.
				if ended(rec.State) {
					w.scrub(context.Background(), job)
				}
				return
			}
			select {
			case <-w.stopped:
				return
			case <-time.After(wait):
			}
		}
	}()
}

// Claim is the journal's, checking the account's pause in the claim's
// transaction (claimUnpaused); and when its COMMIT's answer is lost (the
// connection failed: the claim may have been written) the claim is taken
// back: batch sends nothing after a failed claim, so this worker knows
// that nothing left, and the job is Unsent, for River's next attempt. Left
// alone, the claim would read Claimed (in flight) under this worker's live
// lease for as long as the worker runs, and the job be snoozed as another
// worker's until then.
func (jj *jobJournal) Claim(ctx context.Context, req batch.ClaimRequest) (bool, batch.Record, error) {
	var account string
	if jj.w.Limiter != nil {
		account = jj.w.Limiter.account()
	}
	ok, cur, err := jj.Journal.claimUnpaused(ctx, req, account)
	if err != nil && isConnErr(err) && !req.Record.Time.IsZero() {
		jj.unclaim(context.WithoutCancel(ctx), req.Record)
	}
	return ok, cur, err
}

// unclaim writes rec's key Unsent if it holds the claim rec made (same
// time), trying while the database is unreachable for up to SettleFor.
func (jj *jobJournal) unclaim(ctx context.Context, rec batch.Record) {
	expect := batch.Record{Key: rec.Key, State: batch.Claimed, Time: rec.Time}
	unsent := batch.Record{Key: rec.Key, State: batch.Unsent, Time: time.Now(),
		Reason: "the claim's commit was not confirmed (the database connection failed) and nothing was sent"}
	deadline := time.Now().Add(jj.w.settleFor())
	for wait := 50 * time.Millisecond; ; wait = min(wait*2, 2*time.Second) {
		_, err := jj.SettleIf(ctx, unsent, expect)
		if err == nil || !isConnErr(err) {
			return
		}
		if time.Now().Add(wait).After(deadline) {
			jj.w.log("taking back a claim whose commit was not confirmed: the database is unreachable; it reads Unknown once this worker stops", "key", rec.Key, "err", err)
			return
		}
		time.Sleep(wait)
	}
}

// isConnErr: err may be the database being unreachable (or restarting),
// not a refusal of the statement.
func isConnErr(err error) bool {
	if errors.Is(err, rivertype.ErrNotFound) {
		return false // JobCompleteTx: River no longer has the job
	}
	var pgErr interface{ SQLState() string }
	if asSQLState(err, &pgErr) {
		s := pgErr.SQLState()
		// 08: connection exception; 57P: operator intervention (shutdown,
		// crash recovery); 53: insufficient resources.
		return len(s) >= 2 && (s[:2] == "08" || s[:3] == "57P" || s[:2] == "53")
	}
	return true // no SQL state: the connection, not the statement
}

func asSQLState(err error, target *interface{ SQLState() string }) bool {
	for e := err; e != nil; {
		if s, ok := e.(interface{ SQLState() string }); ok {
			*target = s
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}
