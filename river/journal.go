package autocallriver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autocallvn/autocall-go/batch"
)

// Journal is a batch.Journal in PostgreSQL: the database an order service
// already has, shared by every replica, by River's workers and by
// batch.Runner (a cron CSV and the service share one truth). Its tables
// are autocall_* (Migrate).
//
// Every write takes a transaction-scoped advisory lock on the job's key
// (then on each advertising phone, in order), so that of several claims of
// one key on any replica exactly one succeeds, and the per-phone index of
// advertising calls is checked and written atomically with the claim. A
// claim is committed before Claim returns, so before the request leaves.
// A claim reads as Claimed while its run's lease (Lease, a row with an
// expiry by the database's clock) is current, or while it is this handle's
// own unsettled claim; otherwise it reads as Unknown.
type Journal struct {
	pool     *pgxpool.Pool
	ownsPool bool
	opts     journalOptions // retention.go

	mu     sync.Mutex
	own    map[string]string // this handle's unsettled claims: key → run
	closed bool
}

// ErrClosed: the journal was closed.
var ErrClosed = errors.New("autocallriver: journal closed")

// NewJournal returns the journal in pool's database; it fails with
// ErrNotMigrated unless Migrate has created (or upgraded) its tables.
// Close leaves the pool open. Options: WithRetention, WithClock.
func NewJournal(ctx context.Context, pool *pgxpool.Pool, opts ...JournalOption) (*Journal, error) {
	if err := checkMigrated(ctx, pool); err != nil {
		return nil, err
	}
	return &Journal{pool: pool, own: map[string]string{}, opts: journalOpts(opts)}, nil
}

// OpenJournal connects to url (postgres://…) and returns the journal
// there, for a program that has no pool of its own (the command's
// --journal postgres://…). Close closes the connection pool.
func OpenJournal(ctx context.Context, url string, opts ...JournalOption) (*Journal, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("autocallriver: %w", err)
	}
	j, err := NewJournal(ctx, pool, opts...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	j.ownsPool = true
	return j, nil
}

// Pool is the journal's connection pool.
func (j *Journal) Pool() *pgxpool.Pool { return j.pool }

var _ batch.Journal = (*Journal)(nil)

const recordColumns = `j.key, j.state, j.time_ns, j.claimed_ns, j.kind, j.campaign, j.phones, j.call_ids,
	j.session_id, j.code, j.reason, j.cause, j.run, j.purpose, j.not_before_ns,
	coalesce(l.expires > clock_timestamp(), false)`

// stored is a record as the table holds it, with whether its run's lease
// is current.
type stored struct {
	batch.Record
	live bool
}

func scanRecord(row pgx.Row) (stored, error) {
	var s stored
	var state, purpose string
	var t int64
	var claimed, notBefore *int64
	err := row.Scan(&s.Key, &state, &t, &claimed, &s.Kind, &s.Campaign, &s.Phones, &s.CallIDs,
		&s.SessionID, &s.Code, &s.Reason, &s.Cause, &s.Run, &purpose, &notBefore, &s.live)
	s.State, s.Purpose, s.Time = batch.State(state), batch.Purpose(purpose), time.Unix(0, t)
	s.Claimed, s.NotBefore = timeOf(claimed), timeOf(notBefore)
	return s, err
}

func timeOf(ns *int64) time.Time {
	if ns == nil {
		return time.Time{}
	}
	return time.Unix(0, *ns)
}

func nsOf(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// view is s as Get reads it: a claim that is neither this handle's own
// nor held by a current lease was left by a run that ended: Unknown.
func (j *Journal) view(s stored) batch.Record {
	if s.State != batch.Claimed || s.live {
		return s.Record
	}
	j.mu.Lock()
	run, mine := j.own[s.Key]
	j.mu.Unlock()
	if mine && run == s.Run {
		return s.Record
	}
	rec := s.Record
	rec.State = batch.Unknown
	if rec.Reason == "" {
		rec.Reason = "claimed by run " + rec.Run + ", which ended (or stopped renewing its lease) before it recorded the outcome"
	}
	return rec
}

// lockKey serialises every write of one key, across replicas, until the
// transaction ends.
func lockKey(ctx context.Context, tx pgx.Tx, key string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('autocall:job:' || $1, 0))`, key)
	return err
}

// lockPhones serialises the index's checks and writes of each phone, in
// one order (no deadlock), after the key's lock.
func lockPhones(ctx context.Context, tx pgx.Tx, phones []string) error {
	ps := slices.Clone(phones)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('autocall:phone:' || p, 0))
		FROM unnest($1::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n`, ps)
	return err
}

func get(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, key string) (stored, bool, error) {
	s, err := scanRecord(q.QueryRow(ctx, `SELECT `+recordColumns+`
		FROM autocall_job j LEFT JOIN autocall_lease l ON l.run = j.run AND j.state = 'claimed'
		WHERE j.key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return stored{}, false, nil
	}
	return s, err == nil, err
}

// put writes rec as the key's record and brings the index up to date (the
// locks are held).
func put(ctx context.Context, tx pgx.Tx, rec batch.Record) error {
	_, err := tx.Exec(ctx, `INSERT INTO autocall_job (key, state, time_ns, claimed_ns, kind, campaign, phones,
			call_ids, session_id, code, reason, cause, run, purpose, not_before_ns)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (key) DO UPDATE SET state = $2, time_ns = $3, claimed_ns = $4, kind = $5, campaign = $6,
			phones = $7, call_ids = $8, session_id = $9, code = $10, reason = $11, cause = $12, run = $13,
			purpose = $14, not_before_ns = $15`,
		rec.Key, string(rec.State), rec.Time.UnixNano(), nsOf(rec.Claimed), rec.Kind, rec.Campaign, rec.Phones,
		rec.CallIDs, rec.SessionID, rec.Code, rec.Reason, rec.Cause, rec.Run, string(rec.Purpose), nsOf(rec.NotBefore))
	if err != nil || rec.Purpose != batch.Advertising || len(rec.Phones) == 0 {
		return err
	}
	// State.MayHaveCalled: the entry moves to this record's time; a job
	// that placed nothing frees its numbers.
	if rec.State.MayHaveCalled() {
		_, err = tx.Exec(ctx, `INSERT INTO autocall_adcall (phone, key, at_ns)
			SELECT p, $2, $3 FROM unnest($1::text[]) AS p
			ON CONFLICT (phone, key) DO UPDATE SET at_ns = excluded.at_ns`, rec.Phones, rec.Key, rec.Time.UnixNano())
	} else {
		_, err = tx.Exec(ctx, `DELETE FROM autocall_adcall WHERE key = $2 AND phone = ANY($1)`, rec.Phones, rec.Key)
	}
	return err
}

// holds is the Deferral of an advertising claim: the latest call by
// another job to one of phones less than interval before now.
func holds(ctx context.Context, tx pgx.Tx, key string, phones []string, now time.Time, interval time.Duration) (*batch.Deferral, error) {
	var phone string
	var until int64
	err := tx.QueryRow(ctx, `SELECT phone, at_ns + $4 AS until FROM autocall_adcall
		WHERE phone = ANY($1) AND key <> $2 AND at_ns + $4 > $3
		ORDER BY until DESC LIMIT 1`, phones, key, now.UnixNano(), int64(interval)).Scan(&phone, &until)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &batch.Deferral{Cause: batch.CauseFrequency, Phone: phone, NotBefore: time.Unix(0, until)}, nil
}

func (j *Journal) isClosed() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrClosed
	}
	return nil
}

// Claim implements batch.Journal: atomic across replicas, committed before
// it returns.
func (j *Journal) Claim(ctx context.Context, req batch.ClaimRequest) (bool, batch.Record, error) {
	if err := j.isClosed(); err != nil {
		return false, batch.Record{}, err
	}
	rec := req.Record
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	adv := rec.Purpose == batch.Advertising
	var claimed bool
	var existing batch.Record
	err := pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
		claimed, existing = false, batch.Record{}
		if err := lockKey(ctx, tx, rec.Key); err != nil {
			return err
		}
		cur, had, err := get(ctx, tx, rec.Key)
		if err != nil {
			return err
		}
		if had && !req.Retry.Claimable(cur.Record) {
			existing = j.view(cur)
			return nil
		}
		if !had {
			// A forgotten key (Retention): refused, nothing stored.
			f, ok, err := j.forgotten(ctx, tx, rec.Key, req.Retry)
			if ok || err != nil {
				existing = f
				return err
			}
		}
		if adv {
			if err := lockPhones(ctx, tx, rec.Phones); err != nil {
				return err
			}
		}
		if adv && req.Interval > 0 {
			d, err := holds(ctx, tx, rec.Key, rec.Phones, rec.Time, req.Interval)
			if err != nil {
				return err
			}
			if d != nil {
				def := deferral(rec, d)
				if had {
					def = def.Inherit(cur.Record)
				}
				existing = def
				return put(ctx, tx, def)
			}
		}
		rec.State, rec.Claimed = batch.Claimed, rec.Time
		claimed = true
		return put(ctx, tx, rec)
	})
	if err != nil {
		return false, batch.Record{}, fmt.Errorf("autocallriver: claiming %q: %w", rec.Key, err)
	}
	if claimed {
		j.mu.Lock()
		j.own[rec.Key] = rec.Run
		j.mu.Unlock()
	}
	return claimed, existing, nil
}

// deferral is the record of an advertising job the index holds back
// (batch.Deferral's record, as every journal writes it).
func deferral(rec batch.Record, d *batch.Deferral) batch.Record {
	rec.State, rec.Cause, rec.NotBefore, rec.Reason = batch.Unsent, d.Cause, d.NotBefore, d.Error()
	rec.CallIDs, rec.SessionID, rec.Code, rec.Claimed = nil, "", "", time.Time{}
	return rec
}

// Settle implements batch.Journal.
func (j *Journal) Settle(ctx context.Context, rec batch.Record) error {
	if err := j.isClosed(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
		_, err := j.settleTx(ctx, tx, rec, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("autocallriver: settling %q: %w", rec.Key, err)
	}
	j.forget(rec.Key)
	return nil
}

// SettleTx is Settle inside the caller's transaction tx: the outcome is
// written only if tx commits (the worker commits it with the River job's
// completion, JobCompleteTx). After tx commits, call Settled.
func (j *Journal) SettleTx(ctx context.Context, tx pgx.Tx, rec batch.Record) error {
	if err := j.isClosed(); err != nil {
		return err
	}
	_, err := j.settleTx(ctx, tx, rec, nil)
	return err
}

// Settled tells the journal that key's claim is settled (after SettleTx's
// transaction committed): it is no longer this handle's own.
func (j *Journal) Settled(key string) { j.forget(key) }

func (j *Journal) forget(key string) {
	j.mu.Lock()
	delete(j.own, key)
	j.mu.Unlock()
}

// settleTx writes rec Inherit'ed from the stored record; with expect, only
// while the stored record, read as Get reads it, is still expect.
func (j *Journal) settleTx(ctx context.Context, tx pgx.Tx, rec batch.Record, expect *batch.Record) (bool, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	if err := lockKey(ctx, tx, rec.Key); err != nil {
		return false, err
	}
	cur, had, err := get(ctx, tx, rec.Key)
	if err != nil {
		return false, err
	}
	if expect != nil && (!had || !batch.SameRecord(j.view(cur), *expect)) {
		return false, nil
	}
	if had {
		rec = rec.Inherit(cur.Record)
	}
	if rec.Purpose == batch.Advertising {
		if err := lockPhones(ctx, tx, rec.Phones); err != nil {
			return false, err
		}
	}
	return true, put(ctx, tx, rec)
}

// SettleIf implements batch.Journal: a compare and set under the key's lock.
func (j *Journal) SettleIf(ctx context.Context, rec, expect batch.Record) (bool, error) {
	if err := j.isClosed(); err != nil {
		return false, err
	}
	var settled bool
	err := pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
		var err error
		settled, err = j.settleTx(ctx, tx, rec, &expect)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("autocallriver: settling %q: %w", rec.Key, err)
	}
	if settled {
		j.forget(rec.Key)
	}
	return settled, nil
}

// Get implements batch.Journal.
func (j *Journal) Get(ctx context.Context, key string) (batch.Record, bool, error) {
	if err := j.isClosed(); err != nil {
		return batch.Record{}, false, err
	}
	s, ok, err := get(ctx, j.pool, key)
	if err != nil {
		return batch.Record{}, false, fmt.Errorf("autocallriver: reading %q: %w", key, err)
	}
	if !ok {
		return batch.Record{}, false, nil
	}
	return j.view(s), true, nil
}

// Records implements batch.Journal, in the order the keys were first
// written.
func (j *Journal) Records(ctx context.Context) ([]batch.Record, error) {
	return j.records(ctx, "")
}

// Open returns the records of jobs whose outcome is unknown, or claimed
// and in flight: what Resolve and SettleFromEvents look at, without
// reading every record.
func (j *Journal) Open(ctx context.Context) ([]batch.Record, error) {
	return j.records(ctx, `WHERE j.state IN ('claimed', 'unknown')`)
}

func (j *Journal) records(ctx context.Context, where string, args ...any) ([]batch.Record, error) {
	if err := j.isClosed(); err != nil {
		return nil, err
	}
	rows, err := j.pool.Query(ctx, `SELECT `+recordColumns+`
		FROM autocall_job j LEFT JOIN autocall_lease l ON l.run = j.run AND j.state = 'claimed' `+where+` ORDER BY j.seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("autocallriver: reading the journal: %w", err)
	}
	defer rows.Close()
	var out []batch.Record
	for rows.Next() {
		s, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("autocallriver: reading the journal: %w", err)
		}
		out = append(out, j.view(s))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("autocallriver: reading the journal: %w", err)
	}
	return out, nil
}

// Lease implements batch.Journal: run's claims stay live for ttl by the
// database's clock; ttl <= 0 ends the lease, and this handle's own
// unsettled claims of run with it.
func (j *Journal) Lease(ctx context.Context, run string, ttl time.Duration) error {
	if err := j.isClosed(); err != nil {
		return err
	}
	var err error
	if ttl > 0 {
		_, err = j.pool.Exec(ctx, `INSERT INTO autocall_lease (run, expires)
			VALUES ($1, clock_timestamp() + $2 * interval '1 microsecond')
			ON CONFLICT (run) DO UPDATE SET expires = excluded.expires`, run, ttl.Microseconds())
	} else {
		_, err = j.pool.Exec(ctx, `DELETE FROM autocall_lease WHERE run = $1`, run)
		j.mu.Lock()
		for k, r := range j.own {
			if r == run {
				delete(j.own, k)
			}
		}
		j.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("autocallriver: lease of run %q: %w", run, err)
	}
	return nil
}

// Close implements batch.Journal: the handle's unsettled claims are no
// longer its own (they read as their leases say); a pool OpenJournal made
// is closed.
func (j *Journal) Close() error {
	j.mu.Lock()
	j.closed = true
	clear(j.own)
	j.mu.Unlock()
	if j.ownsPool {
		j.pool.Close()
	}
	return nil
}
