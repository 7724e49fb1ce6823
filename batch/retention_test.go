package batch_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/batch/journaltest"
)

// fileRetention opens file journals for journaltest's retention cases.
var fileRetention = journaltest.Retention(func(t *testing.T, r batch.Retention, now func() time.Time) (batch.Journal, func(batch.Journal) batch.Journal) {
	path := filepath.Join(t.TempDir(), "jobs.journal")
	opts := []batch.JournalOption{batch.WithRetention(r), batch.WithClock(now)}
	j, err := batch.OpenFile(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, func(old batch.Journal) batch.Journal {
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := batch.OpenFile(path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { again.Close() })
		return again
	}
})

// memRetention opens memory journals for journaltest's retention cases.
var memRetention = journaltest.Retention(func(t *testing.T, r batch.Retention, now func() time.Time) (batch.Journal, func(batch.Journal) batch.Journal) {
	m := batch.NewMemJournal(batch.WithRetention(r), batch.WithClock(now))
	return m, func(j batch.Journal) batch.Journal {
		_ = j.Close()
		return j.(*batch.MemJournal).Peer()
	}
})
