package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// An advertising job to a number on the Do-Not-Call list given to the
// worker (--dnc, or AUTOCALL_DNC_FILE) is refused with its cause and never
// called: the worker, like `autocall --dnc`, can hold the list.
func TestWorkerRefusesDoNotCallNumbers(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	dbURL, pool := migratedDB(t)
	dnc := filepath.Join(t.TempDir(), "dnc.txt")
	if err := os.WriteFile(dnc, []byte("0912000013\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := startWorker(t, dbURL, srv, "--dnc", dnc)
	insertOnly, err := river.NewClient(riverpgxv5New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	args := autocallriver.OTPArgs{Common: autocallriver.Common{Key: "promo-1", Purpose: "advertising"},
		CampaignID: "1", Caller: "02873001234", Callees: []string{"+84912000013"}, TemplateName: "otp", Code: "1234"}
	if _, err := insertOnly.Insert(ctx, args, nil); err != nil {
		t.Fatal(err)
	}
	j, err := autocallriver.NewJournal(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, ok, err := j.Get(ctx, "promo-1")
		if err == nil && ok && rec.State == batch.Refused {
			if rec.Cause != batch.CauseDoNotCall || len(srv.Calls()) != 0 {
				t.Fatalf("%+v, %d calls", rec, len(srv.Calls()))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not refused: %+v %v %v, %d calls\n%s", rec, ok, err, len(srv.Calls()), tail(w.out.String(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.term(t)
}
