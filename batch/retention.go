package batch

import (
	"context"
	"errors"
	"hash/fnv"
	"time"
)

// Retention is how long a journal remembers. Every journal (file, memory,
// Redis, Postgres) applies the same rule, Retention.Fate, when it compacts:
//
//   - kept, whatever their age: every Unknown and Claimed record (until it
//     is resolved), every Refused record (an operator's to-do), every
//     Unsent record still deferred (NotBefore to come), and every
//     advertising record that may have called within Interval (Decree
//     91's one call per number per interval needs it);
//   - dropped: every superseded line of a key (a journal keeps only a
//     key's latest record), a settled record older than Records: a Placed
//     one, or an Unsent one with nothing pending (it was never sent: the
//     next run sends it, as it would have);
//   - a dropped Placed record leaves a tombstone, a 64-bit hash of its key
//     (KeyHash), kept for Keys: a claim of that key is refused as
//     forgotten (Forgotten) instead of phoning the customer again. A run
//     with Resend.Forgotten (Runner.AllowForgotten, the command's
//     --allow-forgotten) sends it.
//
// The zero value is the defaults. A journal takes it as an option:
// OpenFile(path, WithRetention(r)), NewMemJournal(WithRetention(r)), the
// Redis journal's autocallredis.WithRetention(r).
type Retention struct {
	// Records is how long a settled record is kept after its time
	// (DefaultRecordRetention when 0; < 0: records are never dropped). A
	// re-run within it is recognised record by record ("already placed").
	Records time.Duration
	// Keys is how long a dropped Placed record's tombstone is kept after
	// the record's time (DefaultKeyRetention when 0; < 0: tombstones never
	// expire). It is at least Records.
	Keys time.Duration
	// Interval is the longest Policy.Interval a run on the journal uses
	// (DefaultInterval when 0): an advertising record that may have called
	// is kept for at least that long.
	Interval time.Duration
}

// Defaults of Retention.
const (
	DefaultRecordRetention = 30 * 24 * time.Hour
	DefaultKeyRetention    = 365 * 24 * time.Hour
)

// forever stands for a retention of < 0: far beyond any record's age.
const forever = time.Duration(1<<63 - 1)

// Norm returns r with its defaults filled in; a negative period is made
// "forever".
func (r Retention) Norm() Retention {
	if r.Records == 0 {
		r.Records = DefaultRecordRetention
	}
	if r.Keys == 0 {
		r.Keys = DefaultKeyRetention
	}
	if r.Interval <= 0 {
		r.Interval = DefaultInterval
	}
	if r.Records < 0 {
		r.Records = forever
	}
	if r.Keys < 0 {
		r.Keys = forever
	}
	r.Keys = max(r.Keys, r.Records)
	return r
}

// Fate is what compaction does with a key's latest record.
type Fate int

const (
	// Keep the record.
	Keep Fate = iota
	// Drop the record and leave no tombstone: nothing was sent for it (an
	// Unsent record), so a new claim may send it.
	Drop
	// Forget the record: drop it and keep a tombstone of its key, so that
	// a new claim is refused as forgotten.
	Forget
)

// Fate decides what happens to rec, a key's latest record as stored, at
// now (a pure function: every journal compacts by it).
func (r Retention) Fate(rec Record, now time.Time) Fate {
	r = r.Norm()
	age := now.Sub(rec.Time)
	if rec.Purpose == Advertising && rec.State.MayHaveCalled() && age < r.Interval {
		return Keep
	}
	if age < r.Records {
		return Keep
	}
	switch rec.State {
	case Placed:
		return Forget
	case Unsent:
		if now.Before(rec.NotBefore) {
			return Keep // still deferred: the run after NotBefore sends it
		}
		return Drop
	}
	return Keep // Claimed, Unknown, Refused, and any state not known: in doubt, keep
}

// TombstoneLive reports whether a tombstone of a record of time t still
// stands at now.
func (r Retention) TombstoneLive(t, now time.Time) bool {
	r = r.Norm()
	return now.Sub(t) < r.Keys
}

// KeyHash is the 64-bit hash a tombstone keeps of a key (FNV-1a): every
// journal uses it, so that a tombstone means one thing everywhere. Two keys
// sharing one hash (about one chance in 10^7 over a year of 10,000 keys a
// day) would make the second refused as forgotten: never phoned twice, at
// worst refused with a clear cause.
func KeyHash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

// CauseForgotten is the cause of a job refused because the journal forgot
// its record but kept its tombstone: it was settled (placed) before the
// retention, and is not sent again unless the run allows it
// (Resend.Forgotten, Runner.AllowForgotten, --allow-forgotten).
const CauseForgotten = "forgotten"

// ErrForgotten: a job's key was settled before the journal's retention;
// its record was dropped, its tombstone stands, and the job was not sent.
var ErrForgotten = errors.New("batch: settled before the retention; run with --allow-forgotten (Runner.AllowForgotten) to send it")

// Forgotten is the record a journal's Claim returns (claimed false) for a
// key whose record it dropped but whose tombstone stands: Refused with
// CauseForgotten, at the tombstone's time. It is not stored.
func Forgotten(key string, at time.Time) Record {
	return Record{Key: key, State: Refused, Time: at, Cause: CauseForgotten, Reason: ErrForgotten.Error()}
}

// IsForgotten reports whether rec is a Forgotten record.
func IsForgotten(rec Record) bool { return rec.State == Refused && rec.Cause == CauseForgotten }

// Compaction is what a compaction did.
type Compaction struct {
	Kept       int // records kept
	Forgotten  int // Placed records dropped, their keys kept as tombstones
	Dropped    int // Unsent records dropped with nothing pending
	Superseded int // superseded lines dropped (file journal)
	Tombstones int // tombstones kept, new ones included
	Expired    int // tombstones dropped: older than Retention.Keys
	// BytesBefore and BytesAfter: the file's size (file journal).
	BytesBefore, BytesAfter int64
}

// Compactor is a journal that drops what its Retention lets go. Every
// journal of this module implements it, and compacts by itself too (the
// file journal when stale lines pass a share of the file, the Redis
// journal in a bounded sweep); Compact does it now.
type Compactor interface {
	Compact(ctx context.Context) (Compaction, error)
}

// Horizon is how far back a journal remembers: records since Records,
// keys (tombstones) since Keys, both as of the last compaction; zero when
// the journal holds none.
type Horizon struct {
	Retention     Retention
	OldestRecord  time.Time // the oldest record kept
	OldestKey     time.Time // the oldest tombstone kept
	Records, Keys int       // how many of each
}

// JournalOption configures a FileJournal or a MemJournal.
type JournalOption func(*journalOptions)

type journalOptions struct {
	retention Retention
	now       func() time.Time
}

// WithRetention sets the journal's Retention (the zero Retention: the
// defaults).
func WithRetention(r Retention) JournalOption {
	return func(o *journalOptions) { o.retention = r }
}

// WithClock sets the clock compaction judges ages by (default time.Now):
// a test, or a simulation of a year of runs, sets it.
func WithClock(now func() time.Time) JournalOption {
	return func(o *journalOptions) { o.now = now }
}

func journalOpts(opts []JournalOption) journalOptions {
	o := journalOptions{now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	o.retention = o.retention.Norm()
	return o
}
