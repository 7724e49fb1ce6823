// Package batch runs many call-creating requests so that nobody is phoned
// twice: not when a job list is run again, not when the process died half
// way, not when an answer was lost.
//
// Each Job carries a key of the user's choosing. Before its request leaves,
// the job is recorded in a Journal as claimed, durably; after the answer,
// its outcome: placed, refused, unsent (provably never reached the
// provider) or unknown (it may have). Running the same jobs with the same
// journal again sends only the unsent ones (and the refused ones, when
// asked); unknown ones are reported, never resent, until Resolve settles
// them — by hand, or from the provider's call events (SettleFromEvents).
//
//	j, err := batch.OpenFile("reminders.journal")
//	defer j.Close()
//	r := &batch.Runner{TEL4VN: client, Journal: j, Workers: 8, Rate: 20}
//	rep, err := r.Run(ctx, jobs)
//	// rep.Placed, rep.Refused, rep.Unknown, …: they add up to len(jobs).
package batch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"

	autocall "github.com/autocallvn/autocall-go"
)

// Runner runs jobs through a journal. Its fields are read when Run starts.
type Runner struct {
	OMICall *autocall.Client // for ByPhone and ByExtension jobs
	TEL4VN  *autocall.Client // for OTP and TTS jobs
	Journal Journal

	// Workers sends this many jobs at once (default 4).
	Workers int
	// Rate bounds requests per second across workers (0: no bound), with
	// bursts of Burst (default 1).
	Rate  rate.Limit
	Burst int
	// RetryRefused sends again the jobs the journal holds as refused, once
	// their cause has been fixed.
	RetryRefused bool
	// Progress, when set, is called after each job, from one goroutine.
	Progress func(Progress)
}

// Progress is how far a run is.
type Progress struct {
	Total, Done                      int
	Placed, Refused, Unknown, Unsent int // by this run
	Skipped                          int // settled by an earlier run, or unknown from one
	Rate                             float64
	Left                             int
	ETA                              time.Duration
	Elapsed                          time.Duration
	LastKey                          string
	LastState                        State
	LastErr                          error
	PausedUntil                      time.Time // a 429 paused every worker until then
	Stopped                          bool
}

// Report is what a run did. Its counts add up to the number of jobs:
// Placed + Refused + Unknown + Unsent + AlreadyPlaced + AlreadyRefused +
// StillUnknown.
type Report struct {
	Total int
	// By this run.
	Placed, Refused, Unknown, Unsent int
	// Left as an earlier run settled them.
	AlreadyPlaced, AlreadyRefused, StillUnknown int
	// UnknownKeys: this run's and earlier runs' jobs whose outcome is
	// unknown: look each up, then Resolve it.
	UnknownKeys []string
	// Stopped is why the run stopped before the end: a quota the provider
	// says is spent (ErrLimitService, ErrBalanceNotEnough, a daily
	// ErrLimitWord), a refused credential, or ctx. The jobs not started are
	// Unsent.
	Stopped error
	Elapsed time.Duration
}

// Run sends each job at most once, ever, through the journal. It returns
// when every job is settled or the run stopped. A cancelled ctx stops
// taking new jobs; those in flight finish and are recorded. The error is
// for the run itself (the journal failing, bad arguments); the jobs'
// outcomes are in the Report.
func (r *Runner) Run(ctx context.Context, jobs []Job) (*Report, error) {
	if r.Journal == nil {
		return nil, errors.New("batch: Runner.Journal is nil")
	}
	seen := make(map[string]bool, len(jobs))
	for i, j := range jobs {
		switch {
		case j.Key == "":
			return nil, fmt.Errorf("batch: jobs[%d] has no key", i)
		case j.Op == nil:
			return nil, fmt.Errorf("batch: job %q has no operation", j.Key)
		case seen[j.Key]:
			return nil, fmt.Errorf("batch: key %q is given twice", j.Key)
		case r.client(j.Op) == nil:
			return nil, fmt.Errorf("batch: job %q is a %s job and Runner.%s is nil", j.Key, j.Op.kind(), j.Op.provider())
		}
		seen[j.Key] = true
	}
	workers := r.Workers
	if workers <= 0 {
		workers = 4
	}
	st := &runState{r: r, start: time.Now(), total: len(jobs)}
	if r.Rate > 0 {
		st.limiter = rate.NewLimiter(r.Rate, max(r.Burst, 1))
	}
	// Jobs in flight finish after ctx ends: their outcome must be recorded.
	// A 429 anywhere pauses every worker.
	sendCtx := autocall.WithRateLimitNotice(context.WithoutCancel(ctx), st.pause)
	stopCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	st.stopCtx, st.stop = stopCtx, stop

	queue := make(chan Job)
	results := make(chan jobResult)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				results <- st.runJob(stopCtx, sendCtx, j)
			}
		}()
	}
	go func() {
		defer close(queue)
		for _, j := range jobs {
			select {
			case <-stopCtx.Done():
				return
			case queue <- j:
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	rep := &Report{Total: len(jobs)}
	done := 0
	var journalErr error
	for res := range results {
		done++
		if res.journalErr != nil && journalErr == nil {
			journalErr = res.journalErr
			stop(res.journalErr)
		}
		if res.state == Unknown {
			rep.UnknownKeys = append(rep.UnknownKeys, res.key)
		}
		rep.count(res)
		st.progress(rep, res, done)
	}
	rep.Unsent += len(jobs) - done // never started: the run stopped first
	sort.Strings(rep.UnknownKeys)
	rep.Elapsed = time.Since(st.start)
	// A stop of the run's own (a quota, the journal) is reported whenever it
	// came; the caller's ctx ending only if it left jobs undone.
	if cause := context.Cause(stopCtx); cause != nil && (ctx.Err() == nil || done < len(jobs)) {
		rep.Stopped = cause
	}
	return rep, journalErr
}

func (r *Runner) client(op Op) *autocall.Client {
	if op.provider() == autocall.OMICall {
		return r.OMICall
	}
	return r.TEL4VN
}

// jobResult is one job's end in this run.
type jobResult struct {
	key        string
	state      State
	skipped    bool // settled by an earlier run
	err        error
	journalErr error
}

func (rep *Report) count(res jobResult) {
	switch {
	case res.journalErr != nil && res.state == "":
		rep.Unsent++ // not claimed: nothing was sent
	case res.skipped && res.state == Placed:
		rep.AlreadyPlaced++
	case res.skipped && res.state == Refused:
		rep.AlreadyRefused++
	case res.skipped:
		rep.StillUnknown++
	case res.state == Placed:
		rep.Placed++
	case res.state == Refused:
		rep.Refused++
	case res.state == Unknown:
		rep.Unknown++
	default:
		rep.Unsent++
	}
}

// runState is shared by a run's workers.
type runState struct {
	r       *Runner
	start   time.Time
	total   int
	limiter *rate.Limiter
	// stopCtx ends when the run stops taking jobs; its cause says why (the
	// first cause stands).
	stopCtx context.Context
	stop    context.CancelCauseFunc

	pauseMu     sync.Mutex
	pausedUntil time.Time
}

// halt stops the whole run: every later job would meet the same refusal.
func (st *runState) halt(err error) { st.stop(err) }

// runJob takes one job from claim to outcome.
func (st *runState) runJob(stopCtx, sendCtx context.Context, j Job) jobResult {
	res := jobResult{key: j.Key}
	rec := Record{Key: j.Key, Kind: j.Op.kind()}
	j.Op.describe(&rec)

	// A bad row is refused before anything is sent, and recorded so.
	if err := j.Op.check(); err != nil {
		cur, ok, gerr := st.r.Journal.Get(sendCtx, j.Key)
		if gerr != nil {
			res.journalErr = gerr
			return res
		}
		if ok && !claimable(cur.State, st.r.RetryRefused) {
			res.state, res.skipped = readState(cur.State), true
			return res
		}
		rec.State, rec.Reason = Refused, err.Error()
		res.state, res.err = Refused, err
		res.journalErr = st.r.Journal.Settle(sendCtx, rec)
		return res
	}

	for {
		if err := st.wait(stopCtx); err != nil {
			return res // stopped before sending: unsent, nothing recorded
		}
		claimed, cur, err := st.r.Journal.Claim(sendCtx, rec, st.r.RetryRefused)
		if err != nil {
			res.journalErr = err
			return res
		}
		if !claimed {
			res.state, res.skipped = readState(cur.State), true
			return res
		}
		out, err := j.Op.send(sendCtx, st.r.client(j.Op))
		final := st.classify(rec, out, err)
		if serr := st.r.Journal.Settle(sendCtx, final); serr != nil {
			res.journalErr = serr
		}
		res.state, res.err = final.State, err
		if final.State == Unsent && isHTTP429(err) && stopCtx.Err() == nil && res.journalErr == nil {
			continue // the pause is set: try again after it
		}
		return res
	}
}

// wait waits for the rate limiter and for a 429's pause.
func (st *runState) wait(ctx context.Context) error {
	for {
		st.pauseMu.Lock()
		until := st.pausedUntil
		st.pauseMu.Unlock()
		d := time.Until(until)
		if d <= 0 {
			break
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if st.limiter != nil {
		return st.limiter.Wait(ctx)
	}
	return ctx.Err()
}

// pause makes every worker wait d before its next request (a second when
// the provider said nothing).
func (st *runState) pause(d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	st.pauseMu.Lock()
	if until := time.Now().Add(d); until.After(st.pausedUntil) {
		st.pausedUntil = until
	}
	st.pauseMu.Unlock()
}

// classify turns a send's result into the record the journal keeps.
func (st *runState) classify(rec Record, out Record, err error) Record {
	rec.Time = time.Now()
	var apiErr *autocall.APIError
	if errors.As(err, &apiErr) {
		rec.Code = string(apiErr.Code)
	}
	if err != nil {
		rec.Reason = err.Error()
	}
	switch {
	case err == nil:
		rec.State, rec.CallIDs, rec.SessionID = Placed, out.CallIDs, out.SessionID
	case errors.Is(err, autocall.ErrOutcomeUnknown):
		rec.State = Unknown
	case isHTTP429(err):
		// Refused before any work; every worker waits, then this job goes again.
		rec.State = Unsent
		st.pause(apiErr.RetryAfter)
	case errors.Is(err, autocall.ErrNetwork):
		// Not wrapped in ErrOutcomeUnknown: the SDK proved it never left.
		rec.State = Unsent
	case errors.Is(err, autocall.ErrValidation):
		rec.State = Refused
	case isQuota(err):
		rec.State = Refused
		st.halt(fmt.Errorf("batch: stopped, every later job would be refused too: %w", err))
	default:
		rec.State = Refused
	}
	return rec
}

func isHTTP429(err error) bool {
	var apiErr *autocall.APIError
	return errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusTooManyRequests &&
		!errors.Is(err, autocall.ErrOutcomeUnknown)
}

// isQuota: a refusal that every later job would meet too. limit_word (the
// daily quota) stops the run; limit_word_session concerns one job's text.
func isQuota(err error) bool {
	var apiErr *autocall.APIError
	if errors.As(err, &apiErr) && apiErr.Code == autocall.CodeLimitWordSession {
		return false
	}
	return errors.Is(err, autocall.ErrLimitService) || errors.Is(err, autocall.ErrBalanceNotEnough) ||
		errors.Is(err, autocall.ErrLimitWord) || errors.Is(err, autocall.ErrUnauthorized)
}

// progress reports after each job, from the one goroutine that counts.
func (st *runState) progress(rep *Report, res jobResult, done int) {
	if st.r.Progress == nil {
		return
	}
	elapsed := time.Since(st.start)
	p := Progress{
		Total: st.total, Done: done, Left: st.total - done, Elapsed: elapsed,
		Placed: rep.Placed, Refused: rep.Refused, Unknown: rep.Unknown, Unsent: rep.Unsent,
		Skipped: rep.AlreadyPlaced + rep.AlreadyRefused + rep.StillUnknown,
		LastKey: res.key, LastState: res.state, LastErr: res.err,
		Stopped: st.stopCtx.Err() != nil,
	}
	if secs := elapsed.Seconds(); secs > 0 {
		p.Rate = float64(done) / secs
		if p.Rate > 0 {
			p.ETA = time.Duration(float64(p.Left) / p.Rate * float64(time.Second))
		}
	}
	st.pauseMu.Lock()
	p.PausedUntil = st.pausedUntil
	st.pauseMu.Unlock()
	st.r.Progress(p)
}
