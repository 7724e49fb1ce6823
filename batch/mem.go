package batch

import (
	"context"
	"errors"
	"sync"
	"time"
)

// MemJournal is a Journal in memory, with the rules of every journal (the
// claim's stamps, Inherit, the per-phone index, leases, SettleIf): for
// tests, and for a dry run that must skip what the real run would skip
// (load the real journal's records with Settle). Nothing survives the
// process.
//
// Peer opens a second handle on the same records, as a second process
// sharing a journal would hold one: a claim made through one handle reads
// as Claimed to the other only while its run's lease is current.
type MemJournal struct {
	s *memStore
	// own: this handle's claims not yet settled, key → run (under s.mu).
	own    map[string]string
	closed bool
}

// memStore is what the handles of one MemJournal share.
type memStore struct {
	mu      sync.Mutex
	records map[string]Record // latest record per key, as stored
	order   []string          // keys, in order of first appearance
	ads     adIndex
	leases  map[string]time.Time // run → when its lease lapses
	tombs   tombstones           // keys of the records compaction forgot
	opts    journalOptions
}

// NewMemJournal returns an empty journal in memory. It compacts when
// Compact is called (WithRetention, WithClock), never by itself.
func NewMemJournal(opts ...JournalOption) *MemJournal {
	return &MemJournal{s: &memStore{records: map[string]Record{}, ads: adIndex{}, leases: map[string]time.Time{},
		tombs: tombstones{}, opts: journalOpts(opts)}, own: map[string]string{}}
}

// Peer returns another handle on m's records, as a second process would
// open the same journal: m's unsettled claims are not its own.
func (m *MemJournal) Peer() *MemJournal {
	return &MemJournal{s: m.s, own: map[string]string{}}
}

var errClosed = errors.New("batch: journal closed")

// view is rec as Get reads it (Journal: live and dead claims), under s.mu.
func (m *MemJournal) view(rec Record) Record {
	if rec.State != Claimed {
		return rec
	}
	if _, mine := m.own[rec.Key]; mine {
		return rec
	}
	if until, ok := m.s.leases[rec.Run]; ok && rec.Run != "" && time.Now().Before(until) {
		return rec
	}
	return deadClaim(rec)
}

func (s *memStore) put(rec Record) {
	if _, ok := s.records[rec.Key]; !ok {
		s.order = append(s.order, rec.Key)
	}
	s.records[rec.Key] = rec
	s.ads.record(rec)
}

// Claim implements Journal.
func (m *MemJournal) Claim(_ context.Context, req ClaimRequest) (bool, Record, error) {
	rec := req.Record
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.closed {
		return false, Record{}, errClosed
	}
	cur, had := m.s.records[rec.Key]
	if had && !req.Resend.Claimable(cur) {
		return false, m.view(cur), nil
	}
	if !had {
		if f, ok := m.s.tombs.forgottenOrNone(rec.Key, req.Resend); ok {
			return false, f, nil
		}
	}
	if rec.Purpose == Advertising && req.Interval > 0 {
		if d := m.s.ads.holds(rec.Key, rec.Phones, rec.Time, req.Interval); d != nil {
			def := d.record(rec)
			def.ClaimedAt = time.Time{}
			if had {
				def = def.Inherit(cur)
			}
			m.s.put(def)
			return false, def, nil
		}
	}
	rec.State, rec.ClaimedAt = Claimed, rec.Time
	m.s.put(rec)
	m.own[rec.Key] = rec.Run
	return true, Record{}, nil
}

// Settle implements Journal.
func (m *MemJournal) Settle(_ context.Context, rec Record) error {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.closed {
		return errClosed
	}
	m.settleLocked(rec)
	return nil
}

func (m *MemJournal) settleLocked(rec Record) {
	if cur, ok := m.s.records[rec.Key]; ok {
		rec = rec.Inherit(cur)
	}
	m.s.put(rec)
	delete(m.own, rec.Key)
}

// SettleIf implements Journal.
func (m *MemJournal) SettleIf(_ context.Context, rec, expect Record) (bool, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.closed {
		return false, errClosed
	}
	cur, ok := m.s.records[rec.Key]
	if !ok || !SameRecord(m.view(cur), expect) {
		return false, nil
	}
	m.settleLocked(rec)
	return true, nil
}

// Get implements Journal.
func (m *MemJournal) Get(_ context.Context, key string) (Record, bool, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	rec, ok := m.s.records[key]
	return m.view(rec), ok, nil
}

// Records implements Journal, in the order the keys first appeared.
func (m *MemJournal) Records(context.Context) ([]Record, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	out := make([]Record, 0, len(m.s.order))
	for _, k := range m.s.order {
		out = append(out, m.view(m.s.records[k]))
	}
	return out, nil
}

// Lease implements Journal: leases are kept by the wall clock.
func (m *MemJournal) Lease(_ context.Context, run string, ttl time.Duration) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.closed {
		return errClosed
	}
	if ttl > 0 {
		m.s.leases[run] = time.Now().Add(ttl)
		return nil
	}
	delete(m.s.leases, run)
	for k, r := range m.own {
		if r == run {
			delete(m.own, k)
		}
	}
	return nil
}

// Close implements Journal: the handle's unsettled claims are no longer
// its own, as when a process ends; the records stay for other handles.
func (m *MemJournal) Close() error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	m.closed = true
	clear(m.own)
	return nil
}

// Compact implements Compactor: the records Retention.Fate lets go are
// dropped, Placed ones leaving a tombstone; the expired tombstones go.
func (m *MemJournal) Compact(context.Context) (Compaction, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.closed {
		return Compaction{}, errClosed
	}
	var c Compaction
	now := m.s.opts.now()
	c.Expired = m.s.tombs.expire(m.s.opts.retention, now)
	order := m.s.order[:0]
	for _, k := range m.s.order {
		rec := m.s.records[k]
		switch m.s.opts.retention.Fate(rec, now) {
		case Keep:
			order = append(order, k)
			c.Kept++
			continue
		case Forget:
			m.s.tombs.add(rec.Time, KeyHash(k))
			c.Forgotten++
		case Drop:
			c.Dropped++
		}
		delete(m.s.records, k)
		m.s.ads.drop(k, rec.Phones)
	}
	clear(m.s.order[len(order):])
	m.s.order = order
	c.Tombstones = m.s.tombs.count()
	return c, nil
}

// Horizon says how far back the journal remembers.
func (m *MemJournal) Horizon() Horizon {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	h := Horizon{Retention: m.s.opts.retention, Records: len(m.s.records), Keys: m.s.tombs.count(), OldestKey: m.s.tombs.oldest()}
	for _, r := range m.s.records {
		if h.OldestRecord.IsZero() || r.Time.Before(h.OldestRecord) {
			h.OldestRecord = r.Time
		}
	}
	return h
}

var (
	_ Journal   = (*MemJournal)(nil)
	_ Compactor = (*MemJournal)(nil)
)
