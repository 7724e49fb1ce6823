// Package journaltest checks a batch.Journal against the rules of the
// interface: the tests of every journal (the file, memory, Redis and
// Postgres ones) run it, so that a rule is written once and a journal
// cannot drift from it.
//
//	func TestConformance(t *testing.T) {
//		journaltest.Run(t, func(t *testing.T) batch.Journal { return openEmpty(t) },
//			journaltest.Reopen(reopen), journaltest.Peer(secondHandle))
//	}
//
// open returns a fresh, empty journal for each subtest (and closes it in
// t.Cleanup). The optional hooks enable the cases that need them.
package journaltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

// Option enables cases of Run that need more than a fresh journal.
type Option func(*config)

type config struct {
	reopen func(t *testing.T, j batch.Journal) batch.Journal
	peer   func(t *testing.T, j batch.Journal) batch.Journal
	// retention opens journals for the retention cases (retention.go).
	retention RetentionOpener
}

// Reopen is a hook that closes j and opens its storage again, as a process
// restarted after a crash would: it enables the crash cases (claims read
// Unknown, settled records and the index survive).
func Reopen(f func(t *testing.T, j batch.Journal) batch.Journal) Option {
	return func(c *config) { c.reopen = f }
}

// Peer is a hook that opens a second handle on j's storage while j stays
// open, as a second process or host would: it enables the lease cases (a
// live run's claim reads Claimed to a peer, a lapsed one Unknown). A
// journal one process holds alone (FileJournal) has none.
func Peer(f func(t *testing.T, j batch.Journal) batch.Journal) Option {
	return func(c *config) { c.peer = f }
}

// Run runs the conformance cases as subtests of t.
func Run(t *testing.T, open func(t *testing.T) batch.Journal, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	s := &suite{open: open, config: c}
	t.Run("ClaimRace", s.claimRace)
	t.Run("ClaimStamps", s.claimStamps)
	t.Run("Retry", s.retry)
	t.Run("SettleInherits", s.settleInherits)
	t.Run("SettleIf", s.settleIf)
	t.Run("SettleIfInheritsTheStoredRecord", s.settleIfInheritsStored)
	t.Run("SettleIfRace", s.settleIfRace)
	t.Run("SettleIfComparesInstants", s.settleIfInstants)
	t.Run("RecordsLatestPerKey", s.recordsLatest)
	t.Run("IndexDefers", s.indexDefers)
	t.Run("IndexClaimRace", s.indexClaimRace)
	t.Run("IndexMovesToSettleTime", s.indexMoves)
	t.Run("IndexFreedWhenNothingPlaced", s.indexFreed)
	t.Run("ResolveAdvertisingFreesTheNumber", s.resolveFrees)
	t.Run("LeaseLiveAndLapsed", s.leaseCase)
	t.Run("LeaseEndedOwnClaims", s.leaseEndedOwn)
	t.Run("ReopenAfterCrash", s.reopenCase)
	t.Run("Retention", func(t *testing.T) {
		if c.retention == nil {
			t.Fatal("journaltest: no Retention option: every journal compacts by batch.Retention (issue #27)")
		}
		RunRetention(t, c.retention)
	})
}

type suite struct {
	open func(t *testing.T) batch.Journal
	config
}

var ctx = context.Background()

// base is a time every store keeps exactly (whole seconds: some keep
// milliseconds), in the past so that nothing is "now".
func base() time.Time { return time.Now().Add(-time.Hour).Truncate(time.Second) }

func claim(t *testing.T, j batch.Journal, req batch.ClaimRequest) (bool, batch.Record) {
	t.Helper()
	ok, cur, err := j.Claim(ctx, req)
	if err != nil {
		t.Fatalf("Claim(%s): %v", req.Record.Key, err)
	}
	return ok, cur
}

func mustClaim(t *testing.T, j batch.Journal, rec batch.Record) {
	t.Helper()
	if ok, cur := claim(t, j, batch.ClaimRequest{Record: rec}); !ok {
		t.Fatalf("Claim(%s) = false, record in the way %+v", rec.Key, cur)
	}
}

func settle(t *testing.T, j batch.Journal, rec batch.Record) {
	t.Helper()
	if err := j.Settle(ctx, rec); err != nil {
		t.Fatalf("Settle(%s): %v", rec.Key, err)
	}
}

func get(t *testing.T, j batch.Journal, key string) batch.Record {
	t.Helper()
	rec, ok, err := j.Get(ctx, key)
	if err != nil || !ok {
		t.Fatalf("Get(%s) = %v, %v", key, ok, err)
	}
	return rec
}

func wantState(t *testing.T, j batch.Journal, key string, want batch.State) batch.Record {
	t.Helper()
	rec := get(t, j, key)
	if rec.State != want {
		t.Fatalf("%s reads %s, want %s (%+v)", key, rec.State, want, rec)
	}
	return rec
}

// Of many workers claiming the same keys at once, exactly one wins each.
func (s *suite) claimRace(t *testing.T) {
	j := s.open(t)
	const workers, keys = 16, 40
	wins := make([]int, keys)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < keys; k++ {
				ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: fmt.Sprintf("k%d", k), Run: fmt.Sprintf("w%d", w)}})
				if err != nil {
					errs <- err
					return
				}
				if ok {
					mu.Lock()
					wins[k]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k, n := range wins {
		if n != 1 {
			t.Errorf("k%d was claimed %d times, want exactly once", k, n)
		}
	}
}

// A claim stamps State, Time and Claimed, and keeps what the request says.
func (s *suite) claimStamps(t *testing.T) {
	j := s.open(t)
	at := base()
	mustClaim(t, j, batch.Record{Key: "a", State: batch.Placed, Kind: "otp", Campaign: "7", Phones: []string{"0912000003"}, Run: "r1", Time: at})
	rec := wantState(t, j, "a", batch.Claimed)
	if !rec.Time.Equal(at) || !rec.ClaimedAt.Equal(at) {
		t.Errorf("Time %v, Claimed %v: want both %v", rec.Time, rec.ClaimedAt, at)
	}
	if rec.Kind != "otp" || rec.Campaign != "7" || len(rec.Phones) != 1 || rec.Phones[0] != "0912000003" || rec.Run != "r1" {
		t.Errorf("the claim lost what its request said: %+v", rec)
	}
	before := time.Now().Add(-time.Second)
	mustClaim(t, j, batch.Record{Key: "b"})
	rec = wantState(t, j, "b", batch.Claimed)
	if rec.Time.Before(before) || rec.Time.After(time.Now().Add(time.Second)) || !rec.ClaimedAt.Equal(rec.Time) {
		t.Errorf("a claim without Time: Time %v, Claimed %v: want now, and equal", rec.Time, rec.ClaimedAt)
	}
}

// Unsent goes again; refused only when the Retry selects it (all, or by
// cause); placed, unknown and claimed never.
func (s *suite) retry(t *testing.T) {
	j := s.open(t)
	for _, r := range []batch.Record{
		{Key: "unsent", State: batch.Unsent, Cause: batch.CauseNetwork},
		{Key: "quota", State: batch.Refused, Cause: batch.CauseQuota},
		{Key: "template", State: batch.Refused, Cause: batch.CauseTemplate},
		{Key: "placed", State: batch.Placed},
		{Key: "unknown", State: batch.Unknown},
	} {
		mustClaim(t, j, batch.Record{Key: r.Key})
		settle(t, j, r)
	}
	mustClaim(t, j, batch.Record{Key: "claimed"})
	cases := []struct {
		key   string
		retry batch.Resend
		want  bool
	}{
		{"quota", batch.Resend{}, false},
		{"quota", batch.Resend{Causes: []string{batch.CauseTemplate}}, false},
		{"placed", batch.Resend{Refused: true}, false},
		{"unknown", batch.Resend{Refused: true}, false},
		{"claimed", batch.Resend{Refused: true}, false},
		{"unsent", batch.Resend{}, true},
		{"quota", batch.Resend{Causes: []string{batch.CauseRate, batch.CauseQuota}}, true},
		{"template", batch.Resend{Refused: true}, true},
	}
	for _, c := range cases {
		before := get(t, j, c.key)
		ok, cur := claim(t, j, batch.ClaimRequest{Record: batch.Record{Key: c.key}, Resend: c.retry})
		if ok != c.want {
			t.Errorf("Claim(%s, %+v) = %v, want %v", c.key, c.retry, ok, c.want)
			continue
		}
		if !ok && (cur.State != before.State || cur.Key != c.key) {
			t.Errorf("Claim(%s) returned %+v in the way, want the record %s", c.key, cur, before.State)
		}
	}
}

// Settle merges the outcome with the claim (Record.Inherit).
func (s *suite) settleInherits(t *testing.T) {
	j := s.open(t)
	at := base()
	mustClaim(t, j, batch.Record{Key: "a", Kind: "tts", Campaign: "9", Phones: []string{"0912000013"}, Run: "r", Purpose: batch.Transactional, Time: at})
	before := time.Now().Add(-time.Second)
	settle(t, j, batch.Record{Key: "a", State: batch.Placed, CallIDs: []string{"c1"}})
	rec := wantState(t, j, "a", batch.Placed)
	if rec.Kind != "tts" || rec.Campaign != "9" || len(rec.Phones) != 1 || rec.Run != "r" || !rec.ClaimedAt.Equal(at) {
		t.Errorf("the outcome lost what the claim knew: %+v", rec)
	}
	if len(rec.CallIDs) != 1 || rec.CallIDs[0] != "c1" {
		t.Errorf("call ids %v, want [c1]", rec.CallIDs)
	}
	if rec.Time.Before(before) {
		t.Errorf("an outcome without Time gets now, not %v", rec.Time)
	}
}

// SettleIf writes only while the record is the one expected.
func (s *suite) settleIf(t *testing.T) {
	j := s.open(t)
	mustClaim(t, j, batch.Record{Key: "a", Kind: "otp", Phones: []string{"0912000023"}, Time: base()})
	settle(t, j, batch.Record{Key: "a", State: batch.Unknown, Time: base().Add(time.Minute)})
	read := get(t, j, "a")

	stale := read
	stale.Time = read.Time.Add(-time.Second)
	ok, err := j.SettleIf(ctx, batch.Record{Key: "a", State: batch.Placed}, stale)
	if err != nil || ok {
		t.Fatalf("SettleIf against a stale time = %v, %v: want false", ok, err)
	}
	wrongState := read
	wrongState.State = batch.Refused
	if ok, err := j.SettleIf(ctx, batch.Record{Key: "a", State: batch.Placed}, wrongState); err != nil || ok {
		t.Fatalf("SettleIf against another state = %v, %v: want false", ok, err)
	}
	wantState(t, j, "a", batch.Unknown)

	ok, err = j.SettleIf(ctx, batch.Record{Key: "a", State: batch.Placed, CallIDs: []string{"c"}}, read)
	if err != nil || !ok {
		t.Fatalf("SettleIf against the record read = %v, %v: want true", ok, err)
	}
	rec := wantState(t, j, "a", batch.Placed)
	if rec.Kind != "otp" || len(rec.Phones) != 1 || rec.Time.IsZero() {
		t.Errorf("SettleIf does not Inherit, or leaves Time zero: %+v", rec)
	}
	// Once written, the same expectation is stale.
	if ok, err := j.SettleIf(ctx, batch.Record{Key: "a", State: batch.Unsent}, read); err != nil || ok {
		t.Fatalf("a second SettleIf against the old record = %v, %v: want false", ok, err)
	}

	missing := batch.Record{Key: "nobody", State: batch.Unknown, Time: base()}
	if ok, err := j.SettleIf(ctx, batch.Record{Key: "nobody", State: batch.Placed}, missing); err != nil || ok {
		t.Fatalf("SettleIf of a key without a record = %v, %v: want false", ok, err)
	}
	if _, ok, err := j.Get(ctx, "nobody"); err != nil || ok {
		t.Fatalf("SettleIf of a missing key wrote a record: %v, %v", ok, err)
	}
}

// SettleIf merges rec with the record stored, not with expect: an
// expectation need name only the key, state and time (SameRecord), and
// the outcome keeps what the claim knew, so an advertising job resolved
// unsent still frees its number.
func (s *suite) settleIfInheritsStored(t *testing.T) {
	j := s.open(t)
	t0 := base()
	claim(t, j, batch.ClaimRequest{Record: ad("a", t0), Interval: 24 * time.Hour})
	settle(t, j, batch.Record{Key: "a", State: batch.Unknown, Time: t0.Add(time.Second)})
	read := get(t, j, "a")
	expect := batch.Record{Key: "a", State: read.State, Time: read.Time}
	ok, err := j.SettleIf(ctx, batch.Record{Key: "a", State: batch.Unsent}, expect)
	if err != nil || !ok {
		t.Fatalf("SettleIf against key, state and time = %v, %v: want true", ok, err)
	}
	rec := wantState(t, j, "a", batch.Unsent)
	if rec.Kind != "otp" || len(rec.Phones) != 1 || rec.Purpose != batch.Advertising || rec.Run != "r" || !rec.ClaimedAt.Equal(t0) {
		t.Errorf("SettleIf did not Inherit the stored record: %+v", rec)
	}
	if ok, cur := claim(t, j, batch.ClaimRequest{Record: ad("b", t0.Add(time.Minute)), Interval: 24 * time.Hour}); !ok {
		t.Errorf("settled unsent by SettleIf, the job still holds the number: %+v", cur)
	}
}

// SettleIf compares times as SameRecord does, as instants: an expectation
// whose time is the record's in another zone is the record.
func (s *suite) settleIfInstants(t *testing.T) {
	j := s.open(t)
	mustClaim(t, j, batch.Record{Key: "a", Kind: "otp", Time: base()})
	settle(t, j, batch.Record{Key: "a", State: batch.Unknown, Time: base().Add(time.Minute)})
	read := get(t, j, "a")
	elsewhere := read
	elsewhere.Time = read.Time.In(time.FixedZone("UTC+7", 7*3600))
	if read.Time.Location().String() == "UTC+7" {
		elsewhere.Time = read.Time.UTC()
	}
	ok, err := j.SettleIf(ctx, batch.Record{Key: "a", State: batch.Placed}, elsewhere)
	if err != nil || !ok {
		t.Fatalf("SettleIf against the record's time in another zone = %v, %v: want true", ok, err)
	}
	wantState(t, j, "a", batch.Placed)
}

// Of many writers settling one record against the same expectation (an
// operator's Resolve racing SettleFromEvents, say), exactly one writes.
func (s *suite) settleIfRace(t *testing.T) {
	j := s.open(t)
	mustClaim(t, j, batch.Record{Key: "a", Kind: "otp", Time: base()})
	settle(t, j, batch.Record{Key: "a", State: batch.Unknown, Time: base().Add(time.Minute)})
	read := get(t, j, "a")
	const writers = 16
	var wins sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for w := 0; w < writers; w++ {
		wins.Add(1)
		go func() {
			defer wins.Done()
			to := batch.Placed
			if w%2 == 1 {
				to = batch.Unsent
			}
			ok, err := j.SettleIf(ctx, batch.Record{Key: "a", State: to, Reason: fmt.Sprint(w)}, read)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wins.Wait()
	if won != 1 {
		t.Fatalf("%d of %d SettleIf against one record wrote, want exactly 1", won, writers)
	}
}

// Records has each key once, as its latest record.
func (s *suite) recordsLatest(t *testing.T) {
	j := s.open(t)
	want := map[string]batch.State{}
	for i := 0; i < 5; i++ {
		k := fmt.Sprintf("k%d", i)
		mustClaim(t, j, batch.Record{Key: k})
		settle(t, j, batch.Record{Key: k, State: batch.Unsent})
		mustClaim(t, j, batch.Record{Key: k})
		want[k] = batch.Claimed
		if i%2 == 0 {
			settle(t, j, batch.Record{Key: k, State: batch.Placed})
			want[k] = batch.Placed
		}
	}
	recs, err := j.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want) {
		t.Fatalf("Records has %d records, want %d (one per key): %+v", len(recs), len(want), recs)
	}
	for _, r := range recs {
		if w, ok := want[r.Key]; !ok || r.State != w {
			t.Errorf("Records: %s is %s, want %s", r.Key, r.State, w)
		}
		delete(want, r.Key)
	}
}

const phone = "0912000033"

func ad(key string, at time.Time) batch.Record {
	return batch.Record{Key: key, Kind: "otp", Phones: []string{phone}, Purpose: batch.Advertising, Time: at, Run: "r"}
}

// An advertising claim of a number another job called within the
// interval is deferred (Unsent, CauseFrequency, NotBefore); one without an
// interval, or a transactional one, is not held back.
func (s *suite) indexDefers(t *testing.T) {
	j := s.open(t)
	t0 := base()
	if ok, cur := claim(t, j, batch.ClaimRequest{Record: ad("a", t0), Interval: 24 * time.Hour}); !ok {
		t.Fatalf("the first call to a number is held: %+v", cur)
	}
	ok, cur := claim(t, j, batch.ClaimRequest{Record: ad("b", t0.Add(time.Minute)), Interval: 24 * time.Hour})
	if ok {
		t.Fatal("a second advertising call within the interval was claimed")
	}
	if cur.State != batch.Unsent || cur.Cause != batch.CauseFrequency || !cur.NotBefore.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("the deferral is %+v: want Unsent, %s, NotBefore %v", cur, batch.CauseFrequency, t0.Add(24*time.Hour))
	}
	rec := wantState(t, j, "b", batch.Unsent)
	if rec.Cause != batch.CauseFrequency || !rec.NotBefore.Equal(cur.NotBefore) {
		t.Errorf("the deferral written is %+v, Claim returned %+v", rec, cur)
	}
	// The subscriber agreed to more calls (Interval 0): not held back.
	if ok, cur := claim(t, j, batch.ClaimRequest{Record: ad("c", t0.Add(2*time.Minute))}); !ok {
		t.Errorf("an advertising claim without an interval was held: %+v", cur)
	}
	// Transactional calls are not indexed, nor held.
	mustClaim(t, j, batch.Record{Key: "t", Phones: []string{"0912000043"}, Time: t0})
	next := ad("d", t0.Add(time.Minute))
	next.Phones = []string{"0912000043"}
	if ok, cur := claim(t, j, batch.ClaimRequest{Record: next, Interval: 24 * time.Hour}); !ok {
		t.Errorf("a transactional call held an advertising one back: %+v", cur)
	}
	// Once the interval has passed, the deferred job goes (it is unsent).
	if ok, cur := claim(t, j, batch.ClaimRequest{Record: ad("b", t0.Add(24*time.Hour+3*time.Minute)), Interval: 24 * time.Hour}); !ok {
		t.Errorf("the deferred job was held after the interval: %+v", cur)
	}
}

// Of many advertising jobs to one number claimed at once, from many
// workers (or hosts), exactly one is claimed: the check against the index
// is atomic with the claim. The others are deferred.
func (s *suite) indexClaimRace(t *testing.T) {
	j := s.open(t)
	t0 := base()
	const workers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	var claimed []string
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("ad%d", w)
			ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: ad(key, t0.Add(time.Duration(w)*time.Millisecond)), Interval: 24 * time.Hour})
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				claimed = append(claimed, key)
				mu.Unlock()
			} else if cur.State != batch.Unsent || cur.Cause != batch.CauseFrequency {
				t.Errorf("%s: not claimed, and not deferred either: %+v", key, cur)
			}
		}()
	}
	wg.Wait()
	if len(claimed) != 1 {
		t.Fatalf("%d advertising calls to one number were claimed at once (%v), want exactly 1", len(claimed), claimed)
	}
}

// A call's entry moves to its outcome's time when it may have called: the
// provider had the request until then.
func (s *suite) indexMoves(t *testing.T) {
	for _, st := range []batch.State{batch.Placed, batch.Unknown} {
		t.Run(string(st), func(t *testing.T) {
			j := s.open(t)
			t0 := base().Add(-3 * time.Hour)
			claim(t, j, batch.ClaimRequest{Record: ad("a", t0), Interval: 2 * time.Hour})
			settle(t, j, batch.Record{Key: "a", State: st, Time: t0.Add(30 * time.Minute)})
			ok, cur := claim(t, j, batch.ClaimRequest{Record: ad("b", t0.Add(2*time.Hour+10*time.Minute)), Interval: 2 * time.Hour})
			if ok {
				t.Fatal("held by the claim's time, not the outcome's: the call was claimed")
			}
			if want := t0.Add(2*time.Hour + 30*time.Minute); !cur.NotBefore.Equal(want) {
				t.Fatalf("NotBefore %v, want %v (the outcome's time + interval)", cur.NotBefore, want)
			}
			if ok, cur := claim(t, j, batch.ClaimRequest{Record: ad("b", t0.Add(2*time.Hour+31*time.Minute)), Interval: 2 * time.Hour}); !ok {
				t.Fatalf("held after the interval from the outcome: %+v", cur)
			}
		})
	}
}

// An Unsent or Refused outcome placed nothing: the number is free at once.
func (s *suite) indexFreed(t *testing.T) {
	for _, st := range []batch.State{batch.Unsent, batch.Refused} {
		t.Run(string(st), func(t *testing.T) {
			j := s.open(t)
			t0 := base()
			claim(t, j, batch.ClaimRequest{Record: ad("a", t0), Interval: 24 * time.Hour})
			settle(t, j, batch.Record{Key: "a", State: st, Cause: batch.CauseNetwork, Time: t0.Add(time.Second)})
			if ok, cur := claim(t, j, batch.ClaimRequest{Record: ad("b", t0.Add(time.Minute)), Interval: 24 * time.Hour}); !ok {
				t.Fatalf("a %s job still holds the number: %+v", st, cur)
			}
		})
	}
}

// Resolve of an advertising job from Unknown to Unsent frees the number
// (SettleIf updates the index as Settle does).
func (s *suite) resolveFrees(t *testing.T) {
	j := s.open(t)
	t0 := base()
	claim(t, j, batch.ClaimRequest{Record: ad("a", t0), Interval: 24 * time.Hour})
	settle(t, j, batch.Record{Key: "a", State: batch.Unknown, Time: t0.Add(time.Second)})
	if ok, _ := claim(t, j, batch.ClaimRequest{Record: ad("b", t0.Add(time.Minute)), Interval: 24 * time.Hour}); ok {
		t.Fatal("an unknown call does not hold the number")
	}
	if err := batch.Resolve(ctx, j, "a", batch.Unsent); err != nil {
		t.Fatal(err)
	}
	if ok, cur := claim(t, j, batch.ClaimRequest{Record: ad("b", t0.Add(2*time.Minute)), Interval: 24 * time.Hour}); !ok {
		t.Fatalf("resolved unsent, the job still holds the number: %+v", cur)
	}
	// Resolved placed, it holds it again from the resolution's time.
	settle(t, j, batch.Record{Key: "b", State: batch.Unknown, Time: t0.Add(3 * time.Minute)})
	if err := batch.Resolve(ctx, j, "b", batch.Placed); err != nil {
		t.Fatal(err)
	}
	if ok, _ := claim(t, j, batch.ClaimRequest{Record: ad("c", time.Now().Add(time.Minute)), Interval: 24 * time.Hour}); ok {
		t.Fatal("a job resolved placed does not hold the number")
	}
}

// A claim reads Claimed to a peer while its run's lease is current, and
// Unknown, naming its run, once the lease lapsed or ended.
func (s *suite) leaseCase(t *testing.T) {
	if s.peer == nil {
		t.Skip("no Peer hook: one process holds the journal")
	}
	j := s.open(t)
	p := s.peer(t, j)
	if err := j.Lease(ctx, "long", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := j.Lease(ctx, "short", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, j, batch.Record{Key: "live", Run: "long"})
	mustClaim(t, j, batch.Record{Key: "lapses", Run: "short"})
	mustClaim(t, j, batch.Record{Key: "nolease", Run: "never"})
	wantState(t, p, "live", batch.Claimed)
	wantState(t, p, "lapses", batch.Claimed)
	if rec := wantState(t, p, "nolease", batch.Unknown); rec.Run != "never" {
		t.Errorf("a dead claim reads without its run: %+v", rec)
	}
	wantState(t, j, "nolease", batch.Claimed) // its own claim, in flight here

	// Renewed, it stays live past its first ttl.
	for i := 0; i < 3; i++ {
		time.Sleep(150 * time.Millisecond)
		if err := j.Lease(ctx, "short", 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	wantState(t, p, "lapses", batch.Claimed)
	time.Sleep(500 * time.Millisecond)
	rec := wantState(t, p, "lapses", batch.Unknown)
	if rec.Run != "short" {
		t.Errorf("a lapsed claim reads without its run: %+v", rec)
	}
	if ok, cur := claim(t, p, batch.ClaimRequest{Record: batch.Record{Key: "lapses"}, Resend: batch.Resend{Refused: true}}); ok || cur.State != batch.Unknown {
		t.Errorf("Claim of a lapsed claim = %v, %+v: want false and Unknown", ok, cur)
	}
	recs, err := p.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if want := map[string]batch.State{"live": batch.Claimed, "lapses": batch.Unknown, "nolease": batch.Unknown}[r.Key]; r.State != want {
			t.Errorf("Records: %s reads %s, want %s", r.Key, r.State, want)
		}
	}

	// A live claim is not resolved; a dead one is, by the peer.
	if err := batch.Resolve(ctx, p, "live", batch.Unsent); !errors.Is(err, batch.ErrNotUnknown) {
		t.Errorf("Resolve of a live run's claim: %v, want ErrNotUnknown", err)
	}
	ok, err := p.SettleIf(ctx, batch.Record{Key: "live", State: batch.Unsent}, batch.Record{Key: "live", State: batch.Unknown, Time: get(t, p, "live").Time})
	if err != nil || ok {
		t.Errorf("SettleIf expecting Unknown wrote over a live claim: %v, %v", ok, err)
	}
	if err := batch.Resolve(ctx, p, "lapses", batch.Unsent); err != nil {
		t.Errorf("Resolve of a lapsed run's claim: %v", err)
	}
	wantState(t, j, "lapses", batch.Unsent)

	// An ended lease ends the claims' life at once.
	if err := j.Lease(ctx, "long", 0); err != nil {
		t.Fatal(err)
	}
	wantState(t, p, "live", batch.Unknown)
}

// A run's lease ended through the handle that claimed (the run is over):
// its unsettled claims read Unknown through that handle too, at once, and
// can be resolved; another run's claims stay its own.
func (s *suite) leaseEndedOwn(t *testing.T) {
	j := s.open(t)
	if err := j.Lease(ctx, "over", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := j.Lease(ctx, "going", time.Hour); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, j, batch.Record{Key: "left", Run: "over"})
	mustClaim(t, j, batch.Record{Key: "flying", Run: "going"})
	wantState(t, j, "left", batch.Claimed)
	if err := j.Lease(ctx, "over", 0); err != nil {
		t.Fatal(err)
	}
	if rec := wantState(t, j, "left", batch.Unknown); rec.Run != "over" || rec.Reason == "" {
		t.Errorf("an ended run's claim reads without its run or a reason: %+v", rec)
	}
	if ok, cur := claim(t, j, batch.ClaimRequest{Record: batch.Record{Key: "left"}, Resend: batch.Resend{Refused: true}}); ok || cur.State != batch.Unknown {
		t.Errorf("Claim of an ended run's claim = %v, %+v: want false and Unknown", ok, cur)
	}
	wantState(t, j, "flying", batch.Claimed)
	if err := batch.Resolve(ctx, j, "left", batch.Unsent); err != nil {
		t.Fatalf("Resolve of an ended run's claim: %v", err)
	}
	wantState(t, j, "left", batch.Unsent)
}

// Reopened after a crash, a claim without its outcome reads Unknown (and
// can be resolved); settled records and the index survive.
func (s *suite) reopenCase(t *testing.T) {
	if s.reopen == nil {
		t.Skip("no Reopen hook")
	}
	j := s.open(t)
	t0 := base()
	mustClaim(t, j, batch.Record{Key: "flying", Kind: "otp", Phones: []string{"0912000053"}, Run: "crashed", Time: t0})
	mustClaim(t, j, batch.Record{Key: "done", Time: t0})
	settle(t, j, batch.Record{Key: "done", State: batch.Placed, CallIDs: []string{"c"}})
	claim(t, j, batch.ClaimRequest{Record: ad("ad", t0), Interval: 24 * time.Hour})
	settle(t, j, batch.Record{Key: "ad", State: batch.Placed, Time: t0})

	j = s.reopen(t, j)
	rec := wantState(t, j, "flying", batch.Unknown)
	if rec.Run != "crashed" || len(rec.Phones) != 1 {
		t.Errorf("the dead claim lost what it knew: %+v", rec)
	}
	if ok, _ := claim(t, j, batch.ClaimRequest{Record: batch.Record{Key: "flying"}, Resend: batch.Resend{Refused: true}}); ok {
		t.Fatal("a dead claim was claimed again")
	}
	wantState(t, j, "done", batch.Placed)
	if ok, _ := claim(t, j, batch.ClaimRequest{Record: ad("ad2", t0.Add(time.Minute)), Interval: 24 * time.Hour}); ok {
		t.Error("the index was lost at reopening")
	}
	if err := batch.Resolve(ctx, j, "flying", batch.Placed); err != nil {
		t.Fatalf("Resolve of a dead claim: %v", err)
	}
	wantState(t, j, "flying", batch.Placed)
}
