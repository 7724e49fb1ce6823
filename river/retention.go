package autocallriver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autocallvn/autocall-go/batch"
)

// Retention (batch.Retention): Compact drops the records the rule lets go,
// in bounded transactions of compactPage records each (never one statement
// over the whole table), and the worker calls it periodically
// (CompactEvery; `autocall-worker run --compact-every`). A dropped Placed
// record leaves a tombstone in autocall_forgotten: the 64-bit
// batch.KeyHash of its key (as a bigint) and the UTC day of its record.
// A claim of a key with no record reads the key's tombstone in its
// transaction, under the key's advisory lock (compaction drops a record
// and writes its tombstone in one transaction, under the same lock), and
// refuses a key whose tombstone stands (batch.Forgotten) unless the
// claim's Resend.Forgotten. A tombstone takes about 80 bytes with its
// row's and its two indexes' overhead (54 MiB for 700,000, BENCHMARKS.md):
// a year of 10,000 keys a day, about 280 MiB.

// migrationRetention is migration 2: the tombstones, and an index that
// finds the settled records by time (an existing database builds it when
// it upgrades; writes to autocall_job wait meanwhile, a few seconds for a
// million records).
const migrationRetention = `
CREATE TABLE autocall_forgotten (
	hash bigint PRIMARY KEY,
	day  integer NOT NULL
);
CREATE INDEX autocall_forgotten_day ON autocall_forgotten (day);
CREATE INDEX autocall_job_settled ON autocall_job (time_ns, seq) WHERE state IN ('placed', 'unsent');`

// A JournalOption configures a Journal (NewJournal, OpenJournal).
type JournalOption func(*journalOptions)

type journalOptions struct {
	retention batch.Retention
	now       func() time.Time // the clock retention judges ages by
	page      int              // records per compaction transaction
}

// WithRetention sets the journal's batch.Retention (the zero Retention:
// the defaults).
func WithRetention(r batch.Retention) JournalOption {
	return func(o *journalOptions) { o.retention = r }
}

// WithClock sets the clock compaction and the tombstone check judge ages
// by (default time.Now).
func WithClock(now func() time.Time) JournalOption {
	return func(o *journalOptions) { o.now = now }
}

// compactPage is how many records one compaction transaction looks at:
// its locks are held for a few milliseconds.
const compactPage = 1000

func journalOpts(opts []JournalOption) journalOptions {
	o := journalOptions{now: time.Now, page: compactPage}
	for _, f := range opts {
		f(&o)
	}
	o.retention = o.retention.Norm()
	return o
}

// forever: a period this long (batch.Retention.Norm's "never") is never
// subtracted from a time.
const forever = time.Duration(1 << 62)

const daySeconds = 24 * 60 * 60

// dayOf is t's UTC day since 1970, as a tombstone keeps it.
func dayOf(t time.Time) int32 {
	s := t.Unix()
	d := s / daySeconds
	if s < 0 && s%daySeconds != 0 {
		d--
	}
	return int32(d)
}

// dayStart and dayEnd bound day d; a tombstone counts from its day's end
// (as every journal's), so that it stands at least Retention.Keys after
// its record.
func dayStart(d int32) time.Time { return time.Unix(int64(d)*daySeconds, 0).UTC() }
func dayEnd(d int32) time.Time   { return dayStart(d + 1) }

// keyHash is batch.KeyHash as Postgres's bigint holds it.
func keyHash(key string) int64 { return int64(batch.KeyHash(key)) }

// tombstone is a key's row in autocall_forgotten, as a claim reads it.
type tombstone struct {
	day   int32
	found bool
}

// queueTombstone queues the read of key's tombstone into ts on b, in the
// claim's transaction, after the key's lock: compaction drops a record
// and writes its tombstone in one transaction, under the same lock. A
// claim with Resend.Forgotten does not read it.
func queueTombstone(b *pgx.Batch, key string, retry batch.Resend, ts *tombstone) {
	if retry.Forgotten {
		return
	}
	b.Queue(`SELECT day FROM autocall_forgotten WHERE hash = $1`, keyHash(key)).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&ts.day)
		ts.found = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
}

// forgottenBy is the record in the way of a claim of key that found no
// record and ts: batch.Forgotten while the tombstone stands.
func (j *Journal) forgottenBy(key string, ts tombstone) (batch.Record, bool) {
	if !ts.found {
		return batch.Record{}, false
	}
	if at := dayEnd(ts.day); j.opts.retention.TombstoneLive(at, j.opts.now()) {
		return batch.Forgotten(key, at), true
	}
	return batch.Record{}, false // expired: forgotten for good
}

// Compact implements batch.Compactor: the settled records past
// Retention.Records are judged by Retention.Fate, compactPage at a time,
// each page in a transaction of its own that takes the keys' advisory
// locks (as every write does), drops what goes, with its entries in the
// advertising index, and writes the tombstones; then the expired
// tombstones go, compactPage at a time. Claims go on meanwhile. Kept and
// Tombstones are the counts at the end.
func (j *Journal) Compact(ctx context.Context) (batch.Compaction, error) {
	var c batch.Compaction
	if err := j.isClosed(); err != nil {
		return c, err
	}
	now, r := j.opts.now(), j.opts.retention
	if r.Records < forever {
		// Fate keeps every record younger than Records: only settled
		// records older than that are looked at.
		cutoff := now.Add(-r.Records).UnixNano()
		after := [2]int64{math.MinInt64, 0} // (time_ns, seq) of the last record looked at
		for {
			n, err := j.compactRecords(ctx, cutoff, &after, now, &c)
			if err != nil {
				return c, fmt.Errorf("autocallriver: compacting the journal: %w", err)
			}
			if n < j.opts.page {
				break
			}
		}
	}
	if r.Keys < forever {
		minDay := dayOf(now.Add(-r.Keys)) // the least day whose tombstones stand
		for {
			tag, err := j.pool.Exec(ctx, `DELETE FROM autocall_forgotten WHERE hash IN (
				SELECT hash FROM autocall_forgotten WHERE day < $1 LIMIT $2)`, minDay, j.opts.page)
			if err != nil {
				return c, fmt.Errorf("autocallriver: dropping expired tombstones: %w", err)
			}
			c.Expired += int(tag.RowsAffected())
			if tag.RowsAffected() < int64(j.opts.page) {
				break
			}
		}
	}
	err := j.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM autocall_job), (SELECT count(*) FROM autocall_forgotten)`).
		Scan(&c.Kept, &c.Tombstones)
	if err != nil {
		return c, fmt.Errorf("autocallriver: counting the journal: %w", err)
	}
	return c, nil
}

// compactRecords judges one page of the settled records older than cutoff
// after *after, in one transaction; it returns how many it looked at.
func (j *Journal) compactRecords(ctx context.Context, cutoff int64, after *[2]int64, now time.Time, c *batch.Compaction) (int, error) {
	var n, forgot, dropped int
	next := *after
	err := pgx.BeginFunc(ctx, j.pool, func(tx pgx.Tx) error {
		n, forgot, dropped, next = 0, 0, 0, *after
		rows, err := tx.Query(ctx, `SELECT key, time_ns, seq FROM autocall_job
			WHERE state IN ('placed', 'unsent') AND time_ns <= $1 AND (time_ns, seq) > ($2, $3)
			ORDER BY time_ns, seq LIMIT $4`, cutoff, after[0], after[1], j.opts.page)
		if err != nil {
			return err
		}
		var keys []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k, &next[0], &next[1]); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if n = len(keys); n == 0 {
			return nil
		}
		// Every write of a key holds its lock: read under the locks, the
		// records are what the drops will drop. Locks in one order (the
		// lock's id), so two compactions never deadlock.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(id) FROM (
				SELECT DISTINCT hashtextextended('autocall:job:' || k, 0) AS id FROM unnest($1::text[]) AS k) s
			ORDER BY id`, keys); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT key, state, time_ns, purpose, not_before_ns FROM autocall_job WHERE key = ANY($1)`, keys)
		if err != nil {
			return err
		}
		var gone []string
		days := map[int64]int32{} // tombstones: hash → latest day
		for rows.Next() {
			var rec batch.Record
			var state, purpose string
			var t int64
			var notBefore *int64
			if err := rows.Scan(&rec.Key, &state, &t, &purpose, &notBefore); err != nil {
				rows.Close()
				return err
			}
			rec.State, rec.Purpose, rec.Time, rec.NotBefore = batch.State(state), batch.Purpose(purpose), time.Unix(0, t), timeOf(notBefore)
			switch j.opts.retention.Fate(rec, now) {
			case batch.Forget:
				h, d := keyHash(rec.Key), dayOf(rec.Time)
				days[h] = max(days[h], d)
				forgot++
			case batch.Drop:
				dropped++
			default:
				continue
			}
			gone = append(gone, rec.Key)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(gone) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `WITH d AS (DELETE FROM autocall_job WHERE key = ANY($1) RETURNING key, phones, purpose)
			DELETE FROM autocall_adcall a USING d, LATERAL unnest(d.phones) AS p(phone)
			WHERE d.purpose = 'advertising' AND a.phone = p.phone AND a.key = d.key`, gone); err != nil {
			return err
		}
		if len(days) == 0 {
			return nil
		}
		hashes, ds := make([]int64, 0, len(days)), make([]int32, 0, len(days))
		for h, d := range days {
			hashes, ds = append(hashes, h), append(ds, d)
		}
		_, err = tx.Exec(ctx, `INSERT INTO autocall_forgotten (hash, day) SELECT * FROM unnest($1::bigint[], $2::integer[])
			ON CONFLICT (hash) DO UPDATE SET day = greatest(autocall_forgotten.day, excluded.day)`, hashes, ds)
		return err
	})
	if err != nil {
		return 0, err
	}
	*after = next
	c.Forgotten += forgot
	c.Dropped += dropped
	return n, nil
}

// Horizon says how far back the journal remembers: its records and
// tombstones now, their oldest.
func (j *Journal) Horizon(ctx context.Context) (batch.Horizon, error) {
	h := batch.Horizon{Retention: j.opts.retention}
	if err := j.isClosed(); err != nil {
		return h, err
	}
	var oldest *int64
	var day *int32
	err := j.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM autocall_job), (SELECT min(time_ns) FROM autocall_job),
		(SELECT count(*) FROM autocall_forgotten), (SELECT min(day) FROM autocall_forgotten)`).
		Scan(&h.Records, &oldest, &h.Keys, &day)
	if err != nil {
		return h, fmt.Errorf("autocallriver: reading the journal's horizon: %w", err)
	}
	h.OldestRecord = timeOf(oldest)
	if day != nil {
		h.OldestKey = dayStart(*day)
	}
	return h, nil
}

// CompactEvery compacts the journal now and every interval until ctx
// ends; each compaction's result (or error: the next one tries again) goes
// to report when it is not nil. The worker runs it (`autocall-worker run
// --compact-every`); several replicas running it at once is safe.
func (j *Journal) CompactEvery(ctx context.Context, every time.Duration, report func(batch.Compaction, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		c, err := j.Compact(ctx)
		if ctx.Err() != nil {
			return
		}
		if report != nil {
			report(c, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

var _ batch.Compactor = (*Journal)(nil)
