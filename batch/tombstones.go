package batch

import (
	"slices"
	"time"
)

// tombstones are the keys of dropped Placed records, as KeyHash hashes,
// grouped by the UTC day of the record's time: 8 bytes a key, so that a
// year of 10,000 keys a day is 29 MiB. A day's hashes are sorted; a day
// goes whole when its tombstones expire.
type tombstones map[int32][]uint64

const daySeconds = 24 * 60 * 60

func dayOf(t time.Time) int32 {
	s := t.Unix()
	d := s / daySeconds
	if s < 0 && s%daySeconds != 0 {
		d--
	}
	return int32(d)
}

// dayEnd is the time a tombstone of day d counts from: the end of its day,
// so that it is kept at least Retention.Keys after its record.
func dayEnd(d int32) time.Time { return time.Unix((int64(d)+1)*daySeconds, 0).UTC() }

// find returns the time of the tombstone of h, if one stands.
func (ts tombstones) find(h uint64) (time.Time, bool) {
	var at time.Time
	found := false
	for d, hs := range ts {
		if _, ok := slices.BinarySearch(hs, h); ok && (!found || dayEnd(d).After(at)) {
			at, found = dayEnd(d), true
		}
	}
	return at, found
}

// add puts the tombstones of hs (of records of time t) in, keeping each
// day sorted. Each day's slice is allocated to its size: a year of them
// is most of a journal's memory.
func (ts tombstones) add(t time.Time, hs ...uint64) {
	ts.addDay(dayOf(t), hs)
	ts.sortDay(dayOf(t))
}

// addDay appends hs to day d's tombstones, unsorted (sort, once all are
// in).
func (ts tombstones) addDay(d int32, hs []uint64) {
	old := ts[d]
	merged := make([]uint64, len(old)+len(hs))
	copy(merged[copy(merged, old):], hs)
	ts[d] = merged
}

func (ts tombstones) sortDay(d int32) {
	hs := ts[d]
	slices.Sort(hs)
	if c := slices.Compact(hs); len(c) < len(hs) {
		ts[d] = slices.Clone(c)
	}
}

// sort sorts every day, after addDay.
func (ts tombstones) sort() {
	for d := range ts {
		ts.sortDay(d)
	}
}

// expire drops the days whose tombstones no longer stand at now; it
// returns how many tombstones went.
func (ts tombstones) expire(r Retention, now time.Time) int {
	n := 0
	for d, hs := range ts {
		if !r.TombstoneLive(dayEnd(d), now) {
			n += len(hs)
			delete(ts, d)
		}
	}
	return n
}

func (ts tombstones) count() int {
	n := 0
	for _, hs := range ts {
		n += len(hs)
	}
	return n
}

// oldest is the time of the oldest tombstone, zero when there is none.
func (ts tombstones) oldest() time.Time {
	var at time.Time
	for d := range ts {
		if t := dayEnd(d).Add(-daySeconds * time.Second); at.IsZero() || t.Before(at) {
			at = t
		}
	}
	return at
}

// forgottenOrNone is the record a claim of key meets in its way when the
// journal has no record of it: the Forgotten record while its tombstone
// stands and retry does not allow it.
func (ts tombstones) forgottenOrNone(key string, retry Resend) (Record, bool) {
	if retry.Forgotten || len(ts) == 0 {
		return Record{}, false
	}
	at, ok := ts.find(KeyHash(key))
	if !ok {
		return Record{}, false
	}
	return Forgotten(key, at), true
}
