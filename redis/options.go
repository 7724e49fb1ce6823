package autocallredis

import (
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

// A JournalOption configures a Journal (NewJournal).
type JournalOption func(*journalOptions)

type journalOptions struct {
	acceptEviction bool
	acceptCrash    bool
	minReplicas    int
	replicaTimeout time.Duration
	retention      batch.Retention  // retention.go
	now            func() time.Time // the clock retention judges ages by
}

// AcceptDoubleCallsOnEviction lets the journal run on a Redis whose
// eviction policy may delete it (maxmemory-policy allkeys-*), or whose
// policy cannot be read (CONFIG renamed or forbidden). What is risked: an
// evicted journal forgets its claims, and a re-run phones those customers
// a second time. Without it, Check and the first Claim refuse such a Redis.
func AcceptDoubleCallsOnEviction() JournalOption {
	return func(o *journalOptions) { o.acceptEviction = true }
}

// AcceptDoubleCallsOnCrash lets the journal run on a Redis that may lose
// acknowledged writes when it crashes or restarts: no append-only file
// (appendonly no), an fsync less often than every write (appendfsync
// everysec or no), or settings that cannot be read (CONFIG renamed or
// forbidden). What is risked: claims made since the last fsync or
// snapshot are lost, and a re-run phones those customers a second time.
// MinReplicas narrows the risk to losing the primary and every replica at
// once. Without it, Check and the first Claim refuse such a Redis.
func AcceptDoubleCallsOnCrash() JournalOption {
	return func(o *journalOptions) { o.acceptCrash = true }
}

// MinReplicas makes each successful claim wait (Redis's WAIT, on the
// connection that made the claim) until n replicas acknowledge it, for at
// most timeout, so that a replica promoted after a failover knows every
// claim whose request left. A claim that reaches fewer replicas in time is
// recorded back as unsent (nothing was sent) and Claim returns an error
// matching ErrNotReplicated, which stops a batch run.
//
// It works with *redis.Client (including a Sentinel failover client) and
// *redis.ClusterClient (WAIT is sent to the primary that owns the
// journal); on another client the first Claim fails. WAIT acknowledges
// that replicas received the claim, not that they wrote it to disk. n <= 0
// turns it off; timeout <= 0 means one second.
func MinReplicas(n int, timeout time.Duration) JournalOption {
	return func(o *journalOptions) {
		o.minReplicas = max(n, 0)
		o.replicaTimeout = timeout
		if o.replicaTimeout <= 0 {
			o.replicaTimeout = time.Second
		}
	}
}
