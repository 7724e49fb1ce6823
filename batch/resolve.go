package batch

import (
	"context"
	"errors"
	"time"
)

// ErrChanged: Resolve found the job's record changed between its read and
// its write (a run claimed or settled it meanwhile) and changed nothing.
// Look at the job again.
var ErrChanged = errors.New("batch: the job's record changed while it was being resolved; nothing was written")

// Resolve settles a job by hand. A job whose outcome was unknown becomes
// Placed if the customer was called (it will never be sent again), Unsent
// if not (the next run sends it). A refused job becomes Unsent once its
// cause is fixed (the next run sends it). Anything else is ErrNotUnknown.
//
// The write is a Journal.SettleIf: it happens only if the record is still
// the one read, else ErrChanged, so that a run sharing the journal cannot
// claim and place the job between the read and the write unseen. A job in
// flight at a live run (Claimed) is not resolved: its run will settle it.
func Resolve(ctx context.Context, j Journal, key string, to State) error {
	if to != Placed && to != Unsent {
		return errors.New("batch: a job is resolved to placed or unsent")
	}
	prev, ok, err := j.Get(ctx, key)
	switch {
	case err != nil:
		return err
	case !ok:
		return ErrNoRecord
	case prev.State == Refused && to == Unsent:
	case prev.State == Refused:
		return &notResolvable{"batch: a refused job placed nothing: it is resolved only to unsent, to be sent by the next run"}
	case prev.State == Claimed:
		return &notResolvable{"batch: the job is in flight at run " + prev.Run + ", which is alive: it will record the outcome"}
	case prev.State != Unknown:
		return &notResolvable{"batch: the job is " + string(prev.State) + ": only an unknown job is resolved (to placed or unsent), or a refused one to unsent"}
	}
	rec := prev
	rec.State, rec.Time, rec.Reason = to, time.Now(), "resolved by hand"
	rec.Cause, rec.Code = "", ""
	settled, err := j.SettleIf(ctx, rec, prev)
	if err == nil && !settled {
		return ErrChanged
	}
	return err
}

// notResolvable says which moves Resolve allows; it matches ErrNotUnknown.
type notResolvable struct{ msg string }

func (e *notResolvable) Error() string        { return e.msg }
func (e *notResolvable) Is(target error) bool { return target == ErrNotUnknown }

// SameRecord reports whether cur is still the record expect was: the same
// state at the same time. A journal's SettleIf decides with it.
func SameRecord(cur, expect Record) bool {
	return cur.Key == expect.Key && cur.State == expect.State && cur.Time.Equal(expect.Time)
}
