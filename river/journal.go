package autocallriver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
// ErrNotMigrated unless Migrate has created its tables. Close leaves the
// pool open.
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
	s.ClaimedAt, s.NotBefore = timeOf(claimed), timeOf(notBefore)
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

func get(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, key string) (stored, bool, error) {
	s, err := scanRecord(q.QueryRow(ctx, getSQL, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return stored{}, false, nil
	}
	return s, err == nil, err
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
	return j.claimUnpaused(ctx, req, "")
}

// claimUnpaused is Claim that, with account set, also reads that
// account's pause (Limiter) in the claim's transaction: while it is
// paused, the job is written Unsent with CauseRate and NotBefore the
// pause's end instead of claimed, and that record returned with claimed
// false. A 429 seen by any replica then holds back every create not yet
// claimed, however long the claim waited.
func (j *Journal) claimUnpaused(ctx context.Context, req batch.ClaimRequest, account string) (bool, batch.Record, error) {
	if err := j.isClosed(); err != nil {
		return false, batch.Record{}, err
	}
	rec := req.Record
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	claimed, existing, err := j.claim(ctx, req, rec, account)
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

// claimNewSQL writes the claim of a key the journal has no record of, no
// tombstone for ($16 when not zero), while the account ($17, when not
// empty) is not paused (pausedSQL's test); else nothing.
const claimNewSQL = `INSERT INTO autocall_job (` + jobColumns + `)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
	WHERE ($16::bigint = 0 OR NOT EXISTS (SELECT 1 FROM autocall_forgotten WHERE hash = $16))
		AND ($17::text = '' OR NOT EXISTS (SELECT 1 FROM autocall_account
			WHERE name = $17 AND paused_until > clock_timestamp()))
	ON CONFLICT (key) DO NOTHING`

// claimNew is the usual claim of a job engine, a key new to the journal
// (no advertising phones), in one round trip: the key's lock, the write
// if nothing is in its way, and COMMIT. Not claimed, with no error, it
// wrote nothing: claim's two round trips find what is in the way.
func (j *Journal) claimNew(ctx context.Context, req batch.ClaimRequest, rec batch.Record, account string) (bool, error) {
	var tomb int64
	if !req.Resend.Forgotten {
		tomb = keyHash(rec.Key)
		if tomb == 0 {
			return false, nil // the hash that means "no check": the long way
		}
	}
	p, err := j.begin(ctx)
	if err != nil {
		return false, err
	}
	defer p.release()
	rec.State, rec.ClaimedAt = batch.Claimed, rec.Time
	var claimed bool
	queueLockKey(p.b, rec.Key)
	p.b.Queue(claimNewSQL, append(recordArgs(rec), tomb, account)...).Exec(func(ct pgconn.CommandTag) error {
		claimed = ct.RowsAffected() == 1
		return nil
	})
	return claimed, p.commit(ctx)
}

// claim is Claim's transaction: the key's lock (and each advertising
// phone's), its record and the index's hold in one round trip, then the
// write and COMMIT in another.
func (j *Journal) claim(ctx context.Context, req batch.ClaimRequest, rec batch.Record, account string) (bool, batch.Record, error) {
	adv := rec.Purpose == batch.Advertising
	if !adv {
		if claimed, err := j.claimNew(ctx, req, rec, account); err != nil || claimed {
			return claimed, batch.Record{}, err
		}
	}
	p, err := j.begin(ctx)
	if err != nil {
		return false, batch.Record{}, err
	}
	defer p.release()
	var cur stored
	var had bool
	var d *batch.Deferral
	queueLockKey(p.b, rec.Key)
	if adv {
		queueLockPhones(p.b, rec.Phones)
	}
	queueGet(p.b, rec.Key, &cur, &had)
	var ts tombstone
	queueTombstone(p.b, rec.Key, req.Resend, &ts) // retention.go
	if adv && req.Interval > 0 {
		queueHolds(p.b, rec.Key, rec.Phones, rec.Time, req.Interval, &d)
	}
	var pausedFor float64
	if account != "" {
		p.b.Queue(pausedSQL, account).QueryRow(func(row pgx.Row) error { return row.Scan(&pausedFor) })
	}
	if err := p.flush(ctx); err != nil {
		return false, batch.Record{}, err
	}
	if had && !req.Resend.Claimable(cur.Record) {
		return false, j.view(cur), p.commit(ctx)
	}
	if !had {
		if f, ok := j.forgottenBy(rec.Key, ts); ok {
			return false, f, p.commit(ctx) // a forgotten key (Retention): nothing stored
		}
	}
	if pausedFor > 0 {
		wait := time.Duration(pausedFor * float64(time.Second))
		def := rec
		def.State, def.Cause, def.NotBefore = batch.Unsent, batch.CauseRate, rec.Time.Add(wait)
		def.Reason = "the account is paused (the provider asked to slow down): not sent before the pause ends"
		def.CallIDs, def.SessionID, def.Code, def.ClaimedAt = nil, "", "", time.Time{}
		if had {
			def = def.Inherit(cur.Record)
		}
		queuePut(p.b, def)
		return false, def, p.commit(ctx)
	}
	if d != nil {
		def := deferral(rec, d)
		if had {
			def = def.Inherit(cur.Record)
		}
		queuePut(p.b, def)
		return false, def, p.commit(ctx)
	}
	rec.State, rec.ClaimedAt = batch.Claimed, rec.Time
	queuePut(p.b, rec)
	return true, batch.Record{}, p.commit(ctx)
}

// deferral is the record of an advertising job the index holds back
// (batch.Deferral's record, as every journal writes it).
func deferral(rec batch.Record, d *batch.Deferral) batch.Record {
	rec.State, rec.Cause, rec.NotBefore, rec.Reason = batch.Unsent, d.Cause, d.NotBefore, d.Error()
	rec.CallIDs, rec.SessionID, rec.Code, rec.ClaimedAt = nil, "", "", time.Time{}
	return rec
}

// Settle implements batch.Journal.
func (j *Journal) Settle(ctx context.Context, rec batch.Record) error {
	if err := j.isClosed(); err != nil {
		return err
	}
	if _, err := j.settle(ctx, rec, nil, nil); err != nil {
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
	return j.settleTx(ctx, tx, rec)
}

// Settled tells the journal that key's claim is settled (after SettleTx's
// transaction committed): it is no longer this handle's own.
func (j *Journal) Settled(key string) { j.forget(key) }

func (j *Journal) forget(key string) {
	j.mu.Lock()
	delete(j.own, key)
	j.mu.Unlock()
}

// settleTx writes rec Inherit'ed from the stored record, in the caller's
// tx (SettleTx).
func (j *Journal) settleTx(ctx context.Context, tx pgx.Tx, rec batch.Record) error {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	var cur stored
	var had bool
	b := &pgx.Batch{}
	queueLockKey(b, rec.Key)
	queueGet(b, rec.Key, &cur, &had)
	if err := run(ctx, tx, b); err != nil {
		return err
	}
	b = &pgx.Batch{}
	queueRecord(b, inherit(rec, cur, had))
	return run(ctx, tx, b)
}

func inherit(rec batch.Record, cur stored, had bool) batch.Record {
	if had {
		rec = rec.Inherit(cur.Record)
	}
	return rec
}

// queueRecord queues the write of a settled record: the phones' locks
// (after the key's) and the record.
func queueRecord(b *pgx.Batch, rec batch.Record) {
	if rec.Purpose == batch.Advertising {
		queueLockPhones(b, rec.Phones)
	}
	queuePut(b, rec)
}

// settle writes rec Inherit'ed from the stored record in a transaction of
// its own; with expect, only while the stored record, read as Get reads
// it, is still expect. complete, when set, runs in the transaction before
// the write, and may queue statements that go with it (River's
// JobCompleteTx and the blanking of an OTP job's code: the job completes
// exactly when its outcome is written).
func (j *Journal) settle(ctx context.Context, rec batch.Record, expect *batch.Record, complete func(context.Context, *pipe) error) (bool, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	p, err := j.begin(ctx)
	if err != nil {
		return false, err
	}
	defer p.release()
	var cur stored
	var had bool
	queueLockKey(p.b, rec.Key)
	queueGet(p.b, rec.Key, &cur, &had)
	if err := p.flush(ctx); err != nil {
		return false, err
	}
	if expect != nil && (!had || !batch.SameRecord(j.view(cur), *expect)) {
		return false, p.commit(ctx)
	}
	if complete != nil {
		if err := complete(ctx, p); err != nil {
			return false, err
		}
	}
	queueRecord(p.b, inherit(rec, cur, had))
	return true, p.commit(ctx)
}

// SettleIf implements batch.Journal: a compare and set under the key's lock.
func (j *Journal) SettleIf(ctx context.Context, rec, expect batch.Record) (bool, error) {
	if err := j.isClosed(); err != nil {
		return false, err
	}
	settled, err := j.settle(ctx, rec, &expect, nil)
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
