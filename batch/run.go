package batch

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

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
	// bursts of Burst (default 1). Only jobs that are sent wait for it:
	// jobs the journal already settled are passed over at once.
	Rate  rate.Limit
	Burst int
	// RetryRefused sends again every job the journal holds as refused,
	// once the cause has been fixed; RetryCauses only those refused for
	// one of these causes (CauseQuota, CauseTemplate, …), RetryKeys only
	// those of these keys. The choice is made atomically with each claim.
	RetryRefused bool
	RetryCauses  []string
	RetryKeys    []string
	// AllowForgotten sends the jobs whose key the journal forgot: placed
	// before its Retention, their record dropped, a tombstone kept. Without
	// it such a job is Refused with CauseForgotten (ErrForgotten) and not
	// sent: an old job list run again must not phone everyone again.
	AllowForgotten bool
	// MaxPause is the longest the run waits when the provider asks it to
	// slow down (a 429, or a rate-limit code, with its Retry-After; a
	// second when it names none), even beyond the client's
	// RetryPolicy.MaxDelay. A longer pause stops the run, the rest left
	// Unsent, with a *PauseError saying when to run again. Default 60s.
	MaxPause time.Duration
	// RunID names this run in the records it claims (Record.Run) and its
	// lease (Journal.Lease); a random one when empty. Workers on several
	// hosts running one job list may share one, and so its lease: each
	// renews it. Never reuse one.
	RunID string
	// LeaseTTL is how long the run's claims stay live in the journal
	// without a renewal (Journal.Lease): the run renews its lease every
	// LeaseTTL/3 and ends it when it finishes. A peer's claim whose lease
	// lapsed (its process died) reads as Unknown. Default 15s.
	LeaseTTL time.Duration
	// OnRateLimit, when set, is told of every 429 (or rate-limit code) the
	// provider answers a create, with its Retry-After, before the job is
	// settled: a job engine with workers in other processes pauses them
	// too (autocallriver's Limiter). The run pauses its own workers
	// whether or not it is set.
	OnRateLimit func(retryAfter time.Duration)
	// Progress, when set, is called after each job, from one goroutine.
	Progress func(Progress)

	// Policy holds advertising jobs (Job.Purpose) to Decree 91/2020/NĐ-CP;
	// nil: the decree's rules, with no Do-Not-Call list. Transactional
	// jobs are not held to it.
	Policy *Policy
	// Now is the clock of the Policy and of the times recorded (default
	// time.Now): a test sets it to a sandbox's (autocalltest.Server.Now).
	Now func() time.Time
	// Observer, when set, is told of each job's end and times each claim
	// and settle.
	Observer Observer
	// LeaseRenewed, for RunOne (Run keeps its own), tells when the lease of RunID (which its
	// caller holds and renews) was last renewed: when the renewal that
	// succeeded was sent, by this process's clock; zero when none has.
	// With it, RunOne checks before each send, as Run does, that the lease
	// has a quarter of LeaseTTL left; otherwise nothing is sent, the claim
	// is written back Unsent and Outcome.Halt wraps ErrLeaseLost. Without
	// it, RunOne trusts the caller's lease.
	LeaseRenewed func() time.Time
	// ClaimDirectly takes each job straight to the journal's Claim, without
	// the Get before it. The outcome is the same (Claim reads the record
	// under its lock, and hands back one it may not claim); what is given
	// up is the read that passes over a settled job without a claim's
	// transaction, and a deferred advertising job met before its NotBefore
	// is written again. For a job engine whose jobs are mostly new keys
	// (autocallriver's worker), it spares each job a round trip.
	ClaimDirectly bool
}

// DefaultMaxPause is Runner.MaxPause when it is zero.
const DefaultMaxPause = 60 * time.Second

// DefaultLeaseTTL is Runner.LeaseTTL when it is zero.
const DefaultLeaseTTL = 15 * time.Second

// Progress is how far a run is.
type Progress struct {
	Total, Done                      int
	Placed, Refused, Unknown, Unsent int // by this run
	Skipped                          int // settled by an earlier run or a peer, or unknown from one
	Rate                             float64
	Left                             int
	ETA                              time.Duration
	Elapsed                          time.Duration
	LastKey                          string
	LastState                        State
	LastErr                          error
	PausedUntil                      time.Time // a rate limit paused every worker until then
	Stopped                          bool
}

// Report is what a run did. Its counts add up to the number of jobs:
// Placed + Refused + Unknown + Unsent + AlreadyPlaced + AlreadyRefused +
// StillUnknown + Elsewhere.
type Report struct {
	Total int
	// RunID is the name this run gave its claims (Runner.RunID, or the
	// one it made): what its records' Run holds.
	RunID string
	// By this run, as the journal records them: a job whose outcome could
	// not be written is Unknown, whatever the answer was, since the
	// journal holds its claim.
	Placed, Refused, Unknown, Unsent int
	// Forgotten, of Refused: jobs refused because the journal forgot
	// their key (placed before its Retention; CauseForgotten): nothing was
	// sent. Runner.AllowForgotten sends them.
	Forgotten int
	// Left as an earlier run (or a peer) settled them.
	AlreadyPlaced, AlreadyRefused, StillUnknown int
	// Elsewhere: jobs claimed by another run (a peer on another host
	// sharing the journal, or one under this RunID) whose lease was still
	// live when this run ended and which it had not settled: in flight
	// there, not unknown. A claim whose run's lease lapsed is StillUnknown.
	// ElsewhereKeys lists them.
	Elsewhere     int
	ElsewhereKeys []string
	// UnknownKeys: this run's and earlier runs' jobs whose outcome is
	// unknown (a dead run's claims included): look each up, then Resolve
	// it.
	UnknownKeys []string
	// Deferred lists this run's advertising jobs the Policy held back,
	// sorted by key: counted in Unsent, each with when it may go.
	Deferred []Deferral
	// Stopped is why the run stopped before the end: a quota the provider
	// says is spent (ErrLimitService, ErrBalanceNotEnough, a daily
	// ErrLimitWord), a refused credential, a pause longer than MaxPause
	// (*PauseError), or ctx. The jobs not started are Unsent.
	Stopped error
	Elapsed time.Duration
}

// PauseError stops a run whose provider asked for a pause longer than
// Runner.MaxPause. The jobs not sent are Unsent: run again after Until.
// It matches autocall.ErrRateLimited.
type PauseError struct {
	Asked time.Duration // the provider's Retry-After
	Until time.Time     // when the provider is willing again
}

func (e *PauseError) Error() string {
	return fmt.Sprintf("batch: stopped: the provider asks for a pause of %s, longer than Runner.MaxPause; run again after %s",
		e.Asked.Round(time.Second), e.Until.Format(time.RFC3339))
}

// Is matches autocall.ErrRateLimited.
func (e *PauseError) Is(target error) bool { return target == autocall.ErrRateLimited }

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
			return nil, fmt.Errorf("%w: jobs[%d] has no key", ErrBadKey, i)
		case !utf8.ValidString(j.Key):
			return nil, fmt.Errorf("%w: jobs[%d]'s key %q is not UTF-8", ErrBadKey, i, j.Key)
		case j.Op == nil:
			return nil, fmt.Errorf("batch: job %q has no operation", j.Key)
		case seen[j.Key]:
			return nil, fmt.Errorf("batch: key %q is given twice", j.Key)
		case r.client(j.Op) == nil:
			return nil, fmt.Errorf("batch: job %q is a %s job and Runner.%s is nil", j.Key, j.Op.kind(), j.Op.provider())
		}
		seen[j.Key] = true
	}
	policy, err := r.policy(jobs)
	if err != nil {
		return nil, err
	}
	if r.Observer != nil {
		r = r.observed()
	}
	workers := r.Workers
	if workers <= 0 {
		workers = 4
	}
	st := &runState{r: r, start: time.Now(), total: len(jobs), runID: r.RunID, maxPause: r.MaxPause, policy: policy}
	st.clockStart = st.start
	if r.Now != nil {
		st.clockStart = r.Now()
	}
	if st.runID == "" {
		st.runID = newRunID(st.start)
	}
	if st.maxPause <= 0 {
		st.maxPause = DefaultMaxPause
	}
	if len(r.RetryKeys) > 0 {
		st.retryKeys = make(map[string]bool, len(r.RetryKeys))
		for _, k := range r.RetryKeys {
			st.retryKeys[k] = true
		}
	}
	if r.Rate > 0 {
		st.limiter = rate.NewLimiter(r.Rate, max(r.Burst, 1))
	}
	// Jobs in flight finish after ctx ends: their outcome must be recorded.
	// A 429 anywhere pauses every worker; the SDK leaves its resend to us.
	sendCtx := context.WithoutCancel(ctx)
	st.onLimit = st.rateLimitOption()
	stopCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	st.stopCtx, st.stop = stopCtx, stop
	endLease, err := st.lease(ctx)
	if err != nil {
		return nil, err
	}

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
	var elsewhere []string // claimed by a peer during this run: looked at again at the end
	for res := range results {
		done++
		if res.journalErr != nil && journalErr == nil {
			journalErr = res.journalErr
			stop(res.journalErr)
		}
		if res.elsewhere {
			elsewhere = append(elsewhere, res.key)
		} else {
			rep.count(res)
		}
		st.observeJob(ctx, res)
		st.progress(rep, res, done, len(elsewhere))
	}
	rep.Unsent += len(jobs) - done // never started: the run stopped first
	if err := st.settleElsewhere(ctx, rep, elsewhere); err != nil && journalErr == nil {
		journalErr = err
	}
	if err := endLease(); err != nil && journalErr == nil {
		journalErr = err
	}
	sort.Strings(rep.UnknownKeys)
	sort.Strings(rep.ElsewhereKeys)
	sort.Slice(rep.Deferred, func(a, b int) bool { return rep.Deferred[a].Key < rep.Deferred[b].Key })
	rep.Elapsed = time.Since(st.start)
	rep.RunID = st.runID
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

// newRunID is a run's name: when it started, and 8 random bytes.
func newRunID(start time.Time) string {
	var b [8]byte
	_, _ = crand.Read(b[:])
	return start.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// jobResult is one job's end in this run.
type jobResult struct {
	key        string
	state      State
	skipped    bool // settled by an earlier run, or a peer
	elsewhere  bool // claimed by a peer during this run, not settled when met
	deferred   *Deferral
	forgotten  bool // refused: the journal forgot the key (CauseForgotten)
	err        error
	journalErr error
}

func (rep *Report) count(res jobResult) {
	if res.state == Unknown {
		rep.UnknownKeys = append(rep.UnknownKeys, res.key)
	}
	if res.deferred != nil {
		rep.Deferred = append(rep.Deferred, *res.deferred)
	}
	if res.forgotten {
		rep.Forgotten++
	}
	switch {
	case res.journalErr != nil && res.state == "":
		rep.Unsent++ // not claimed: nothing was sent
	case res.skipped && res.state == Placed:
		rep.AlreadyPlaced++
	case res.skipped && res.state == Refused:
		rep.AlreadyRefused++
	case res.skipped && res.state == Unsent:
		rep.Unsent++ // a peer left it unsent: the next run sends it
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

// settleElsewhere reads again, at the end, the jobs another live run had
// claimed when this run met them: settled since, they count as that run
// left them; still claimed at a live run, they are in flight there; left
// by a run whose lease lapsed meanwhile, they are unknown.
func (st *runState) settleElsewhere(ctx context.Context, rep *Report, keys []string) error {
	var firstErr error
	for _, k := range keys {
		cur, ok, err := st.r.Journal.Get(context.WithoutCancel(ctx), k)
		if err != nil || !ok || cur.State == Claimed {
			if err != nil && firstErr == nil {
				firstErr = err
			}
			rep.Elsewhere++
			rep.ElsewhereKeys = append(rep.ElsewhereKeys, k)
			continue
		}
		rep.count(jobResult{key: k, state: readState(cur.State), skipped: true})
	}
	return firstErr
}

// lease takes the run's lease in the journal before its first claim and
// renews it every ttl/3 until the returned end, which ends it. A renewal
// that fails stops the run (jobs in flight finish): its claims would soon
// read as a dead run's to its peers. One that hangs is caught before each
// send (leaseLive).
func (st *runState) lease(ctx context.Context) (end func() error, err error) {
	ttl := st.r.LeaseTTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	st.leaseTTL = ttl
	bg := context.WithoutCancel(ctx)
	renew := func() error {
		at := time.Now() // before the call: the lease runs from no earlier
		if err := st.r.Journal.Lease(bg, st.runID, ttl); err != nil {
			return err
		}
		st.leaseMu.Lock()
		st.leaseFrom = at
		st.leaseMu.Unlock()
		return nil
	}
	if err := renew(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := renew(); err != nil {
					st.halt(fmt.Errorf("%w: renewing it: %w", ErrLeaseLost, err))
				}
			}
		}
	}()
	return func() error {
		close(done)
		wg.Wait()
		return st.r.Journal.Lease(bg, st.runID, 0)
	}, nil
}

// runState is shared by a run's workers.
type runState struct {
	r         *Runner
	start     time.Time
	total     int
	runID     string
	maxPause  time.Duration
	retryKeys map[string]bool
	limiter   *rate.Limiter

	clockStart time.Time // start by Runner.Now, the clock claims are recorded by
	policy     *Policy   // for advertising jobs; nil when there are none
	// stopCtx ends when the run stops taking jobs; its cause says why (the
	// first cause stands).
	stopCtx context.Context
	stop    context.CancelCauseFunc

	pauseMu     sync.Mutex
	pausedUntil time.Time
	onLimit     autocall.CreateOption // every create's: a 429 pauses the run

	// The run's lease (Run; in RunOne, whose caller holds it, 0 unless
	// Runner.LeaseRenewed is set): when the last renewal that succeeded
	// was sent, by this process's clock.
	leaseTTL  time.Duration
	leaseMu   sync.Mutex
	leaseFrom time.Time
	leaseOf   func() time.Time // RunOne's Runner.LeaseRenewed
}

// leaseLive reports whether the run's lease surely has a quarter of its
// ttl left: the last renewal that succeeded was sent less than 3/4 ttl ago
// (renewals go every ttl/3, so one may be late by ttl/2 before a send
// waits on it). Measured by this process's monotonic clock
// from before the renewal was sent, it holds whatever the journal's clock
// says, and however long the process was paused; it is how long ago the
// lease was last renewed.
func (st *runState) leaseLive() (bool, time.Duration) {
	if st.leaseTTL <= 0 {
		return true, 0
	}
	st.leaseMu.Lock()
	from := st.leaseFrom
	st.leaseMu.Unlock()
	if st.leaseOf != nil {
		from = st.leaseOf() // RunOne: the caller's lease
	}
	if from.IsZero() {
		return false, st.leaseTTL // never renewed: no lease to send under
	}
	since := time.Since(from)
	return since < st.leaseTTL-st.leaseTTL/4, since
}

// leaseLapsed ends a job claimed but not sent because the run's lease may
// have lapsed (a renewal hung, the process was paused): its claim may
// already read as a dead run's to a peer, and be resolved and sent there,
// so its create does not leave. The claim is written back as Unsent, only
// while it is still this run's (SettleIf), and the run stops.
func (st *runState) leaseLapsed(ctx context.Context, key string, since time.Duration, res jobResult) jobResult {
	why := fmt.Errorf("%w: it was last renewed %s ago, and its ttl is %s; nothing was sent", ErrLeaseLost, since.Round(time.Millisecond), st.leaseTTL)
	st.halt(why)
	res.err = why
	cur, ok, err := st.r.Journal.Get(ctx, key)
	switch {
	case err != nil:
		res.journalErr, res.state = err, Unknown // the claim holds
		return res
	case !ok:
		// The record is gone (compacted away under us): this run sent
		// nothing, and nothing stands in the journal to report.
		res.state = Unsent
		return res
	case cur.State != Claimed || cur.Run != st.runID:
		return st.skip(res, cur) // changed since the claim: no longer ours
	}
	back := Record{Key: key, State: Unsent, Time: st.r.now(), Reason: "not sent: " + why.Error()}
	settled, err := st.r.Journal.SettleIf(ctx, back, cur)
	switch {
	case err != nil:
		res.journalErr, res.state = err, Unknown
	case settled:
		res.state = Unsent
	default:
		res.state = Unknown // changed under us: the journal reads it so, or a peer's now
		if now, ok, err := st.r.Journal.Get(ctx, key); err == nil && ok {
			return st.skip(res, now)
		}
	}
	return res
}

// halt stops the whole run: every later job would meet the same refusal.
func (st *runState) halt(err error) { st.stop(err) }

// retryFor is which refused records job key may claim again.
func (st *runState) retryFor(key string) Resend {
	return Resend{Refused: st.r.RetryRefused || st.retryKeys[key], Causes: st.r.RetryCauses, Forgotten: st.r.AllowForgotten}
}

// maxRateTries bounds how often one job goes again after the provider
// asked the batch to slow down; then it is left Unsent for the next run.
const maxRateTries = 8

// runJob takes one job from claim to outcome.
func (st *runState) runJob(stopCtx, sendCtx context.Context, j Job) jobResult {
	res := jobResult{key: j.Key}
	rec := Record{Key: j.Key, Kind: j.Op.kind(), Run: st.runID}
	j.Op.describe(&rec)
	retry := st.retryFor(j.Key)

	if !st.r.ClaimDirectly {
		// A settled job costs nothing: no wait for the limiter, no claim.
		cur, had, err := st.r.Journal.Get(sendCtx, j.Key)
		if err != nil {
			res.journalErr = err
			return res
		}
		if had && !retry.Claimable(cur) {
			return st.skip(res, cur)
		}
		// A job deferred until a time still to come is deferred again
		// without a write: a cron run every few minutes overnight would
		// otherwise claim and settle each deferred row each time.
		if d := deferralOf(cur); had && d != nil && st.advertising(j) && st.r.now().Before(d.NotBefore) && !agreedTo(j.Agreed, d.Cause) {
			return st.deferred(sendCtx, j, rec, d, false, res)
		}
	}

	// A bad row is refused before anything is sent, and recorded so. It is
	// claimed first, as a send is: on a shared journal a peer may have
	// placed the job since the Get above, and a bare write would hide it.
	if err := j.Op.check(); err != nil {
		return st.refuse(sendCtx, rec, retry, causeOf(err), err, res)
	}
	adv := st.advertising(j)
	req := ClaimRequest{Resend: retry}
	if adv {
		rec.Purpose = Advertising
		if j.Agreed&AgreedFrequency == 0 {
			req.Interval = st.policy.interval()
		}
		if st.doNotCall(sendCtx, j, rec, retry, &res) {
			return res
		}
	}

	for try := 1; ; try++ {
		if d := st.shut(j); d != nil {
			return st.deferShut(sendCtx, j, rec, retry, d, res)
		}
		if err := st.wait(stopCtx); err != nil {
			if st.r.ClaimDirectly && try == 1 {
				// Not read before: a settled job still reads as what the
				// journal holds, as it would have without ClaimDirectly.
				if cur, had, err := st.r.Journal.Get(sendCtx, j.Key); err == nil && had && !retry.Claimable(cur) {
					return st.skip(res, cur)
				}
			}
			return res // stopped before sending: unsent, nothing recorded
		}
		rec.Time = st.r.now()
		req.Record = rec
		claimed, cur, err := st.r.Journal.Claim(sendCtx, req)
		if err != nil {
			res.journalErr = err
			return res
		}
		if !claimed {
			if d := deferralOf(cur); adv && d != nil {
				return st.deferred(sendCtx, j, rec, d, false, res)
			}
			return st.skip(res, cur)
		}
		// The window is checked again under the claim, at the last moment
		// before the create leaves: a run that reaches its end takes no
		// more advertising jobs. The token is had first, since its fetch
		// can take seconds, and the window must hold when the call leaves.
		var out Record
		err = nil
		if adv {
			err = st.r.client(j.Op).Authenticate(sendCtx)
			if d := st.policy.hours(st.r.now(), j.Agreed); err == nil && d != nil {
				return st.deferred(sendCtx, j, rec, d, true, res)
			}
		}
		if err == nil {
			if live, since := st.leaseLive(); !live {
				return st.leaseLapsed(sendCtx, j.Key, since, res)
			}
			out, err = j.Op.send(sendCtx, st.r.client(j.Op), st.onLimit)
		}
		final := st.classify(rec, out, err)
		res.err = err
		if err == nil && final.State == Refused {
			res.err = &calleesRefused{reason: final.Reason}
		}
		if serr := st.r.Journal.Settle(sendCtx, final); serr != nil {
			// The journal still holds the claim, so the job reads as
			// unknown: the report says what the journal says.
			res.journalErr, res.state = serr, Unknown
			return res
		}
		res.state = final.State
		if final.State == Unsent && final.Cause == CauseRate && stopCtx.Err() == nil && try < maxRateTries {
			continue // the pause is set: try again after it
		}
		return res
	}
}

// skip ends a job the journal holds as settled, or claimed by another
// run: in flight there while that run's lease is live (the journal reads
// the claim as Claimed), unknown once it lapsed.
func (st *runState) skip(res jobResult, cur Record) jobResult {
	if IsForgotten(cur) {
		// Refused by this run, not left by an earlier one: nothing is
		// stored for it, and the tombstone stays.
		res.state, res.err, res.forgotten = Refused, ErrForgotten, true
		return res
	}
	res.skipped, res.state = true, readState(cur.State)
	res.elsewhere = cur.State == Claimed
	return res
}

// claimPlain claims rec's job as a transactional one, to write an outcome
// other than a send's: the claim holds no other job to the number back.
func (st *runState) claimPlain(ctx context.Context, rec Record, retry Resend) (bool, Record, error) {
	plain := rec
	plain.Purpose, plain.Time = Transactional, st.r.now()
	return st.r.Journal.Claim(ctx, ClaimRequest{Record: plain, Resend: retry})
}

// refuse records rec's job Refused for cause without sending it (a bad
// row, a Do-Not-Call number). It is claimed first, as a send is: a peer may
// have placed the job since, and a bare write would hide its call. A
// refusal that cannot be written leaves the claim: Unknown, as the journal
// reads it.
func (st *runState) refuse(ctx context.Context, rec Record, retry Resend, cause string, why error, res jobResult) jobResult {
	claimed, cur, err := st.claimPlain(ctx, rec, retry)
	switch {
	case err != nil:
		res.journalErr = err
		return res
	case !claimed:
		return st.skip(res, cur)
	}
	rec.State, rec.Reason, rec.Cause, rec.Time = Refused, why.Error(), cause, st.r.now()
	res.state, res.err = Refused, why
	if res.journalErr = st.r.Journal.Settle(ctx, rec); res.journalErr != nil {
		res.state = Unknown // the journal still holds the claim
	}
	return res
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
// the provider said nothing). A pause beyond MaxPause stops the run.
// rateLimitOption is every create's: a 429 pauses the run, and is told to
// Runner.OnRateLimit; the SDK leaves the resend to the run.
func (st *runState) rateLimitOption() autocall.CreateOption {
	return autocall.OnRateLimit(func(d time.Duration) {
		st.pause(d)
		if st.r.OnRateLimit != nil {
			st.r.OnRateLimit(d)
		}
	})
}

func (st *runState) pause(d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	until := time.Now().Add(d)
	if d > st.maxPause {
		st.halt(&PauseError{Asked: d, Until: until})
		return
	}
	st.pauseMu.Lock()
	if until.After(st.pausedUntil) {
		st.pausedUntil = until
	}
	st.pauseMu.Unlock()
}

// progress reports after each job, from the one goroutine that counts.
func (st *runState) progress(rep *Report, res jobResult, done, elsewhere int) {
	if st.r.Progress == nil {
		return
	}
	elapsed := time.Since(st.start)
	p := Progress{
		Total: st.total, Done: done, Left: st.total - done, Elapsed: elapsed,
		Placed: rep.Placed, Refused: rep.Refused, Unknown: rep.Unknown, Unsent: rep.Unsent,
		Skipped: rep.AlreadyPlaced + rep.AlreadyRefused + rep.StillUnknown + elsewhere,
		LastKey: res.key, LastState: res.state, LastErr: res.err,
		Stopped: st.stopCtx.Err() != nil,
	}
	if res.state == "" && res.journalErr != nil {
		// Not claimed, nothing sent (the report counts it Unsent): the
		// journal's error is why.
		p.LastState, p.LastErr = Unsent, res.journalErr
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
