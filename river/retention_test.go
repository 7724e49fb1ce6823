package autocallriver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// day is a test's time unit: the default retention is 30 of them.
const day = 24 * time.Hour

// seed claims rec at its time and settles it with out (State, and for an
// Unsent one its NotBefore).
func seed(t *testing.T, j *Journal, rec batch.Record, out batch.Record) {
	t.Helper()
	if ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: rec}); err != nil || !ok {
		t.Fatalf("Claim(%s) = %v, %+v, %v", rec.Key, ok, cur, err)
	}
	out.Key, out.Time = rec.Key, rec.Time
	if err := j.Settle(ctx, out); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, j *Journal, query string, args ...any) int {
	t.Helper()
	var n int
	if err := j.pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Compact goes page by page (7 records a transaction here): pages of
// records it keeps (deferred, the oldest) do not stop it; dropped
// advertising records leave the per-phone index; a forgotten key's claim
// is refused, a dropped unsent one's is taken.
func TestCompactInPages(t *testing.T) {
	pool, _ := newPool(t)
	now := time.Now()
	j := newJournal(t, pool, WithClock(func() time.Time { return now }))
	j.opts.page = 7
	for i := range 10 {
		seed(t, j, batch.Record{Key: fmt.Sprintf("deferred-%d", i), Kind: "otp", Time: now.Add(-50*day + time.Duration(i))},
			batch.Record{State: batch.Unsent, Cause: batch.CauseHours, NotBefore: now.Add(time.Hour)})
	}
	for i := range 30 {
		rec := batch.Record{Key: fmt.Sprintf("placed-%d", i), Kind: "tts", Phones: []string{fmt.Sprintf("09000000%02d", i)}, Time: now.Add(-40*day + time.Duration(i))}
		if i%2 == 0 {
			rec.Purpose = batch.Advertising
		}
		seed(t, j, rec, batch.Record{State: batch.Placed, CallIDs: []string{"c"}})
	}
	for i := range 5 {
		seed(t, j, batch.Record{Key: fmt.Sprintf("unsent-%d", i), Kind: "otp", Time: now.Add(-35 * day)}, batch.Record{State: batch.Unsent, Cause: batch.CauseNetwork})
	}
	for i := range 3 {
		seed(t, j, batch.Record{Key: fmt.Sprintf("recent-%d", i), Kind: "otp", Time: now.Add(-day)}, batch.Record{State: batch.Placed})
	}
	if n := count(t, j, `SELECT count(*) FROM autocall_adcall`); n != 15 {
		t.Fatalf("%d index entries before compaction, want 15", n)
	}
	res, err := j.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Forgotten != 30 || res.Dropped != 5 || res.Kept != 13 || res.Tombstones != 30 {
		t.Fatalf("Compact = %+v, want 30 forgotten, 5 dropped, 13 kept, 30 tombstones", res)
	}
	if n := count(t, j, `SELECT count(*) FROM autocall_adcall`); n != 0 {
		t.Fatalf("%d index entries of dropped records left", n)
	}
	for _, k := range []string{"placed-0", "placed-29"} {
		ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: k, Kind: "tts", Time: now}})
		if err != nil || ok || !batch.IsForgotten(cur) {
			t.Fatalf("Claim(%s) = %v, %+v, %v; want refused as forgotten", k, ok, cur, err)
		}
		if want := time.Unix(0, 0).Add(time.Duration(dayOf(now.Add(-40*day))+1) * day); !cur.Time.Equal(want) {
			t.Errorf("the forgotten record's time %v, want the end of its day %v", cur.Time, want)
		}
	}
	if ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "unsent-0", Kind: "otp", Time: now}}); err != nil || !ok {
		t.Fatalf("Claim(unsent-0) = %v, %+v, %v; want claimed (never sent)", ok, cur, err)
	}
	h, err := j.Horizon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Records != 14 || h.Keys != 30 || !h.OldestRecord.Equal(time.Unix(0, now.Add(-50*day).UnixNano())) ||
		!h.OldestKey.Equal(dayStart(dayOf(now.Add(-40*day)))) || h.Retention.Records != batch.DefaultRecordRetention {
		t.Fatalf("Horizon = %+v", h)
	}
}

// Claims of keys being compacted, from 4 replicas at once: a placed key
// is never claimed (its record or its tombstone is in the way, never
// neither), an unsent key exactly once.
func TestCompactRacesClaims(t *testing.T) {
	_, url := newPool(t)
	now := time.Now()
	opts := []JournalOption{WithClock(func() time.Time { return now })}
	var js []*Journal
	for range 4 {
		js = append(js, newJournal(t, poolOn(t, url), opts...))
	}
	js[0].opts.page = 16
	const n = 150
	for i := range n {
		old := now.Add(-40 * day)
		seed(t, js[0], batch.Record{Key: fmt.Sprintf("placed-%d", i), Kind: "otp", Time: old}, batch.Record{State: batch.Placed})
		seed(t, js[0], batch.Record{Key: fmt.Sprintf("unsent-%d", i), Kind: "otp", Time: old}, batch.Record{State: batch.Unsent})
	}
	var wins [n]atomic.Int32
	var wg sync.WaitGroup
	compacted := make(chan batch.Compaction, 1)
	go func() {
		res, err := js[0].Compact(ctx)
		if err != nil {
			t.Error(err)
		}
		compacted <- res
	}()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				for _, k := range []string{fmt.Sprintf("placed-%d", i), fmt.Sprintf("unsent-%d", i)} {
					ok, cur, err := js[w].Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: k, Kind: "otp", Time: now}})
					switch {
					case err != nil:
						t.Error(err)
					case ok && strings.HasPrefix(k, "placed"):
						t.Errorf("%s, placed, claimed again during compaction", k)
					case ok:
						wins[i].Add(1)
					case strings.HasPrefix(k, "placed") && cur.State != batch.Placed && !batch.IsForgotten(cur):
						t.Errorf("%s: claim met %+v", k, cur)
					}
				}
			}
		}()
	}
	wg.Wait()
	res := <-compacted
	for i := range n {
		if w := wins[i].Load(); w != 1 {
			t.Errorf("unsent-%d claimed %d times", i, w)
		}
	}
	if res.Forgotten != n {
		t.Errorf("Compact = %+v, want %d forgotten", res, n)
	}
}

// A database at version 1 (before retention) is refused at open until
// Migrate upgrades it; its records stay, and compact.
func TestMigrateUpgradesToRetention(t *testing.T) {
	pool := poolOn(t, pg.DB(t))
	for _, q := range []string{`CREATE TABLE autocall_schema (version int NOT NULL)`, migrations[1], `INSERT INTO autocall_schema VALUES (1)`} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-40 * day)
	if _, err := pool.Exec(ctx, `INSERT INTO autocall_job (key, state, time_ns, kind) VALUES ('order-1', 'placed', $1, 'otp')`, old.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := NewJournal(ctx, pool); !errors.Is(err, ErrNotMigrated) || !strings.Contains(err.Error(), "version 1") {
		t.Fatalf("NewJournal at version 1: %v, want ErrNotMigrated", err)
	}
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	j := newJournal(t, pool)
	if rec, ok, err := j.Get(ctx, "order-1"); err != nil || !ok || rec.State != batch.Placed {
		t.Fatalf("Get after the upgrade = %+v, %v, %v", rec, ok, err)
	}
	if res, err := j.Compact(ctx); err != nil || res.Forgotten != 1 {
		t.Fatalf("Compact = %+v, %v", res, err)
	}
	if ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "order-1", Kind: "otp"}}); err != nil || ok || !batch.IsForgotten(cur) {
		t.Fatalf("Claim = %v, %+v, %v; want refused as forgotten", ok, cur, err)
	}
}

// CompactEvery compacts at once and then every interval, until its
// context ends.
func TestCompactEvery(t *testing.T) {
	pool, _ := newPool(t)
	now := time.Now()
	j := newJournal(t, pool, WithRetention(batch.Retention{Records: time.Hour}), WithClock(func() time.Time { return now }))
	seed(t, j, batch.Record{Key: "k", Kind: "otp", Time: now.Add(-2 * time.Hour)}, batch.Record{State: batch.Placed})
	c, cancel := context.WithCancel(ctx)
	reports := make(chan batch.Compaction, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.CompactEvery(c, 20*time.Millisecond, func(res batch.Compaction, err error) {
			if err != nil {
				t.Error(err)
			}
			reports <- res
		})
	}()
	if first := <-reports; first.Forgotten != 1 {
		t.Fatalf("first compaction %+v", first)
	}
	if second := <-reports; second.Forgotten != 0 || second.Tombstones != 1 {
		t.Fatalf("second compaction %+v", second)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("CompactEvery did not return when its context ended")
	}
}

// A River job of a forgotten key is cancelled, refused as forgotten, and
// nobody is phoned.
func TestForgottenJobIsCancelledNotSent(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	j := newJournal(t, pool)
	old := time.Now().Add(-40 * day)
	seed(t, j, batch.Record{Key: otpArgs(1).Key, Kind: "otp", Time: old}, batch.Record{State: batch.Placed})
	if res, err := j.Compact(ctx); err != nil || res.Forgotten != 1 {
		t.Fatalf("Compact = %+v, %v", res, err)
	}
	r := startReplica(t, url, srv, replicaOpts{})
	res := insertOrder(t, r.client, pool, otpArgs(1), true)
	waitSettled(t, pool, 0, 20*time.Second)
	job, err := r.client.JobGet(ctx, res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != rivertype.JobStateCancelled || len(srv.Calls()) != 0 {
		t.Fatalf("River job %s, %d calls", job.State, len(srv.Calls()))
	}
	if len(job.Errors) == 0 || !strings.Contains(job.Errors[len(job.Errors)-1].Error, batch.CauseForgotten) {
		t.Fatalf("errors: %+v", job.Errors)
	}
	if _, ok, _ := r.j.Get(ctx, otpArgs(1).Key); ok {
		t.Fatal("the forgotten job's refusal was stored")
	}
}
