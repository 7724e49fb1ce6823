package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	autocall "github.com/autocallvn/autocall-go"
)

// now is the run's clock: Runner.Now, or the wall clock.
func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// policy is the Policy of the run's advertising jobs: the decree's when
// Runner.Policy is nil. It checks that the journal can keep the per-phone
// index. Transactional jobs only: no policy is needed.
func (r *Runner) policy(jobs []Job) (*Policy, error) {
	adv := false
	for i, j := range jobs {
		switch j.Purpose {
		case Transactional:
		case Advertising:
			adv = true
		default:
			return nil, &autocall.ValidationError{Field: fmt.Sprintf("jobs[%d].Purpose", i), Value: string(j.Purpose),
				Reason: "neither transactional nor advertising"}
		}
	}
	if !adv {
		return nil, nil
	}
	p := r.Policy
	if p == nil {
		p = &Policy{}
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return p, nil
}

// advertising: the job is held to the run's Policy.
func (st *runState) advertising(j Job) bool { return st.policy != nil && j.Purpose == Advertising }

// shut is the Deferral of an advertising job the window is shut for now,
// or nil.
func (st *runState) shut(j Job) *Deferral {
	if !st.advertising(j) {
		return nil
	}
	return st.policy.hours(st.r.now(), j.Agreed)
}

// doNotCall refuses, and records so (runState.refuse), an advertising job
// to a listed number; a list that fails leaves the job unsent, unrecorded.
// It returns false when the job may go on.
func (st *runState) doNotCall(ctx context.Context, j Job, rec Record, retry Resend, res *jobResult) bool {
	err := st.policy.doNotCall(ctx, rec.Phones, j.Agreed)
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrDoNotCall):
		*res = st.refuse(ctx, rec, retry, CauseDoNotCall, err, *res)
	default: // the list failed
		res.err = err // unsent: nothing recorded, nothing sent
	}
	return true
}

// deferred ends a job the journal's claim deferred (cur), or that the
// window, shut after its claim, defers: then it is recorded Unsent with
// its cause, under the claim, so no peer's claim is overwritten.
func (st *runState) deferred(ctx context.Context, j Job, rec Record, d *Deferral, claimed bool, res jobResult) jobResult {
	res.state, res.err = Unsent, d
	if claimed {
		rec.Time = st.r.now()
		if res.journalErr = st.r.Journal.Settle(ctx, d.record(rec)); res.journalErr != nil {
			res.state = Unknown // the journal still holds the claim
			return res
		}
	}
	when := d.NotBefore
	if d.Cause == CauseFrequency && j.Agreed&AgreedHours == 0 {
		when = st.policy.NextOpen(when)
	}
	res.deferred = &Deferral{Key: j.Key, Cause: d.Cause, Phone: d.Phone, NotBefore: when.In(st.policy.location())}
	return res
}

// deferShut defers an advertising job the window is shut for, at once,
// without waiting for the rate limiter. It claims the job only to write
// the deferral, so that a peer's claim is never overwritten; the claim is
// not an advertising one, so that it holds no other job to the number back.
func (st *runState) deferShut(ctx context.Context, j Job, rec Record, retry Resend, d *Deferral, res jobResult) jobResult {
	claimed, cur, err := st.claimPlain(ctx, rec, retry)
	if err != nil {
		res.journalErr = err
		return res
	}
	if !claimed {
		return st.skip(res, cur)
	}
	return st.deferred(ctx, j, rec, d, true, res)
}

// deferralOf is the Deferral a journal's refused claim wrote, if any.
func deferralOf(cur Record) *Deferral {
	if cur.State != Unsent || cur.NotBefore.IsZero() || (cur.Cause != CauseHours && cur.Cause != CauseFrequency) {
		return nil
	}
	d := &Deferral{Cause: cur.Cause, NotBefore: cur.NotBefore}
	if d.Cause == CauseFrequency && len(cur.Phones) == 1 {
		d.Phone = cur.Phones[0]
	}
	return d
}

// agreedTo: the subscriber agreed to calls past the rule behind cause.
func agreedTo(a Agreement, cause string) bool {
	switch cause {
	case CauseHours:
		return a&AgreedHours != 0
	case CauseFrequency:
		return a&AgreedFrequency != 0
	}
	return false
}
