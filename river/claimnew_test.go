package autocallriver

import (
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

// claimNew, the one-round-trip claim, writes only a key that has no
// record, no live tombstone and no pause in its way, and writes nothing
// otherwise: Claim's long way decides those.
func TestClaimNewOnlyForAFreeKey(t *testing.T) {
	pool, _ := newPool(t)
	j := newJournal(t, pool)
	must(t, j.Lease(ctx, "r1", time.Minute)) // its claims read Claimed, not Unknown
	req := func(key string) batch.ClaimRequest {
		return batch.ClaimRequest{Record: batch.Record{Key: key, Kind: "otp", Run: "r1", Time: time.Now()}}
	}
	count := func(key string) (n int) {
		must(t, pool.QueryRow(ctx, `SELECT count(*) FROM autocall_job WHERE key = $1`, key).Scan(&n))
		return n
	}

	ok, err := j.claimNew(ctx, req("free"), req("free").Record, "acct")
	must(t, err)
	if !ok {
		t.Error("a key with nothing in its way")
	}
	rec, had, err := j.Get(ctx, "free")
	must(t, err)
	if !had {
		t.Fatal("no record")
	}
	if rec.State != batch.Claimed {
		t.Errorf("rec.State = %v, want %v", rec.State, batch.Claimed)
	}
	if rec.Run != "r1" {
		t.Errorf("rec.Run = %v, want %v", rec.Run, "r1")
	}

	placed := req("placed")
	placed.Record.State = batch.Placed
	must(t, j.Settle(ctx, placed.Record))
	ok, err = j.claimNew(ctx, req("placed"), req("placed").Record, "")
	must(t, err)
	if ok {
		t.Error("claimed: " + "a key with a record")
	}
	rec, _, _ = j.Get(ctx, "placed")
	if rec.State != batch.Placed {
		t.Errorf("rec.State = %v, want %v", rec.State, batch.Placed)
	}

	_, err = pool.Exec(ctx, `INSERT INTO autocall_forgotten (hash, day) VALUES ($1, $2)`, keyHash("forgotten"), int32(time.Now().Unix()/86400))
	must(t, err)
	ok, err = j.claimNew(ctx, req("forgotten"), req("forgotten").Record, "")
	must(t, err)
	if ok {
		t.Error("claimed: " + "a key with a tombstone")
	}
	if n := count("forgotten"); n != 0 {
		t.Errorf("%d records of forgotten, want none", n)
	}
	again := req("forgotten")
	again.Resend.Forgotten = true
	ok, err = j.claimNew(ctx, again, again.Record, "")
	must(t, err)
	if !ok {
		t.Error("a tombstone the claim may pass (Resend.Forgotten)")
	}

	l := NewLimiter(pool, "acct", 0, 1)
	must(t, l.Pause(ctx, time.Minute))
	ok, err = j.claimNew(ctx, req("paused"), req("paused").Record, "acct")
	must(t, err)
	if ok {
		t.Error("claimed: " + "the account is paused")
	}
	if n := count("paused"); n != 0 {
		t.Errorf("%d records of paused, want none", n)
	}
	ok, err = j.claimNew(ctx, req("other"), req("other").Record, "another")
	must(t, err)
	if !ok {
		t.Error("another account's pause is not this one's")
	}

	// Claim takes the long way for what claimNew left: the pause is
	// written as a deferral.
	claimed, cur, err := j.claimUnpaused(ctx, req("paused"), "acct")
	must(t, err)
	if claimed {
		t.Error("claimed while paused")
	}
	if cur.State != batch.Unsent {
		t.Errorf("cur.State = %v, want %v", cur.State, batch.Unsent)
	}
	if cur.Cause != batch.CauseRate {
		t.Errorf("cur.Cause = %v, want %v", cur.Cause, batch.CauseRate)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
