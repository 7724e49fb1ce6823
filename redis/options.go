package autocallredis

// A JournalOption configures a Journal (NewJournal).
type JournalOption func(*journalOptions)

type journalOptions struct {
	acceptEviction bool
	acceptCrash    bool
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
// Without it, Check and the first Claim refuse such a Redis.
func AcceptDoubleCallsOnCrash() JournalOption {
	return func(o *journalOptions) { o.acceptCrash = true }
}
