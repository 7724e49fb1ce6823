package journaltest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

// RetentionOpener returns a fresh, empty journal (closed in t.Cleanup)
// with r as its Retention, whose compaction judges ages by now. It must
// implement batch.Compactor. reopen, when not nil, closes the journal
// and opens its storage again, with the same r and now.
type RetentionOpener func(t *testing.T, r batch.Retention, now func() time.Time) (j batch.Journal, reopen func(batch.Journal) batch.Journal)

// Retention is the hook Run's retention cases open their journals with:
// every journal must give one.
func Retention(open RetentionOpener) Option {
	return func(c *config) { c.retention = open }
}

// RunRetention runs the retention cases (batch.Retention) as subtests of
// t: every journal compacts by the same rule.
func RunRetention(t *testing.T, open RetentionOpener) {
	t.Run("FateOfEachState", func(t *testing.T) { fateOfEachState(t, open) })
	t.Run("ForgottenUnlessAllowed", func(t *testing.T) { forgottenUnlessAllowed(t, open) })
	t.Run("TombstonesExpire", func(t *testing.T) { tombstonesExpire(t, open) })
	t.Run("IndexHoldsAcrossCompaction", func(t *testing.T) { indexHolds(t, open) })
}

// rctx is the retention cases' context.
var rctx = context.Background()

// clock is a test's clock, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// short is a Retention of hours, so that a test's records pass it with a
// move of the clock: records an hour, tombstones two days, advertising
// records within 24 hours.
var short = batch.Retention{Records: time.Hour, Keys: 48 * time.Hour, Interval: 24 * time.Hour}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func compact(t *testing.T, j batch.Journal) batch.Compaction {
	t.Helper()
	c, ok := j.(batch.Compactor)
	if !ok {
		t.Fatalf("%T is not a batch.Compactor", j)
	}
	res, err := c.Compact(rctx)
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	return res
}

// write claims rec at its time and, unless state is Claimed, settles it.
func write(t *testing.T, j batch.Journal, rec batch.Record, state batch.State) {
	t.Helper()
	if ok, cur, err := j.Claim(rctx, batch.ClaimRequest{Record: rec}); err != nil || !ok {
		t.Fatalf("Claim(%s) = %v, %+v, %v", rec.Key, ok, cur, err)
	}
	if state == batch.Claimed {
		return
	}
	out := batch.Record{Key: rec.Key, State: state, Time: rec.Time}
	switch state {
	case batch.Placed:
		out.CallIDs = []string{"call-" + rec.Key}
	case batch.Refused:
		out.Cause = batch.CauseQuota
	}
	if err := j.Settle(rctx, out); err != nil {
		t.Fatalf("Settle(%s): %v", rec.Key, err)
	}
}

func has(t *testing.T, j batch.Journal, key string) (batch.Record, bool) {
	t.Helper()
	rec, ok, err := j.Get(rctx, key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return rec, ok
}

func fateOfEachState(t *testing.T, open RetentionOpener) {
	c := newClock()
	j, reopen := open(t, short, c.now)
	old, recent := c.now().Add(-2*time.Hour), c.now().Add(-30*time.Minute)
	rec := func(key string, at time.Time) batch.Record {
		return batch.Record{Key: key, Kind: "otp", Phones: []string{"0900" + key}, Time: at}
	}
	write(t, j, rec("placed-old", old), batch.Placed)
	write(t, j, rec("placed-recent", recent), batch.Placed)
	write(t, j, rec("unknown-old", old), batch.Unknown)
	write(t, j, rec("claimed-old", old), batch.Claimed)
	write(t, j, rec("refused-old", old), batch.Refused)
	write(t, j, rec("unsent-old", old), batch.Unsent)
	deferred := rec("deferred-old", old)
	write(t, j, deferred, batch.Claimed)
	if err := j.Settle(rctx, batch.Record{Key: deferred.Key, State: batch.Unsent, Time: old, Cause: batch.CauseHours, NotBefore: c.now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ad := rec("advertising-old", old)
	ad.Purpose = batch.Advertising
	write(t, j, ad, batch.Placed) // 2 hours ago: within the 24-hour interval

	res := compact(t, j)
	if res.Kept != 6 || res.Forgotten != 1 || res.Dropped != 1 {
		t.Fatalf("Compact = %+v, want 6 kept, 1 forgotten (placed-old), 1 dropped (unsent-old)", res)
	}
	if reopen != nil {
		j = reopen(j)
	}
	want := map[string]batch.State{
		"placed-recent": batch.Placed, "unknown-old": batch.Unknown, "claimed-old": batch.Unknown,
		"refused-old": batch.Refused, "deferred-old": batch.Unsent, "advertising-old": batch.Placed,
	}
	recs, err := j.Records(rctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want) {
		t.Fatalf("Records has %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for _, r := range recs {
		if w, ok := want[r.Key]; !ok || r.State != w {
			t.Errorf("%s reads %s after compaction, want %q", r.Key, r.State, w)
		}
	}
	for _, k := range []string{"placed-old", "unsent-old"} {
		if r, ok := has(t, j, k); ok {
			t.Errorf("Get(%s) = %+v after compaction, want none", k, r)
		}
	}
	// A second compaction finds nothing more to drop.
	if again := compact(t, j); again.Forgotten != 0 || again.Dropped != 0 || again.Kept != 6 || again.Tombstones != 1 {
		t.Fatalf("second Compact = %+v", again)
	}
	// What was dropped unsent was never sent: a new claim takes it.
	if ok, cur, err := j.Claim(rctx, batch.ClaimRequest{Record: rec("unsent-old", c.now())}); err != nil || !ok {
		t.Fatalf("Claim(unsent-old) after its record was dropped = %v, %+v, %v; want claimed", ok, cur, err)
	}
}

func forgottenUnlessAllowed(t *testing.T, open RetentionOpener) {
	c := newClock()
	j, reopen := open(t, short, c.now)
	at := c.now().Add(-2 * time.Hour)
	write(t, j, batch.Record{Key: "k", Kind: "otp", Phones: []string{"0900000001"}, Time: at}, batch.Placed)
	if res := compact(t, j); res.Forgotten != 1 || res.Tombstones != 1 {
		t.Fatalf("Compact = %+v, want 1 forgotten, 1 tombstone", res)
	}
	if reopen != nil {
		j = reopen(j)
	}
	again := batch.Record{Key: "k", Kind: "otp", Phones: []string{"0900000001"}, Time: c.now()}
	for _, retry := range []batch.Resend{{}, {Refused: true}, {Causes: []string{batch.CauseQuota}}} {
		ok, cur, err := j.Claim(rctx, batch.ClaimRequest{Record: again, Resend: retry})
		if err != nil || ok || !batch.IsForgotten(cur) || cur.Key != "k" {
			t.Fatalf("Claim of a forgotten key (retry %+v) = %v, %+v, %v; want refused as forgotten", retry, ok, cur, err)
		}
	}
	if _, ok := has(t, j, "k"); ok {
		t.Fatal("the refusal of a forgotten key was stored")
	}
	ok, cur, err := j.Claim(rctx, batch.ClaimRequest{Record: again, Resend: batch.Resend{Forgotten: true}})
	if err != nil || !ok {
		t.Fatalf("Claim with Resend.Forgotten = %v, %+v, %v; want claimed", ok, cur, err)
	}
}

func tombstonesExpire(t *testing.T, open RetentionOpener) {
	c := newClock()
	j, _ := open(t, short, c.now)
	write(t, j, batch.Record{Key: "k", Kind: "otp", Time: c.now().Add(-2 * time.Hour)}, batch.Placed)
	compact(t, j)
	c.add(4 * 24 * time.Hour) // past Keys (48 hours) from the end of the record's day
	res := compact(t, j)
	if res.Expired != 1 || res.Tombstones != 0 {
		t.Fatalf("Compact four days on = %+v, want 1 tombstone expired, none left", res)
	}
	if ok, cur, err := j.Claim(rctx, batch.ClaimRequest{Record: batch.Record{Key: "k", Kind: "otp", Time: c.now()}}); err != nil || !ok {
		t.Fatalf("Claim of a key past Keys = %v, %+v, %v; want claimed (forgotten for good)", ok, cur, err)
	}
}

func indexHolds(t *testing.T, open RetentionOpener) {
	c := newClock()
	j, reopen := open(t, short, c.now)
	phone := []string{"0900000002"}
	write(t, j, batch.Record{Key: "first", Kind: "tts", Phones: phone, Purpose: batch.Advertising, Time: c.now().Add(-2 * time.Hour)}, batch.Placed)
	if res := compact(t, j); res.Kept != 1 {
		t.Fatalf("Compact = %+v: an advertising call within the interval must be kept", res)
	}
	if reopen != nil {
		j = reopen(j)
	}
	ok, cur, err := j.Claim(rctx, batch.ClaimRequest{
		Record:   batch.Record{Key: "second", Kind: "tts", Phones: phone, Purpose: batch.Advertising, Time: c.now()},
		Interval: 24 * time.Hour,
	})
	if err != nil || ok || cur.Cause != batch.CauseFrequency {
		t.Fatalf("a second advertising call to the number after compaction: Claim = %v, %+v, %v; want deferred", ok, cur, err)
	}
}
