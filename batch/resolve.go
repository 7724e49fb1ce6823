package batch

import (
	"context"
	"errors"
	"time"
)

// ConditionalSettler is a Journal that can settle a job only while its
// record is still the one read (compare and set): both FileJournal and the
// Redis journal are. Resolve needs it on a journal shared with running
// peers, where a run may claim and place a job between Resolve's read and
// its write.
type ConditionalSettler interface {
	// SettleIf records rec (keeping what expect knew, as Settle does) only
	// if the job's record still has expect's state and time; settled
	// reports whether it did.
	SettleIf(ctx context.Context, rec, expect Record) (settled bool, err error)
}

// ErrChanged: Resolve found the job's record changed between its read and
// its write (a run claimed or settled it meanwhile) and changed nothing.
// Look at the job again.
var ErrChanged = errors.New("batch: the job's record changed while it was being resolved; nothing was written")

// Resolve settles a job by hand. A job whose outcome was unknown becomes
// Placed if the customer was called (it will never be sent again), Unsent
// if not (the next run sends it). A refused job becomes Unsent once its
// cause is fixed (the next run sends it). Anything else is ErrNotUnknown.
//
// On a journal that implements ConditionalSettler the write happens only
// if the record is still the one read, else ErrChanged; on any other
// journal it is a read then a write, safe only when no run uses the
// journal meanwhile.
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
	case prev.State != Unknown && prev.State != Claimed:
		return &notResolvable{"batch: the job is " + string(prev.State) + ": only an unknown job is resolved (to placed or unsent), or a refused one to unsent"}
	}
	rec := prev
	rec.State, rec.Time, rec.Reason = to, time.Now(), "resolved by hand"
	rec.Cause, rec.Code = "", ""
	cs, ok := j.(ConditionalSettler)
	if !ok {
		return j.Settle(ctx, rec)
	}
	settled, err := cs.SettleIf(ctx, rec, prev)
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

// SettleIf implements ConditionalSettler: the comparison and the write are
// made under the journal's lock.
func (j *FileJournal) SettleIf(ctx context.Context, rec, expect Record) (bool, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return false, errors.New("batch: journal closed")
	}
	cur, ok := j.records[rec.Key]
	if !ok || !SameRecord(cur, expect) {
		j.mu.Unlock()
		return false, nil
	}
	end, err := j.appendLocked(rec.Inherit(cur))
	j.mu.Unlock()
	if err != nil {
		return false, err
	}
	// Made durable at once: an operator's decision is not left to the
	// background sync.
	return true, j.waitSynced(end)
}
