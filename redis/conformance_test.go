package autocallredis

import (
	"fmt"
	"sync/atomic"
	"testing"

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
	}, journaltest.Reopen(again), journaltest.Peer(again))
}
