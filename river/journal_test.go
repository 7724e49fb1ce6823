package autocallriver

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

func TestOpenNeedsMigrations(t *testing.T) {
	pool := poolOn(t, pg.DB(t))
	if _, err := NewJournal(ctx, pool); !errors.Is(err, ErrNotMigrated) {
		t.Fatalf("an empty database: %v, want ErrNotMigrated", err)
	}
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, pool); err != nil { // again: nothing to do
		t.Fatal(err)
	}
	if _, err := NewJournal(ctx, pool); err != nil {
		t.Fatal(err)
	}
}

// Of 16 replicas (pools of their own) claiming one key at once, exactly
// one succeeds, and every other sees the claim.
func TestClaimRaceAcrossReplicas(t *testing.T) {
	_, url := newPool(t)
	var js []*Journal
	for i := 0; i < 4; i++ {
		js = append(js, newJournal(t, poolOn(t, url)))
	}
	for round := 0; round < 20; round++ {
		key := fmt.Sprintf("order-%d", round)
		var won atomic.Int32
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, cur, err := js[w%4].Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: key, Kind: "otp", Run: "r"}})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					won.Add(1)
				} else if cur.Key != key {
					t.Errorf("a refused claim returned %+v", cur)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%s: %d claims succeeded", key, won.Load())
		}
	}
}

// One number in 5 advertising jobs claimed at once on 3 replicas: one
// claim, 4 deferred with CauseFrequency until 24 hours after it.
func TestAdvertisingIndexAcrossReplicas(t *testing.T) {
	_, url := newPool(t)
	var js []*Journal
	for i := 0; i < 3; i++ {
		js = append(js, newJournal(t, poolOn(t, url)))
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, batch.Vietnam())
	var won atomic.Int32
	var wg sync.WaitGroup
	for k := 0; k < 5; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, cur, err := js[k%3].Claim(ctx, batch.ClaimRequest{
				Record:   batch.Record{Key: fmt.Sprintf("ad-%d", k), Purpose: batch.Advertising, Phones: []string{"0987654321"}, Time: now, Run: "r"},
				Interval: 24 * time.Hour,
			})
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				won.Add(1)
				return
			}
			if cur.State != batch.Unsent || cur.Cause != batch.CauseFrequency || !cur.NotBefore.Equal(now.Add(24*time.Hour)) {
				t.Errorf("deferred: %+v", cur)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d advertising claims to one number", won.Load())
	}
}

// A claim reads Claimed to another replica while its run's lease is
// current, and Unknown once it lapses; to its own handle it is Claimed
// until the lease is ended.
func TestLeaseDecidesClaimedOrUnknown(t *testing.T) {
	_, url := newPool(t)
	a, b := newJournal(t, poolOn(t, url)), newJournal(t, poolOn(t, url))
	if err := a.Lease(ctx, "run-a", 600*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := a.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k", Run: "run-a"}}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	read := func(j *Journal) batch.State {
		rec, ok, err := j.Get(ctx, "k")
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		return rec.State
	}
	if s := read(b); s != batch.Claimed {
		t.Fatalf("a live lease: %s", s)
	}
	time.Sleep(800 * time.Millisecond)
	if s := read(b); s != batch.Unknown {
		t.Fatalf("a lapsed lease, another handle: %s", s)
	}
	if s := read(a); s != batch.Claimed {
		t.Fatalf("a lapsed lease, its own handle: %s", s)
	}
	if err := a.Lease(ctx, "run-a", 0); err != nil {
		t.Fatal(err)
	}
	if s := read(a); s != batch.Unknown {
		t.Fatalf("an ended lease, its own handle: %s", s)
	}
	// Unknown is not claimable: never sent again.
	if ok, cur, _ := b.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k", Run: "run-b"}, Resend: batch.Resend{Refused: true}}); ok || cur.State != batch.Unknown {
		t.Fatalf("claimed a job whose outcome is unknown: %v %+v", ok, cur)
	}
}

// SettleIf writes only over the record it was given, exactly as stored
// (times to the nanosecond).
func TestSettleIfComparesAndSets(t *testing.T) {
	pool, _ := newPool(t)
	j := newJournal(t, pool)
	at := time.Unix(1_800_000_000, 123456789)
	if ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k", Time: at, Kind: "otp", Phones: []string{"0987654321"}}}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := j.Settle(ctx, batch.Record{Key: "k", State: batch.Unknown, Time: at.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	cur, _, _ := j.Get(ctx, "k")
	if cur.Kind != "otp" || len(cur.Phones) != 1 || !cur.ClaimedAt.Equal(at) {
		t.Fatalf("settle lost what the claim knew: %+v", cur)
	}
	stale := cur
	stale.Time = stale.Time.Add(-time.Nanosecond)
	if ok, err := j.SettleIf(ctx, batch.Record{Key: "k", State: batch.Placed}, stale); ok || err != nil {
		t.Fatal("settled over a record that is not the one read", ok, err)
	}
	if ok, err := j.SettleIf(ctx, batch.Record{Key: "k", State: batch.Placed}, cur); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := batch.Resolve(ctx, j, "k", batch.Unsent); !errors.Is(err, batch.ErrNotUnknown) {
		t.Fatalf("resolving a placed job: %v", err)
	}
}
