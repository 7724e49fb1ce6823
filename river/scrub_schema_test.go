package autocallriver

import (
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// River in a schema of its own (Config.Schema): the code is blanked in
// that schema's river_job (the search path's has no River table here: a
// statement naming it would fail, and the code stay).
func TestScrubInRiversOwnSchema(t *testing.T) {
	url := pg.DB(t)
	pool := poolOn(t, url)
	if _, err := pool.Exec(ctx, `CREATE SCHEMA jobs`); err != nil {
		t.Fatal(err)
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: "jobs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	srv := autocalltest.NewServer()
	t.Cleanup(srv.Close)
	w := &Worker{Journal: newJournal(t, pool), TEL4VN: fastClient(t, srv.URL)}
	cfg := quickConfig()
	cfg.Schema = "jobs"
	startWorking(t, pool, w, 2, cfg, otpArgs(0))
	deadline := time.Now().Add(20 * time.Second)
	var state, code string
	for time.Now().Before(deadline) {
		if err := pool.QueryRow(ctx, `SELECT state, args->>'code' FROM jobs.river_job`).Scan(&state, &code); err != nil {
			t.Fatal(err)
		}
		if state == "completed" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if state != "completed" || code != "" {
		t.Fatalf("River job %s with code %q, want completed with none", state, code)
	}
	if rec, _, err := w.Journal.Get(ctx, "order-0"); err != nil || rec.State != "placed" {
		t.Fatalf("record %+v (%v), want placed", rec, err)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}
