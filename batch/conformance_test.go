package batch_test

import (
	"path/filepath"
	"testing"

	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/batch/journaltest"
)

func TestFileJournalConformance(t *testing.T) {
	open := func(t *testing.T) batch.Journal {
		j, err := batch.OpenFile(filepath.Join(t.TempDir(), "jobs.journal"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	}
	// The file's lock proves one process: no second live handle (Peer).
	journaltest.Run(t, open, journaltest.Reopen(func(t *testing.T, j batch.Journal) batch.Journal {
		fj := j.(*batch.FileJournal)
		if err := fj.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := batch.OpenFile(fj.Path())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { again.Close() })
		return again
	}), fileRetention)
}

func TestMemJournalConformance(t *testing.T) {
	journaltest.Run(t, func(*testing.T) batch.Journal { return batch.NewMemJournal() },
		journaltest.Reopen(func(t *testing.T, j batch.Journal) batch.Journal {
			m := j.(*batch.MemJournal)
			_ = m.Close()
			return m.Peer() // the same records, a new process's handle
		}),
		journaltest.Peer(func(t *testing.T, j batch.Journal) batch.Journal { return j.(*batch.MemJournal).Peer() }), memRetention)
}

func BenchmarkFileJournalClaimSettle(b *testing.B) {
	j, err := batch.OpenFile(filepath.Join(b.TempDir(), "bench.journal"))
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	journaltest.BenchClaimSettle(b, j)
}
