package autocallredis

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/batch/journaltest"
)

// The Redis journal keeps the contract every journal keeps; a peer is a
// second client and handle on the same journal, as another host's.
func TestJournalConformance(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	var n atomic.Int64
	again := func(t *testing.T, j batch.Journal) batch.Journal {
		return NewJournal(rs.client(t), j.(*Journal).hash[len("autocall:journal:"):])
	}
	journaltest.Run(t, func(t *testing.T) batch.Journal {
		return NewJournal(rs.client(t), fmt.Sprintf("conformance-%d", n.Add(1)))
	}, journaltest.Reopen(again), journaltest.Peer(again), journaltest.Retention(
		func(t *testing.T, r batch.Retention, now func() time.Time) (batch.Journal, func(batch.Journal) batch.Journal) {
			name := fmt.Sprintf("retention-%d", n.Add(1))
			opts := []JournalOption{WithRetention(r), WithClock(now)}
			return NewJournal(rs.client(t), name, opts...), func(batch.Journal) batch.Journal {
				return NewJournal(rs.client(t), name, opts...)
			}
		}))
}

func BenchmarkRedisJournalClaimSettle(b *testing.B) {
	rs := startRedis(b, b.TempDir(), 0)
	journaltest.BenchClaimSettle(b, NewJournal(rs.client(b), "bench"))
}
