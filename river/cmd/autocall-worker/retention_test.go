package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// The worker compacts the journal at start (--compact-every): records
// past --retention go, their keys kept as tombstones.
func TestWorkerCompactsTheJournal(t *testing.T) {
	dbURL, pool := migratedDB(t)
	j, err := autocallriver.NewJournal(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-10 * 24 * time.Hour)
	for i := range 20 {
		key := fmt.Sprintf("order-%d", i)
		if ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: key, Kind: "otp", Time: old}}); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if err := j.Settle(ctx, batch.Record{Key: key, State: batch.Placed, Time: old}); err != nil {
			t.Fatal(err)
		}
	}
	w := startWorker(t, dbURL, autocalltest.NewServer(), "--retention", "7d", "--compact-every", "1h")
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := j.Horizon(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Keys == 20 && h.Records == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not compact the journal: %+v\n%s", h, tail(w.out.String(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.term(t)
	if out := w.out.String(); !strings.Contains(out, "compacted the journal") || !strings.Contains(out, "forgotten=20") {
		t.Fatalf("the worker's log does not say what it compacted:\n%s", tail(out, 2000))
	}
}

// Retention flags are checked before the database is reached.
func TestWorkerRetentionFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--retention", "0"},
		{"--retention", "soon"},
		{"--retention", "30d", "--key-retention", "7d"},
	} {
		var stdout, stderr bytes.Buffer
		code := execute(ctx, append([]string{"run"}, args...), &stdout, &stderr, func(string) string { return "" })
		if code == 0 || !strings.Contains(stderr.String(), "retention") || strings.Contains(stderr.String(), "DATABASE_URL") {
			t.Errorf("run %v: exit %d, %q", args, code, stderr.String())
		}
	}
}
