package autocallriver

import (
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/batch/journaltest"
)

// The Postgres journal keeps the one contract: each subtest on a database
// of its own; Reopen closes the handle and opens the same tables again (a
// restarted process); Peer is another replica's handle (its own pool);
// Retention's journals compact by the hook's Retention and clock.
func TestConformance(t *testing.T) {
	urls := map[batch.Journal]string{}
	journaltest.Run(t, func(t *testing.T) batch.Journal {
		pool, url := newPool(t)
		j := newJournal(t, pool)
		urls[j] = url
		return j
	}, journaltest.Reopen(func(t *testing.T, j batch.Journal) batch.Journal {
		url := urls[j]
		j.Close()
		nj := newJournal(t, poolOn(t, url))
		urls[nj] = url
		return nj
	}), journaltest.Peer(func(t *testing.T, j batch.Journal) batch.Journal {
		url := urls[j]
		nj := newJournal(t, poolOn(t, url))
		urls[nj] = url
		return nj
	}), journaltest.Retention(func(t *testing.T, r batch.Retention, now func() time.Time) (batch.Journal, func(batch.Journal) batch.Journal) {
		pool, url := newPool(t)
		opts := []JournalOption{WithRetention(r), WithClock(now)}
		return newJournal(t, pool, opts...), func(j batch.Journal) batch.Journal {
			j.Close()
			return newJournal(t, poolOn(t, url), opts...)
		}
	}))
}
